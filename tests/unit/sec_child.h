/* sec_child: run a function in a forked child and collect what it wrote and
 * how it ended, with a bounded wait (pidfd + poll, SIGKILL on timeout).
 * Used by the security module's unit tests, which load filters, drop
 * capabilities and set limits in a child, never in the test process. */
#ifndef SANDBOXCTL_TESTS_SEC_CHILD_H
#define SANDBOXCTL_TESTS_SEC_CHILD_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SEC_CHILD_TIMEOUT_MS 20000

struct sec_child_result {
        int status;   /* waitpid status; -1 if the child timed out */
        char out[8192]; /* what the child wrote to its report fd (its stdout) */
};

/* Append "fmt\n" to the report; async-signal-safe enough for a child that
 * is about to _exit (no stdio buffering). */
__attribute__((format(printf, 1, 2), unused)) static void sec_report(const char *fmt, ...)
{
        char buf[512];
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
        va_end(ap);
        if (n < 0)
                return;
        if ((size_t)n > sizeof(buf) - 2)
                n = sizeof(buf) - 2;
        buf[n++] = '\n';
        (void)!write(STDOUT_FILENO, buf, (size_t)n);
}

/* "name errno" for a call that returned r (< 0 meaning failure with errno). */
__attribute__((unused)) static void sec_report_call(const char *name, long r)
{
        if (r < 0)
                sec_report("%s %s", name, strerrorname_np(errno) ? strerrorname_np(errno) : "?");
        else
                sec_report("%s ok", name);
}

static long sec_now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Read fd until EOF or until timeout_ms have passed. */
static void sec_read_all(int fd, char *buf, size_t size, int timeout_ms)
{
        long deadline = sec_now_ms() + timeout_ms;
        size_t len = 0;
        while (len + 1 < size) {
                long left = deadline - sec_now_ms();
                struct pollfd p = { .fd = fd, .events = POLLIN };
                if (left <= 0 || poll(&p, 1, (int)left) == 0)
                        break;
                ssize_t n = read(fd, buf + len, size - 1 - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                len += (size_t)n;
        }
        buf[len] = '\0';
}

/* Wait for pid at most timeout_ms; SIGKILL and reap it when it overstays. */
static int sec_wait_bounded(pid_t pid, int timeout_ms, int *ret_status)
{
        int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (pfd >= 0) {
                struct pollfd p = { .fd = pfd, .events = POLLIN };
                int r;
                do
                        r = poll(&p, 1, timeout_ms);
                while (r < 0 && errno == EINTR);
                close(pfd);
                if (r == 0) {
                        kill(pid, SIGKILL);
                        waitpid(pid, NULL, 0);
                        return -ETIMEDOUT;
                }
        }
        if (waitpid(pid, ret_status, 0) < 0)
                return -errno;
        return 0;
}

/* Run fn(arg) in a child whose stdout (and stderr) go to a pipe; the child
 * exits with fn's return value. */
__attribute__((unused)) static void sec_run_child(int (*fn)(void *), void *arg,
                                                  struct sec_child_result *res)
{
        int p[2];
        memset(res, 0, sizeof(*res));
        res->status = -1;
        if (pipe2(p, O_CLOEXEC) < 0)
                return;
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0) {
                close(p[0]);
                close(p[1]);
                return;
        }
        if (pid == 0) {
                dup2(p[1], STDOUT_FILENO);
                dup2(p[1], STDERR_FILENO);
                _exit(fn(arg));
        }
        close(p[1]);
        sec_read_all(p[0], res->out, sizeof(res->out), SEC_CHILD_TIMEOUT_MS);
        close(p[0]);
        int status;
        if (sec_wait_bounded(pid, SEC_CHILD_TIMEOUT_MS, &status) == 0)
                res->status = status;
}

#endif
