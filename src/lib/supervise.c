/* supervise: signal, stop, kill and reap a sandbox through its init's pidfd. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "run-internal.h"
#include "sandboxctl/util.h"
#include "supervise.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

int sbx_pidfd_signal(int pidfd, int sig)
{
        return syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0 ? -errno : 0;
}

void sbx_sandbox_kill(int pidfd, struct sbx_cgroup *cg)
{
        if (pidfd >= 0)
                sbx_pidfd_signal(pidfd, SIGKILL);
        if (cg)
                sbx_cgroup_kill(cg, NULL);
}

int sbx_cgroup_signal_except(struct sbx_cgroup *cg, pid_t except, int sig, sbx_error **err)
{
        const char *const *dirs = cg ? sbx_cgroup_dirs(cg) : NULL;
        sbx_autofree char *path = NULL;

        if (!dirs || !dirs[0] || asprintf(&path, "%s/cgroup.procs", dirs[0]) < 0)
                return sbx_error_set(err, ENOENT, "the sandbox has no cgroup");
        FILE *f = fopen(path, "re");
        if (!f)
                return sbx_error_errno(err, errno, "open %s", path);
        int pid, n = 0;
        while (fscanf(f, "%d", &pid) == 1) {
                if (pid != except && kill(pid, sig) == 0)
                        n++;
        }
        fclose(f);
        return n;
}

int sbx_sandbox_signal_stop(int pidfd, pid_t init_pid, struct sbx_cgroup *cg, int sig,
                            sbx_error **err)
{
        sigset_t forwarded;

        sbx_forwarded_signals(&forwarded);
        if (sigismember(&forwarded, sig) != 1)
                return sbx_cgroup_signal_except(cg, init_pid, sig, err);
        int r = sbx_pidfd_signal(pidfd, sig);
        if (r < 0)
                return sbx_error_errno(err, -r, "send signal %d to the sandbox init", sig);
        return 1;
}

int sbx_sandbox_reap(int pidfd, bool nohang, siginfo_t *ret_info, struct rusage *ret_usage,
                     sbx_error **err)
{
        siginfo_t si;
        long r;

        memset(&si, 0, sizeof(si));
        /* The raw waitid() also returns the rusage of init and of every
         * process it reaped. */
        do
                r = syscall(SYS_waitid, P_PIDFD, pidfd, &si,
                            WEXITED | __WALL | (nohang ? WNOHANG : 0), ret_usage);
        while (r < 0 && errno == EINTR);
        if (r < 0 && nohang && errno == EAGAIN)
                return 0;
        if (r < 0)
                return sbx_error_errno(err, errno, "wait for the sandbox init");
        if (si.si_pid == 0)
                return 0;
        *ret_info = si;
        return 1;
}

void sbx_sandbox_read_msgs(int msg_fd, struct sbx_sandbox_msgs *m)
{
        struct sbx_child_msg msg;

        while (read(msg_fd, &msg, sizeof(msg)) == (ssize_t)sizeof(msg)) {
                if (msg.kind == SBX_MSG_COMMAND_STATUS) {
                        m->have_status = true;
                        m->status = msg.code;
                        continue;
                }
                if (m->fail_kind || (msg.kind != SBX_MSG_SETUP_FAILED &&
                                     msg.kind != SBX_MSG_EXEC_FAILED))
                        continue;
                m->fail_kind = msg.kind;
                m->fail_code = msg.code;
                snprintf(m->step, sizeof(m->step), "%.*s", (int)sizeof(msg.step) - 1, msg.step);
                snprintf(m->message, sizeof(m->message), "%.*s", (int)sizeof(msg.message) - 1,
                         msg.message);
        }
}

int sbx_sandbox_exit_code(const struct sbx_sandbox_msgs *m, const siginfo_t *si, int *ret_signal)
{
        *ret_signal = 0;
        if (m->have_status && WIFEXITED(m->status))
                return WEXITSTATUS(m->status);
        if (m->have_status && WIFSIGNALED(m->status))
                *ret_signal = WTERMSIG(m->status);
        else if (si->si_code == CLD_KILLED || si->si_code == CLD_DUMPED)
                *ret_signal = si->si_status; /* init was killed before it could report */
        else
                return si->si_status;
        return 128 + *ret_signal;
}
