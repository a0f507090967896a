/* supervisor: the per-sandbox supervisor process of long-lived sandboxes.
 *
 * `sandboxctl create` makes the state dir, then sbx_supervisor_spawn()
 * double-forks a process in its own session that re-executes sandboxctl as
 * `sandboxctl __supervise STATE_DIR ID READY_FD [--start]`; main() hands that
 * to sbx_supervisor_main(). The supervisor lives until the sandbox is
 * destroyed, stays outside the sandbox's cgroup, and is a single-threaded
 * epoll loop over a signalfd, the pidfd of the sandbox init, timerfds
 * (timeout, stop grace, restart backoff, usage sampling), the pipe carrying
 * the command's stdout and stderr (to the `logs` file) and control.sock. */
#ifndef SBX_SUPERVISOR_H
#define SBX_SUPERVISOR_H

#include <stdbool.h>
#include <sys/types.h>

#include "sandboxctl/error.h"

#define SBX_SUPERVISE_COMMAND "__supervise"

/* Start the supervisor of sandbox `id` (whose state.json exists) and wait
 * until it is ready (with `start`: until the sandbox has started). Returns
 * the supervisor's pid. */
pid_t sbx_supervisor_spawn(const char *state_dir, const char *id, bool start, sbx_error **err);

/* The supervisor process: argv as after "__supervise". Returns an exit code. */
int sbx_supervisor_main(int argc, char **argv);

#endif
