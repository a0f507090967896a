/* supervise: reaping through a pidfd (with and without waiting), the stop
 * signal of a forwarded signal, kill without a cgroup. No root needed. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "src/lib/run-internal.h"
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

static void send_msg(int fd, uint32_t kind, int code, const char *step, const char *text)
{
        struct sbx_child_msg m = { .kind = kind, .code = code };

        snprintf(m.step, sizeof(m.step), "%s", step);
        snprintf(m.message, sizeof(m.message), "%s", text);
        cr_assert_eq(write(fd, &m, sizeof(m)), (ssize_t)sizeof(m));
}

Test(supervise, messages_first_failure_and_exit_codes)
{
        struct sbx_sandbox_msgs m = { 0 };
        siginfo_t si = { .si_code = CLD_EXITED, .si_status = 125 };
        int p[2], sig;

        cr_assert_eq(pipe2(p, O_NONBLOCK), 0);
        send_msg(p[1], SBX_MSG_EXEC_FAILED, ENOENT, "exec", "nope: not found");
        send_msg(p[1], SBX_MSG_SETUP_FAILED, EIO, "mount", "later, ignored");
        sbx_sandbox_read_msgs(p[0], &m);
        cr_assert_eq(m.fail_kind, SBX_MSG_EXEC_FAILED);
        cr_assert_eq(m.fail_code, ENOENT);
        cr_assert_str_eq(m.step, "exec");
        cr_assert_str_eq(m.message, "nope: not found");
        cr_assert_not(m.have_status);
        cr_assert_eq(sbx_sandbox_exit_code(&m, &si, &sig), 125, "init's own code");
        cr_assert_eq(sig, 0);

        send_msg(p[1], SBX_MSG_COMMAND_STATUS, 9, "", ""); /* killed by SIGKILL */
        sbx_sandbox_read_msgs(p[0], &m);
        cr_assert(m.have_status);
        cr_assert_eq(sbx_sandbox_exit_code(&m, &si, &sig), 137);
        cr_assert_eq(sig, 9);

        m = (struct sbx_sandbox_msgs){ .have_status = true, .status = 3 << 8 }; /* exit 3 */
        cr_assert_eq(sbx_sandbox_exit_code(&m, &si, &sig), 3);
        m = (struct sbx_sandbox_msgs){ 0 };
        si = (siginfo_t){ .si_code = CLD_KILLED, .si_status = SIGTERM };
        cr_assert_eq(sbx_sandbox_exit_code(&m, &si, &sig), 143, "init killed before reporting");
        cr_assert_eq(sig, SIGTERM);
        close(p[0]);
        close(p[1]);
}
