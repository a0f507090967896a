/* join: exec into a running sandbox (see join.h).
 *
 *   caller --fork--> helper: join cgroup, setns(init pidfd), [open ptmx]
 *                      --fork--> command: setsid, [pty], chdir, close fds,
 *                                rlimits, caps, no_new_privs, seccomp, exec
 *                      helper: [copy tty] wait, exit with the command's status
 *
 * Failures in the helper or the command travel back on a pipe as
 * sbx_child_msg (run-internal.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "run-internal.h"
#include "sandboxctl/cgroup.h"
#include "sandboxctl/join.h"
#include "sandboxctl/security.h"
#include "sandboxctl/util.h"

static const struct {
        unsigned bit;
        int flag;
} join_flags[] = {
        { SBX_NS_USER, CLONE_NEWUSER }, { SBX_NS_PID, CLONE_NEWPID },
        { SBX_NS_MOUNT, CLONE_NEWNS },  { SBX_NS_UTS, CLONE_NEWUTS },
        { SBX_NS_IPC, CLONE_NEWIPC },   { SBX_NS_NET, CLONE_NEWNET },
        { SBX_NS_CGROUP, CLONE_NEWCGROUP },
};

struct join_ctx {
        const struct sbx_join_config *cfg;
        int pidfd;
        int msg_fd; /* write end */
        int sync_fd; /* read end: the caller has placed the helper in the cgroup */
        const struct sbx_cgroup *self_attach; /* v1: the helper moves itself in */
        struct sbx_cgroup *cg;
};

static _Noreturn void fail(const struct join_ctx *c, const char *step, int code, const char *what)
{
        sbx_child_msg_send(c->msg_fd, SBX_MSG_SETUP_FAILED, step, code, "%s: %s", what,
                           strerror(code));
        _exit(SBX_EXIT_SETUP);
}

static _Noreturn void fail_error(const struct join_ctx *c, const char *step, sbx_error *e)
{
        sbx_child_msg_send(c->msg_fd, SBX_MSG_SETUP_FAILED, step, e ? e->code : EIO, "%s",
                           e && e->message ? e->message : "unknown error");
        _exit(SBX_EXIT_SETUP);
}

static void reset_signals(void)
{
        sigset_t none;

        for (int sig = 1; sig < NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        signal(sig, SIG_DFL);
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
}

static void command_tty(const struct join_ctx *c, const char *pts)
{
        int fd = open(pts, O_RDWR | O_CLOEXEC);

        if (fd < 0)
                fail(c, "tty", errno, pts);
        if (ioctl(fd, TIOCSCTTY, 0) < 0)
                fail(c, "tty", errno, "TIOCSCTTY");
        if (dup2(fd, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
                fail(c, "tty", errno, "dup2");
        close(fd);
}

static _Noreturn void run_command(const struct join_ctx *c, const char *pts)
{
        const struct sbx_spec *spec = c->cfg->spec;
        sbx_autoerror e = NULL;

        reset_signals();
        if (setsid() < 0)
                fail(c, "setsid", errno, "setsid");
        if (pts)
                command_tty(c, pts);
        if (chdir(c->cfg->cwd ? c->cfg->cwd : "/") < 0 && chdir("/") < 0)
                fail(c, "chdir", errno, "chdir");
        int r = sbx_close_fds_except(c->msg_fd);
        if (r < 0)
                fail(c, "close fds", -r, "close_range");
        if (sbx_rlimits_apply(spec, &e) < 0)
                fail_error(c, "rlimits", e);
        if (sbx_caps_apply(spec, &e) < 0)
                fail_error(c, "capabilities", e);
        if (spec->security.no_new_privileges && sbx_no_new_privs_set(&e) < 0)
                fail_error(c, "no_new_privileges", e);
        if (sbx_seccomp_load(spec, &e) < 0)
                fail_error(c, "seccomp", e);
        execvpe(c->cfg->argv[0], c->cfg->argv, c->cfg->envp);
        int en = errno;
        sbx_child_msg_send(c->msg_fd, SBX_MSG_EXEC_FAILED, "exec", en, "exec %s: %s",
                           c->cfg->argv[0], strerror(en));
        _exit(en == ENOENT || en == ENOTDIR ? SBX_EXIT_NOTFOUND : SBX_EXIT_NOEXEC);
}

static bool copy_fd(int from, int to)
{
        char buf[4096];
        ssize_t n = read(from, buf, sizeof(buf));

        if (n <= 0)
                return false;
        for (ssize_t off = 0; off < n;) {
                ssize_t w = write(to, buf + off, (size_t)(n - off));
                if (w <= 0)
                        return false;
                off += w;
        }
        return true;
}

/* Copy stdin to the pty and the pty to stdout until the pty closes. */
static void relay_tty(int master)
{
        struct pollfd p[2] = { { .fd = 0, .events = POLLIN }, { .fd = master, .events = POLLIN } };

        for (;;) {
                if (poll(p, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return;
                }
                if (p[0].revents && !copy_fd(0, master))
                        p[0].fd = -1; /* stdin ended: the command keeps its tty */
                if (p[1].revents && !copy_fd(master, 1))
                        return;
        }
}

static int open_pty(const struct join_ctx *c, char *pts, size_t len)
{
        int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);

        if (master < 0)
                fail(c, "tty", errno, "open /dev/ptmx in the sandbox");
        if (unlockpt(master) < 0 || ptsname_r(master, pts, len) != 0)
                fail(c, "tty", errno, "unlockpt");
        return master;
}

static int status_code(int status)
{
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : SBX_EXIT_SETUP;
}

static int join_namespaces(const struct join_ctx *c)
{
        unsigned ns = sbx_ns_for_spec(c->cfg->spec);
        int flags = 0;

        for (size_t i = 0; i < SBX_ARRAY_SIZE(join_flags); i++)
                if (ns & join_flags[i].bit)
                        flags |= join_flags[i].flag;
        return setns(c->pidfd, flags) < 0 ? -errno : 0;
}

static _Noreturn void helper(struct join_ctx *c)
{
        sbx_autoerror e = NULL;
        char pts[128];
        int master = -1;

        signal(SIGPIPE, SIG_IGN);
        /* Into the sandbox's cgroup first, as `run` places its init: born
         * there (v2), or moving itself in (v1); then wait for the caller. */
        if (c->self_attach && sbx_cgroup_attach_self(c->self_attach, &e) < 0)
                fail_error(c, "cgroup", e);
        if (c->cg)
                sbx_cgroup_self_attach_close(c->cg); /* not into the sandbox's namespaces */
        char go;
        if (read(c->sync_fd, &go, 1) != 1)
                _exit(SBX_EXIT_SETUP);
        close(c->sync_fd);
        int r = join_namespaces(c);
        if (r < 0)
                fail(c, "setns", -r, "setns into the sandbox's namespaces");
        if (c->cfg->tty)
                master = open_pty(c, pts, sizeof(pts));
        pid_t pid = fork();
        if (pid < 0)
                fail(c, "fork", errno, "fork");
        if (pid == 0)
                run_command(c, master >= 0 ? pts : NULL);
        close(c->msg_fd);
        if (master >= 0)
                relay_tty(master);
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        _exit(SBX_EXIT_SETUP);
        _exit(status_code(status));
}

static int open_init(const struct sbx_sandbox *sb, sbx_error **err)
{
        if (sb->status != SBX_STATUS_RUNNING || sb->init_pid <= 0)
                return sbx_error_set(err, ESRCH, "sandbox %s is not running (%s)", sb->id,
                                     sbx_status_to_string(sb->status));
        int fd = (int)syscall(SYS_pidfd_open, sb->init_pid, 0);
        if (fd < 0 || !sbx_sandbox_init_alive(sb)) {
                if (fd >= 0)
                        close(fd);
                return sbx_error_set(err, ESRCH, "sandbox %s is not running", sb->id);
        }
        return fd;
}

/* Read the helper's report; returns 0 or the error it sent. */
static int read_report(int fd, int *exit_code, sbx_error **err)
{
        struct sbx_child_msg msg;

        while (read(fd, &msg, sizeof(msg)) == (ssize_t)sizeof(msg)) {
                msg.step[sizeof(msg.step) - 1] = '\0';
                msg.message[sizeof(msg.message) - 1] = '\0';
                if (msg.kind == SBX_MSG_SETUP_FAILED)
                        return sbx_error_set(err, msg.code > 0 ? msg.code : EIO, "join %s: %s",
                                             msg.step, msg.message);
                if (msg.kind == SBX_MSG_EXEC_FAILED) {
                        *exit_code = msg.code == ENOENT || msg.code == ENOTDIR ? SBX_EXIT_NOTFOUND
                                                                               : SBX_EXIT_NOEXEC;
                        return sbx_error_set(err, msg.code > 0 ? msg.code : EIO, "%s",
                                             msg.message);
                }
        }
        return 0;
}

/* The helper, placed in cg (may be NULL) like `run` places its init. */
static pid_t start_helper(struct join_ctx *c, struct sbx_cgroup *cg, int msg[2], sbx_error **err)
{
        int sync[2], cgroup_fd, helper_pidfd = -1;
        bool placed = false;
        int r = sbx_run_cgroup_place_prepare(cg, &cgroup_fd, &c->self_attach, err);

        if (r < 0)
                return r;
        if (pipe2(sync, O_CLOEXEC) < 0) {
                r = sbx_error_errno(err, errno, "pipe");
                sbx_run_cgroup_place_finish(cg, true, -1, false, NULL);
                return r;
        }
        c->sync_fd = sync[0];
        pid_t pid = sbx_ns_clone(0, cgroup_fd, &helper_pidfd, &placed, err);
        if (pid == 0) {
                close(msg[0]);
                close(sync[1]);
                helper(c);
        }
        close(sync[0]);
        sbx_autoclose int release_fd = sync[1];
        r = sbx_run_cgroup_place_finish(cg, c->self_attach != NULL, pid, placed, err);
        if (pid < 0)
                return pid;
        close(helper_pidfd);
        if (r >= 0 && write(release_fd, "g", 1) != 1)
                r = sbx_error_errno(err, errno, "release the exec helper");
        if (r < 0) {
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
                return r;
        }
        return pid;
}

int sbx_join_exec(const struct sbx_join_config *cfg, int *ret_exit_code, sbx_error **err)
{
        __attribute__((cleanup(sbx_cgroup_freep))) struct sbx_cgroup *cg = NULL;
        int msg[2], status;

        sbx_autoclose int pidfd = open_init(cfg->sb, err);
        if (pidfd < 0)
                return pidfd;
        if (cfg->sb->cgroup && sbx_cgroup_open(cfg->sb->cgroup_parent, cfg->sb->id, &cg, err) < 0)
                return sbx_error_prefix(err, -ESRCH, "sandbox %s", cfg->sb->id);
        if (pipe2(msg, O_CLOEXEC) < 0)
                return sbx_error_errno(err, errno, "pipe");
        struct join_ctx c = { .cfg = cfg, .pidfd = pidfd, .msg_fd = msg[1], .sync_fd = -1,
                              .cg = cg };
        pid_t pid = start_helper(&c, cg, msg, err);
        close(msg[1]);
        sbx_autoclose int rd = msg[0];
        if (pid < 0)
                return pid;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return sbx_error_errno(err, errno, "wait for the exec helper");
        int code = status_code(status);
        int r = read_report(rd, &code, err);
        if (r >= 0 || code == SBX_EXIT_NOTFOUND || code == SBX_EXIT_NOEXEC)
                *ret_exit_code = code;
        return r;
}
