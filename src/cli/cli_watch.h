/* cli_watch: the watch command, --watch PATH for create and run, and the
 * foreground loop of `run --watch` (cli_watch.c). */
#ifndef SANDBOXCTL_CLI_WATCH_H
#define SANDBOXCTL_CLI_WATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "sandboxctl/error.h"
#include "sandboxctl/spec.h"

int cli_watch(int argc, char **argv);

/* --watch PATH...: set spec->watch.paths (replacing the profile's) to the
 * PATHs, made relative to *workspace; a PATH that is the workspace itself
 * watches all of it. Without a workspace, the current directory becomes
 * it (*workspace, malloc'd). Each PATH must exist inside the workspace. */
int cli_watch_apply(struct sbx_spec *spec, char **workspace, const char *const *paths, size_t n,
                    sbx_error **err);

/* What `run --watch` needs from run's options. */
struct cli_run_watch {
        const struct sbx_spec *spec; /* resolved, validated, has_watch */
        char *const *argv;
        const char *workspace; /* absolute */
        const char *state_dir;
        const char *cgroup_parent;
        const char *name;
        const char *profile;
        bool json; /* events as JSON lines on stderr */
};

/* Run the sandbox's supervisor loop in this process until SIGINT or
 * SIGTERM, then remove everything. Returns the exit code: 0 after a clean
 * end, 125 when the sandbox could not be set up. */
int cli_run_watch(const struct cli_run_watch *rw);

#endif
