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
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "run-internal.h"
#include "sandboxctl/mount.h"
#include "sandboxctl/net.h"

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

/* The command's child: wait until init has hidden itself (EOF on the
 * ready pipe: sandboxctl-init closed it, or init died). */
static void wait_ready(int ready[2])
{
        char c;

        close(ready[1]);
        while (read(ready[0], &c, 1) < 0 && errno == EINTR)
                ;
        close(ready[0]);
}

static void reopen_stdin(void)
{
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);

        if (null >= 0) {
                dup2(null, 0);
                close(null);
        }
}

static bool clear_cloexec(int fd)
{
        int flags = fcntl(fd, F_GETFD);
        return flags >= 0 && fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC) == 0;
}

/* Become sandboxctl-init, from its bind inside the sandbox: every mapping
 * of pid 1 is then on the sandbox's own mounts (CRIU can dump it). On
 * failure, init stays what it is (and the command goes on). */
static void exec_static_init(const struct sbx_sandbox_ctx *ctx, pid_t command, int ready[2])
{
        char msg[16], pid[16], rd[16];
        char *argv[] = { "sandboxctl-init", msg, pid, rd, NULL };
        char *envp[] = { NULL };

        close(ready[0]);
        snprintf(msg, sizeof(msg), "%d", ctx->msg_fd);
        snprintf(pid, sizeof(pid), "%d", (int)command);
        snprintf(rd, sizeof(rd), "%d", ready[1]);
        if (clear_cloexec(ctx->msg_fd) && clear_cloexec(ready[1]))
                execve(SBX_INIT_PATH, argv, envp);
        close(ready[1]);
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
                        .init_exe = ctx->init_exe,
                };
                if (sbx_mount_setup(&mctx, &e) < 0)
                        init_fail_error(ctx, "mount", e);
        }
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

        int ready[2] = { -1, -1 };
        bool exec_init = ctx->init_exe && (ctx->namespaces & SBX_NS_MOUNT);
        if (exec_init && pipe2(ready, O_CLOEXEC) < 0)
                exec_init = false;
        /* stdin: the sandbox's /dev/null rather than the host's, whose
         * mount CRIU would not find in the sandbox; and a session of its
         * own (CRIU wants the session leader inside the pid namespace). */
        if (exec_init) {
                reopen_stdin();
                setsid();
        }
        pid_t command = fork();
        if (command < 0) {
                char why[128];
                snprintf(why, sizeof(why), "fork: %s", strerror(errno));
                init_fail(ctx, "fork", errno, why);
        }
        if (command == 0) {
                if (exec_init)
                        wait_ready(ready);
                sbx_exec_command(&child_ctx);
        }
        sbx_seccomp_prog_clear(&prog);
        if (exec_init)
                exec_static_init(ctx, command, ready);
        sbx_init_supervise(ctx->msg_fd, command, NULL);
}
