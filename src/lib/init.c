/* init: the sandbox's pid 1. It finishes the set-up that has to happen
 * inside the namespaces (hostname, loopback, filesystem), forks the command,
 * then reaps every child (orphans are re-parented to it) and forwards
 * SIGTERM, SIGINT, SIGHUP and SIGQUIT to the command until the command exits.
 *
 * Exit protocol: before exiting, init sends SBX_MSG_COMMAND_STATUS with the
 * command's raw wait status on the message pipe, and exits with the command's
 * code, or 128+N when a signal N killed it (pid 1 cannot re-raise a signal
 * on itself). Any set-up failure sends SBX_MSG_SETUP_FAILED {step, errno,
 * message} and exits SBX_EXIT_SETUP. The supervisor trusts the message
 * first and the exit status second. When init exits, the kernel kills every
 * process left in the pid namespace. */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "run-internal.h"
#include "sandboxctl/mount.h"
#include "sandboxctl/net.h"

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

static _Noreturn void init_fail(const struct sbx_sandbox_ctx *ctx, const char *step, int code,
                                const char *why)
{
        sbx_child_msg_send(ctx->msg_fd, SBX_MSG_SETUP_FAILED, step, code, "%s", why);
        _exit(SBX_EXIT_SETUP);
}

static _Noreturn void init_fail_error(const struct sbx_sandbox_ctx *ctx, const char *step,
                                      sbx_error *e)
{
        init_fail(ctx, step, e ? e->code : EIO, e && e->message ? e->message : "unknown error");
}

/* Wait until the supervisor has written the id maps. EOF means that it died
 * before PR_SET_PDEATHSIG took effect: there is nobody to report to. */
static void wait_for_supervisor(const struct sbx_sandbox_ctx *ctx)
{
        char c;
        ssize_t n;

        do
                n = read(ctx->sync_fd, &c, 1);
        while (n < 0 && errno == EINTR);
        if (n != 1)
                _exit(SBX_EXIT_SETUP);
        if (!ctx->prog_follows)
                close(ctx->sync_fd);
}

static bool read_full(int fd, void *buf, size_t len)
{
        char *p = buf;

        while (len > 0) {
                ssize_t n = read(fd, p, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return false;
                p += n;
                len -= (size_t)n;
        }
        return true;
}

/* The seccomp program the supervisor built meanwhile; false: none came
 * (the command's child then builds it). */
static bool receive_seccomp_prog(const struct sbx_sandbox_ctx *ctx, struct sbx_seccomp_prog *prog)
{
        uint32_t n = 0;
        bool ok = read_full(ctx->sync_fd, &n, sizeof(n)) && n != UINT32_MAX;

        if (ok && n > 0) {
                prog->insns = calloc(n, 8);
                ok = prog->insns && read_full(ctx->sync_fd, prog->insns, (size_t)n * 8);
        }
        close(ctx->sync_fd);
        if (!ok)
                return false;
        prog->len = n;
        return true;
}

static void setup_inside(const struct sbx_sandbox_ctx *ctx)
{
        sbx_autoerror e = NULL;
        const char *hostname = ctx->spec->isolation.hostname;
        char why[512];

        /* Now that init is in the sandbox's cgroup (born there, or attached
         * before the supervisor released it), a new cgroup namespace is
         * rooted there: the sandbox sees its own cgroup as "/". */
        if ((ctx->namespaces & SBX_NS_CGROUP) && unshare(CLONE_NEWCGROUP) < 0) {
                snprintf(why, sizeof(why), "unshare cgroup namespace: %s", strerror(errno));
                init_fail(ctx, "cgroup namespace", errno, why);
        }
        if ((ctx->namespaces & SBX_NS_UTS) && hostname &&
            sethostname(hostname, strlen(hostname)) < 0) {
                snprintf(why, sizeof(why), "sethostname %s: %s", hostname, strerror(errno));
                init_fail(ctx, "hostname", errno, why);
        }
        if ((ctx->namespaces & SBX_NS_NET) && sbx_net_loopback_up(&e) < 0)
                init_fail_error(ctx, "loopback", e);
        if (ctx->namespaces & SBX_NS_MOUNT) {
                struct sbx_mount_ctx mctx = {
                        .spec = ctx->spec,
                        .workspace = ctx->workspace,
                        .scratch_dir = ctx->scratch_dir,
                };
                if (sbx_mount_setup(&mctx, &e) < 0)
                        init_fail_error(ctx, "mount", e);
        }
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

static _Noreturn void supervise_command(const struct sbx_sandbox_ctx *ctx, pid_t command,
                                        const sigset_t *wait_set)
{
        int status = 0;

        for (;;) {
                siginfo_t si;
                int sig = sigwaitinfo(wait_set, &si);
                if (sig < 0)
                        continue; /* EINTR */
                if (sig != SIGCHLD) {
                        kill(command, sig);
                        continue;
                }
                if (reap_children(command, &status))
                        break;
        }
        sbx_child_msg_send(ctx->msg_fd, SBX_MSG_COMMAND_STATUS, "wait", status, "exited");
        _exit(exit_code_of(status));
}

_Noreturn void sbx_init_main(const struct sbx_sandbox_ctx *ctx)
{
        sigset_t wait_set;

        /* The supervisor's death kills the sandbox; the sync read below
         * catches a death that happened before this line. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        /* Into the cgroup before anything else (v1; on v2 init is born
         * there, or the supervisor moves it before the release). */
        if (ctx->self_attach) {
                sbx_autoerror e = NULL;
                if (sbx_cgroup_attach_self(ctx->self_attach, &e) < 0)
                        init_fail_error(ctx, "cgroup", e);
        }
        wait_for_supervisor(ctx);
        /* Keep nothing of the caller's (a leaked fd would be readable
         * through /proc/1/fd otherwise). */
        int r = sbx_close_fds_except2(ctx->msg_fd, ctx->prog_follows ? ctx->sync_fd : -1);
        if (r < 0) {
                char why[128];
                snprintf(why, sizeof(why), "close_range: %s", strerror(-r));
                init_fail(ctx, "close fds", -r, why);
        }
        setup_inside(ctx);
        struct sbx_sandbox_ctx child_ctx = *ctx;
        struct sbx_seccomp_prog prog = { 0 };
        if (ctx->prog_follows && receive_seccomp_prog(ctx, &prog))
                child_ctx.seccomp_prog = &prog;
        /* The command must not ptrace or read /proc/1 of its init. */
        prctl(PR_SET_DUMPABLE, 0);

        /* The forwarded signals are already blocked (by the supervisor,
         * before clone); SIGCHLD too, so that no exit is missed. */
        sbx_forwarded_signals(&wait_set);
        sigaddset(&wait_set, SIGCHLD);
        sigprocmask(SIG_BLOCK, &wait_set, NULL);

        pid_t command = fork();
        if (command < 0) {
                char why[128];
                snprintf(why, sizeof(why), "fork: %s", strerror(errno));
                init_fail(ctx, "fork", errno, why);
        }
        if (command == 0)
                sbx_exec_command(&child_ctx);
        sbx_seccomp_prog_clear(&prog);
        supervise_command(ctx, command, &wait_set);
}
