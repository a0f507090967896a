/* supervise: reaping through a pidfd (with and without waiting), the stop
 * signal of a forwarded signal, kill without a cgroup. No root needed. */
#include <criterion/criterion.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "src/lib/supervise.h"

static int child_pidfd(pid_t *ret_pid, int pipe_r)
{
        pid_t pid = fork();

        cr_assert_geq(pid, 0);
        if (pid == 0) {
                char c;
                /* Wait for the test's word (or the end of the pipe). */
                ssize_t n = read(pipe_r, &c, 1);
                _exit(n == 1 ? c - '0' : 99);
        }
        int fd = (int)syscall(SYS_pidfd_open, pid, 0);
        cr_assert_geq(fd, 0, "pidfd_open");
        *ret_pid = pid;
        return fd;
}

Test(supervise, reap_nohang_then_exit_code_and_usage)
{
        int p[2];
        pid_t pid;
        siginfo_t si;
        struct rusage ru;

        cr_assert_eq(pipe(p), 0);
        int fd = child_pidfd(&pid, p[0]);
        cr_assert_eq(sbx_sandbox_reap(fd, true, &si, &ru, NULL), 0, "still running");
        cr_assert_eq(write(p[1], "7", 1), 1);
        cr_assert_eq(sbx_sandbox_reap(fd, false, &si, &ru, NULL), 1);
        cr_assert_eq(si.si_pid, pid);
        cr_assert_eq(si.si_code, CLD_EXITED);
        cr_assert_eq(si.si_status, 7);
        /* Reaped: nothing more to wait for, an error (not a hang). */
        cr_assert_lt(sbx_sandbox_reap(fd, false, &si, NULL, NULL), 0);
        close(fd);
        close(p[0]);
        close(p[1]);
}

Test(supervise, forwarded_stop_signal_goes_to_init_and_kill_needs_no_cgroup)
{
        int p[2];
        pid_t pid;
        siginfo_t si;

        cr_assert_eq(pipe(p), 0);
        int fd = child_pidfd(&pid, p[0]);
        /* SIGTERM is forwarded by init: it goes to init itself. */
        cr_assert_eq(sbx_sandbox_signal_stop(fd, pid, NULL, SIGTERM, NULL), 1);
        cr_assert_eq(sbx_sandbox_reap(fd, false, &si, NULL, NULL), 1);
        cr_assert_eq(si.si_code, CLD_KILLED);
        cr_assert_eq(si.si_status, SIGTERM);
        close(fd);

        fd = child_pidfd(&pid, p[0]);
        /* Another stop signal goes to the cgroup's processes: none here. */
        cr_assert_lt(sbx_sandbox_signal_stop(fd, pid, NULL, SIGUSR2, NULL), 0);
        sbx_sandbox_kill(fd, NULL);
        cr_assert_eq(sbx_sandbox_reap(fd, false, &si, NULL, NULL), 1);
        cr_assert_eq(si.si_status, SIGKILL);
        close(fd);
        close(p[0]);
        close(p[1]);
}
