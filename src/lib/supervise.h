/* supervise: what `run` and the long-lived supervisor both do to the sandbox
 * they hold through the pidfd of its init: forward signals, ask it to stop,
 * kill it whole, reap it with its resource usage. */
#ifndef SBX_SUPERVISE_H
#define SBX_SUPERVISE_H

#include <signal.h>
#include <stdbool.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "sandboxctl/cgroup.h"
#include "sandboxctl/error.h"

int sbx_pidfd_signal(int pidfd, int sig);

/* SIGKILL init (the kernel then kills its pid namespace) and every process
 * in cg (may be NULL), at once. */
void sbx_sandbox_kill(int pidfd, struct sbx_cgroup *cg);

/* Send the stop signal: init forwards TERM, INT, HUP and QUIT to the
 * command; any other signal goes to every process in cg but init (which
 * would drop it). Returns the processes signalled (1 for init), or -errno. */
int sbx_sandbox_signal_stop(int pidfd, pid_t init_pid, struct sbx_cgroup *cg, int sig,
                            sbx_error **err);
/* sig to every process in cg but `except`: their count, or -errno. */
int sbx_cgroup_signal_except(struct sbx_cgroup *cg, pid_t except, int sig, sbx_error **err);

/* Reap init: waitid(P_PIDFD), retried on EINTR; ret_usage (may be NULL) gets
 * the rusage of init and of everything it reaped. With nohang, returns 0
 * when init has not exited yet (or was already reaped), 1 once reaped. */
int sbx_sandbox_reap(int pidfd, bool nohang, siginfo_t *ret_info, struct rusage *ret_usage,
                     sbx_error **err);

#endif
