/* lifecycle_helpers: shared by the long-lived sandbox tests: a private state
 * dir and cgroup parent per test, sandboxctl calls that return their exit
 * code and output, state polling with deadlines. */
#ifndef SBX_LIFECYCLE_HELPERS_H
#define SBX_LIFECYCLE_HELPERS_H

#include <jansson.h>
#include <stdbool.h>

#include "harness.h"

void lc_setup(void);
/* Destroy what is left, then assert that nothing remains: no sandbox dir,
 * no supervisor, no cgroup. */
void lc_teardown(void);
const char *lc_state_dir(void);

/* sandboxctl args... (NULL-terminated); r->out / r->err hold the output. */
int lc_sbx(struct run_result *r, ...) __attribute__((sentinel));
/* sandboxctl create [opts] -- sh -c script; returns the id (static buffer per call
 * slot; copy it) or asserts. */
char *lc_create(const char *script, ...) __attribute__((sentinel));
/* `info --json ID`, or NULL if it fails. */
json_t *lc_info(const char *id);
/* The status string of ID ("" if unknown), malloc'd. */
char *lc_status(const char *id);
/* Poll until ID's status is `status` (within timeout_s). */
bool lc_wait_status(const char *id, const char *status, double timeout_s);
/* Number of events of `type` for id in the registry log. */
int lc_count_events(const char *id, const char *type);
/* Is a process with this pid alive (not a zombie)? */
bool lc_pid_alive(int pid);
/* Number of sandbox dirs (16 hex digits) in the state dir. */
int lc_sandbox_dirs(void);

#endif
