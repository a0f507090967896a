/* cli: the sandboxctl command line. main.c parses the global options and
 * dispatches to one function per command; each command group lives in its
 * own file (cli_profile.c, cli_version.c, ...).
 *
 * A command function gets argv with argv[0] = the command name and returns
 * the process exit code: CLI_EXIT_OK, CLI_EXIT_FAILURE or CLI_EXIT_USAGE.
 * To add a command: declare it here, add a row to the table in main.c, and
 * document it in docs/cli.md and docs/sandboxctl.1.scd. */
#ifndef SANDBOXCTL_CLI_H
#define SANDBOXCTL_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>

#include "sandboxctl/log.h"

enum {
        CLI_EXIT_OK = 0,
        CLI_EXIT_FAILURE = 1,
        CLI_EXIT_USAGE = 2,
};

struct cli_command {
        const char *name;
        int (*run)(int argc, char **argv);
        const char *summary;
};

/* The dispatch table (main.c), terminated by a row with name NULL. */
extern const struct cli_command cli_commands[];

/* Commands. */
int cli_help(int argc, char **argv);
int cli_profile(int argc, char **argv);
int cli_version(int argc, char **argv);
int cli_run(int argc, char **argv);
int cli_gc(int argc, char **argv);
/* Long-lived sandboxes (cli_create.c, cli_lifecycle.c, cli_inspect.c, cli_ps.c,
 * cli_exec.c, cli_logs.c). */
int cli_create(int argc, char **argv);
int cli_start(int argc, char **argv);
int cli_stop(int argc, char **argv);
int cli_restart(int argc, char **argv);
int cli_kill(int argc, char **argv);
int cli_destroy(int argc, char **argv);
int cli_list(int argc, char **argv);
int cli_info(int argc, char **argv);
int cli_stats(int argc, char **argv);
int cli_ps(int argc, char **argv);
int cli_exec(int argc, char **argv);
int cli_logs(int argc, char **argv);
int cli_events(int argc, char **argv);

/* The log format chosen with --log-format (hints are only printed as text). */
enum sbx_log_format cli_log_format(void);

/* Print "sandboxctl: <message>" and, in text mode, "Run 'sandboxctl
 * <where> --help' for usage." (`where` may be NULL or ""), and return
 * CLI_EXIT_USAGE. */
int cli_usage_error(const char *where, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* getopt_long() with our own messages: on an unknown option, a missing or an
 * unexpected argument it prints a usage error naming the option (with a
 * did-you-mean for long options) and returns '?'. `where` is the command
 * path for the usage hint ("profile show"). Reset optind = 0 before the
 * first call on a new argv. */
int cli_getopt(int argc, char **argv, const char *optstring, const struct option *longopts,
               const char *where);

/* The candidate closest to `word` (edit distance), or NULL if none is close
 * enough to be a plausible typo. */
const char *cli_suggest(const char *word, const char *const *candidates, size_t n);

/* Run a subcommand from a table like cli_commands (for "profile list" etc.):
 * handles a missing, an unknown and a did-you-mean subcommand. `group` is
 * the parent command's name; `usage` prints the group's help. */
int cli_dispatch(const char *group, const struct cli_command *table, int argc, char **argv,
                 void (*usage)(void));

/* Run argv[0] from `table` (argv[0] is the command name, argv[1..] its
 * arguments); a missing or unknown command is a usage error with a
 * did-you-mean. `group` is NULL for the top level, else e.g. "profile". */
int cli_run_command(const char *group, const struct cli_command *table, int argc, char **argv);

/* Print the rows of a command table, aligned, for help texts. */
void cli_print_commands(const struct cli_command *table);

/* Write a JSON value (jansson json_t *) to stdout, indented, with a newline.
 * Takes the reference. Returns CLI_EXIT_OK or CLI_EXIT_FAILURE. */
int cli_print_json(void *json);

#endif
