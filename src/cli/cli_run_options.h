/* cli_run_options: the options `run` and `create` share (one table, one
 * parser, one help text), and applying them onto a profile's spec. */
#ifndef SANDBOXCTL_CLI_RUN_OPTIONS_H
#define SANDBOXCTL_CLI_RUN_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sandboxctl/error.h"
#include "sandboxctl/spec.h"

/* Which command an option belongs to (a bit mask in the option table). */
enum cli_run_command {
        CLI_RUN_CMD_RUN = 1u << 0,
        CLI_RUN_CMD_CREATE = 1u << 1,
};

/* What the command line asked for; NULL or 0 where it said nothing. */
struct cli_run_options {
        enum cli_run_command command;
        const char *profile, *workspace, *rootfs, *memory, *pids, *cpu, *timeout, *network;
        const char *hostname, *name, *state_dir, *cgroup_parent;
        const char *report;            /* run */
        const char *restart, *log_max; /* create */
        const char **env;
        size_t n_env;
        const char **watch; /* --watch PATH (cli_watch.c) */
        size_t n_watch;
        bool quiet, json, no_start;
};

/* Print the option lines of `command`'s help, from the option table. */
void cli_run_options_help(enum cli_run_command command);

/* Parse argv (argv[0] = the command name) up to the first "--"; *ret_cmd is
 * what follows it. `usage` prints the command's help. Returns CLI_EXIT_OK,
 * CLI_EXIT_USAGE (printed), or -1 after --help. Free o with
 * cli_run_options_clear() in every case. */
int cli_run_options_parse(enum cli_run_command command, int argc, char **argv,
                          void (*usage)(void), struct cli_run_options *o, char ***ret_cmd);

void cli_run_options_clear(struct cli_run_options *o);

/* A command-line limit: "none" or "unlimited" (and 0s for a timeout) is 0,
 * no limit, as in profiles. */
int cli_parse_timeout(const char *s, uint64_t *ret_ms, sbx_error **err);

/* Apply the overrides (limits, network, env, hostname, rootfs) onto spec.
 * An error names the option. */
int cli_run_options_apply(const struct cli_run_options *o, struct sbx_spec *spec,
                          sbx_error **err);

/* --workspace DIR as an absolute, existing host directory (malloc'd). */
int cli_run_options_workspace(const char *dir, char **ret, sbx_error **err);

#endif
