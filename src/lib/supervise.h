/* supervise: what `run` and the long-lived supervisor both do to the sandbox
 * they hold through the pidfd of its init: forward signals, ask it to stop,
 * kill it whole, reap it with its resource usage. */
#ifndef SBX_SUPERVISE_H
#define SBX_SUPERVISE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
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

/* What the sandbox said on its message pipe (sbx_child_msg): the command's
 * wait status, and the first failure of its set-up or exec. */
struct sbx_sandbox_msgs {
        bool have_status;
        int status;         /* the command's wait status */
        uint32_t fail_kind; /* SBX_MSG_SETUP_FAILED or SBX_MSG_EXEC_FAILED, or 0 */
        int fail_code;      /* its errno */
        char step[32];
        char message[1024];
};

/* Add the messages queued on the non-blocking msg_fd to m. */
void sbx_sandbox_read_msgs(int msg_fd, struct sbx_sandbox_msgs *m);
/* The command's exit code: its own status, else how init ended (si); 128+N
 * for signal N (then *ret_signal = N, else 0). */
int sbx_sandbox_exit_code(const struct sbx_sandbox_msgs *m, const siginfo_t *si, int *ret_signal);

#endif
