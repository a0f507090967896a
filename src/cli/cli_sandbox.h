/* cli_sandbox: what the commands on existing sandboxes share (lifecycle,
 * inspect, exec, logs): looking a sandbox up, exit codes for the ways that
 * fails, talking to its supervisor. */
#ifndef SANDBOXCTL_CLI_SANDBOX_H
#define SANDBOXCTL_CLI_SANDBOX_H

#include <stdbool.h>

#include "cli.h"
#include "sandboxctl/error.h"
#include "sandboxctl/state.h"

/* Exit codes beyond CLI_EXIT_USAGE, one per way a sandbox can be wrong. */
enum {
        CLI_EXIT_NOT_FOUND = 3,   /* no such sandbox */
        CLI_EXIT_AMBIGUOUS = 4,   /* id prefix matches several */
        CLI_EXIT_CONFLICT = 5,    /* name taken, already running */
        CLI_EXIT_NOT_RUNNING = 6, /* exec, kill: the sandbox does not run */
};

/* --state-dir, else $SANDBOXCTL_STATE_DIR, else /run/sandboxctl. */
const char *cli_state_dir(const char *opt);

/* Print e (prefixed with `what`, may be NULL) and return the exit code for
 * its errno. */
int cli_fail(const sbx_error *e, const char *what);

/* Resolve ref and read its state. Returns CLI_EXIT_OK or an exit code
 * (printed). */
int cli_lookup(const char *state_dir, const char *ref, struct sbx_sandbox **ret);

/* Send a request to the sandbox's supervisor; *ret may be NULL. A dead
 * supervisor is ESRCH "supervisor died". */
int cli_control(const char *state_dir, const struct sbx_sandbox *sb, void *req, int timeout_ms,
                void **ret, sbx_error **err);

/* Parse the options shared by the commands that take one sandbox:
 * [--state-dir DIR] [--json] [-h] ID, plus `extra` options handled by
 * `take` (return < 0 for a usage error already printed). Returns -1 after
 * --help, else an exit code (CLI_EXIT_OK: *ret_ref set). */
struct cli_id_opts {
        const char *state_dir;
        const char *ref;
        bool json;
};

/* "1h2m", "3s", "250ms" for an age or a duration in ms. */
void cli_format_age(uint64_t ms, char *buf, size_t len);
/* ms since the ISO 8601 time `iso` (0 if it cannot be parsed). */
uint64_t cli_age_ms(const char *iso);

#endif
