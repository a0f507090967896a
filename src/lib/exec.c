/* exec: the command's child, forked by the sandbox's init. It leaves the
 * caller's session and terminal, gets a clean environment and only fds 0, 1
 * and 2, applies the security set-up of the spec (seccomp last) and execs.
 * A failure is reported on the message pipe and ends the child with
 * SBX_EXIT_SETUP, SBX_EXIT_NOEXEC or SBX_EXIT_NOTFOUND. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "run-internal.h"
#include "sandboxctl/security.h"

extern char **environ;

static _Noreturn void exec_fail(const struct sbx_sandbox_ctx *ctx, const char *step, int code,
                                const char *why)
{
        sbx_child_msg_send(ctx->msg_fd, SBX_MSG_SETUP_FAILED, step, code, "%s", why);
        _exit(SBX_EXIT_SETUP);
}

static _Noreturn void exec_fail_errno(const struct sbx_sandbox_ctx *ctx, const char *step,
                                      int code, const char *what)
{
        char why[512];

        snprintf(why, sizeof(why), "%s: %s", what, strerror(code));
        exec_fail(ctx, step, code, why);
}

static _Noreturn void exec_fail_error(const struct sbx_sandbox_ctx *ctx, const char *step,
                                      sbx_error *e)
{
        exec_fail(ctx, step, e ? e->code : EIO, e && e->message ? e->message : "unknown error");
}

/* Undo what init and the supervisor changed: blocked signals and, since
 * ignored signals survive execve, any SIG_IGN. */
static void reset_signals(void)
{
        sigset_t none;

        for (int sig = 1; sig < NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        signal(sig, SIG_DFL);
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
}

static void apply_security(const struct sbx_sandbox_ctx *ctx)
{
        sbx_autoerror e = NULL;
        const struct sbx_spec *spec = ctx->spec;

        if (sbx_rlimits_apply(spec, &e) < 0)
                exec_fail_error(ctx, "rlimits", e);
        if (sbx_caps_apply(spec, &e) < 0)
                exec_fail_error(ctx, "capabilities", e);
        if (spec->security.no_new_privileges && sbx_no_new_privs_set(&e) < 0)
                exec_fail_error(ctx, "no_new_privileges", e);
        int r = ctx->seccomp_prog ? sbx_seccomp_load_prog(ctx->seccomp_prog, &e) :
                                    sbx_seccomp_load(spec, &e);
        if (r < 0)
                exec_fail_error(ctx, "seccomp", e);
}

static _Noreturn void exec_argv(const struct sbx_sandbox_ctx *ctx)
{
        const char *cmd = ctx->argv[0];
        char why[512];

        /* execvp() searches the PATH of environ: make it the sandbox's. */
        environ = ctx->envp;
        execvp(cmd, ctx->argv);
        int e = errno;
        snprintf(why, sizeof(why), "exec %s: %s", cmd, strerror(e));
        sbx_child_msg_send(ctx->msg_fd, SBX_MSG_EXEC_FAILED, "exec", e, "%s", why);
        _exit(e == ENOENT || e == ENOTDIR ? SBX_EXIT_NOTFOUND : SBX_EXIT_NOEXEC);
}

_Noreturn void sbx_exec_command(const struct sbx_sandbox_ctx *ctx)
{
        int r;

        reset_signals();
        if (setsid() < 0)
                exec_fail_errno(ctx, "setsid", errno, "setsid");
        if ((ctx->namespaces & SBX_NS_MOUNT) && chdir(ctx->home) < 0) {
                char what[300];
                snprintf(what, sizeof(what), "chdir %s", ctx->home);
                exec_fail_errno(ctx, "chdir", errno, what);
        }
        r = sbx_close_fds_except(ctx->msg_fd);
        if (r < 0)
                exec_fail_errno(ctx, "close fds", -r, "close_range");
        apply_security(ctx);
        exec_argv(ctx);
}
