/* spawn: start a supervisor away from the CLI (double fork, new session,
 * re-exec of sandboxctl) and wait for it to say that it is ready. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandboxctl/util.h"
#include "src/lib/run-internal.h"
#include "supervisor.h"

#define READY_TIMEOUT_MS 30000

/* The grandchild: stdio on /dev/null, the ready pipe on fd 3, nothing else. */
static _Noreturn void exec_supervisor(const char *state_dir, const char *id, bool start,
                                      int ready_w, int pid_w)
{
        pid_t me = getpid();
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        sigset_t none;

        if (write(pid_w, &me, sizeof(me)) != (ssize_t)sizeof(me) || null < 0)
                _exit(127);
        if (dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0 || dup2(ready_w, 3) < 0)
                _exit(127);
        sbx_close_fds_except(3);
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        char *argv[] = { (char *)"sandboxctl", (char *)SBX_SUPERVISE_COMMAND, (char *)state_dir,
                         (char *)id, (char *)"3", start ? (char *)"--start" : NULL, NULL };
        execv("/proc/self/exe", argv);
        _exit(127);
}

static int read_ready(int fd, char *buf, size_t len, sbx_error **err)
{
        struct pollfd p = { .fd = fd, .events = POLLIN };
        size_t got = 0;

        for (;;) {
                int n = poll(&p, 1, READY_TIMEOUT_MS);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return sbx_error_set(err, ETIMEDOUT,
                                             "supervisor: not ready within %d ms", READY_TIMEOUT_MS);
                ssize_t r = read(fd, buf + got, len - 1 - got);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        break;
                got += (size_t)r;
                if (got == len - 1)
                        break;
        }
        buf[got] = '\0';
        return 0;
}

pid_t sbx_supervisor_spawn(const char *state_dir, const char *id, bool start, sbx_error **err)
{
        int ready[2], pids[2];

        if (pipe2(ready, O_CLOEXEC) < 0)
                return sbx_error_errno(err, errno, "pipe");
        if (pipe2(pids, O_CLOEXEC) < 0) {
                int e = errno;
                close(ready[0]);
                close(ready[1]);
                return sbx_error_errno(err, e, "pipe");
        }
        pid_t child = fork();
        if (child == 0) {
                setsid();
                pid_t g = fork();
                if (g == 0)
                        exec_supervisor(state_dir, id, start, ready[1], pids[1]);
                _exit(g < 0 ? 1 : 0);
        }
        close(ready[1]);
        close(pids[1]);
        sbx_autoclose int ready_r = ready[0];
        sbx_autoclose int pids_r = pids[0];
        if (child < 0)
                return sbx_error_errno(err, errno, "fork");
        int status;
        while (waitpid(child, &status, 0) < 0 && errno == EINTR)
                ;
        pid_t sv = 0;
        if (read(pids_r, &sv, sizeof(sv)) != (ssize_t)sizeof(sv) || sv <= 0)
                return sbx_error_set(err, ECHILD, "supervisor: fork failed");
        char msg[1200];
        int r = read_ready(ready_r, msg, sizeof(msg), err);
        if (r < 0)
                return r;
        if (strcmp(msg, "ok") == 0)
                return sv;
        if (strncmp(msg, "error: ", 7) == 0)
                return sbx_error_set(err, EIO, "%s", msg + 7);
        return sbx_error_set(err, EIO, "supervisor exited before it was ready");
}
