/* init_loop: what pid 1 of a sandbox does once the command runs: reap every
 * child, forward signals to the command, report the command's status. Used
 * by init.c (in the fork of sandboxctl) and by the static sandboxctl-init
 * (src/init), so it needs nothing but libc. */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "src/lib/run-internal.h"

void sbx_child_msg_send(int fd, enum sbx_child_msg_kind kind, const char *step, int code,
                        const char *fmt, ...)
{
        struct sbx_child_msg msg;

        memset(&msg, 0, sizeof(msg));
        msg.kind = (uint32_t)kind;
        msg.code = code;
        snprintf(msg.step, sizeof(msg.step), "%s", step);
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg.message, sizeof(msg.message), fmt, ap);
        va_end(ap);
        ssize_t n = write(fd, &msg, sizeof(msg));
        (void)n;
}

void sbx_forwarded_signals(sigset_t *ret_set)
{
        sigemptyset(ret_set);
        sigaddset(ret_set, SIGTERM);
        sigaddset(ret_set, SIGINT);
        sigaddset(ret_set, SIGHUP);
        sigaddset(ret_set, SIGQUIT);
}

static int exit_code_of(int status)
{
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        if (WIFSIGNALED(status))
                return 128 + WTERMSIG(status);
        return SBX_EXIT_SETUP;
}

/* Reap every child that has exited; return true once the command has. */
static bool reap_children(pid_t command, int *ret_status)
{
        int status;
        pid_t pid;
        bool done = false;

        while ((pid = waitpid(-1, &status, WNOHANG | __WALL)) > 0) {
                if (pid == command) {
                        *ret_status = status;
                        done = true;
                }
        }
        return done;
}

/* SBX_INIT_REEXEC_SIGNAL from outside the sandbox (si_pid 0: a sender in
 * an ancestor pid namespace): exec `reexec` again, same pid, same children. */
static void maybe_reexec(const siginfo_t *si, char *const *reexec)
{
        char *envp[] = { NULL };

        if (reexec && si->si_pid == 0)
                execve(SBX_INIT_PATH, reexec, envp);
}

_Noreturn void sbx_init_supervise(int msg_fd, pid_t command, char *const *reexec)
{
        sigset_t wait_set;
        int status = 0;

        /* Blocked already (before the command was forked); a child that
         * ended before this call left its SIGCHLD pending. */
        sbx_forwarded_signals(&wait_set);
        sigaddset(&wait_set, SIGCHLD);
        if (reexec)
                sigaddset(&wait_set, SBX_INIT_REEXEC_SIGNAL);
        sigprocmask(SIG_BLOCK, &wait_set, NULL);
        if (!reap_children(command, &status)) {
                for (;;) {
                        siginfo_t si;
                        int sig = sigwaitinfo(&wait_set, &si);
                        if (sig < 0)
                                continue; /* EINTR */
                        if (sig == SBX_INIT_REEXEC_SIGNAL && reexec) {
                                maybe_reexec(&si, reexec);
                                continue;
                        }
                        if (sig != SIGCHLD) {
                                kill(command, sig);
                                continue;
                        }
                        if (reap_children(command, &status))
                                break;
                }
        }
        sbx_child_msg_send(msg_fd, SBX_MSG_COMMAND_STATUS, "wait", status, "exited");
        _exit(exit_code_of(status));
}
