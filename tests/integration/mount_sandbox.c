/* mount_sandbox: a real sandbox around sbx_mount_setup() for the tests. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mount_sandbox.h"
#include "sandboxctl/mount.h"
#include "sandboxctl/profile.h"

#define SANDBOX_TIMEOUT_MS 20000
#define SANDBOX_NAMESPACES \
        (CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC)

int fail(char *msg, size_t size, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, size, fmt, ap);
        va_end(ap);
        return -1;
}

void tmpdir_make(char *buf, size_t size, const char *what)
{
        snprintf(buf, size, "/tmp/sbx-mount-%s-XXXXXX", what);
        cr_assert_not_null(mkdtemp(buf), "mkdtemp %s: %s", buf, strerror(errno));
}

static int remove_entry(const char *p, const struct stat *st, int flag, struct FTW *f)
{
        (void)st, (void)flag, (void)f;
        return remove(p);
}

void tmpdir_remove(const char *dir)
{
        nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static char *read_all(int fd)
{
        size_t len = 0, cap = 0;
        char *buf = NULL;
        for (;;) {
                if (cap - len < 4096) {
                        cap = cap ? cap * 2 : 65536;
                        buf = realloc(buf, cap);
                        cr_assert_not_null(buf);
                }
                ssize_t n = read(fd, buf + len, cap - len - 1);
                if (n <= 0)
                        break;
                len += (size_t)n;
        }
        buf[len] = '\0';
        return buf;
}

static char *read_mountinfo(void)
{
        int fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
        cr_assert_geq(fd, 0, "open mountinfo: %s", strerror(errno));
        char *s = read_all(fd);
        close(fd);
        return s;
}

static bool dir_is_empty(const char *path)
{
        DIR *d = opendir(path);
        if (!d)
                return false;
        struct dirent *de;
        size_t n = 0;
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
                        n++;
        closedir(d);
        return n == 0;
}

static bool wait_readable(int fd, int timeout_ms)
{
        struct pollfd p = { fd, POLLIN, 0 };
        int n;
        do
                n = poll(&p, 1, timeout_ms);
        while (n < 0 && errno == EINTR);
        return n == 1;
}

static int write_text(pid_t pid, const char *file, const char *text)
{
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        ssize_t n = write(fd, text, strlen(text));
        int r = n == (ssize_t)strlen(text) ? 0 : -errno;
        close(fd);
        return r;
}

static int write_maps(pid_t pid)
{
        char map[64];
        snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)getuid());
        int r = write_text(pid, "uid_map", map);
        if (r == 0)
                r = write_text(pid, "setgroups", "deny");
        snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)getgid());
        if (r == 0)
                r = write_text(pid, "gid_map", map);
        return r;
}

static _Noreturn void sandbox_pid1(const struct sbx_mount_ctx *ctx, sandbox_check_fn check,
                                   const void *arg, int res_fd)
{
        static char msg[4096];
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        sbx_error *e = NULL;
        if (sbx_mount_setup(ctx, &e) < 0) {
                dprintf(res_fd, "%s", e && e->message ? e->message : "(no message)");
                _exit(2);
        }
        if (check && check(arg, msg, sizeof(msg)) < 0) {
                dprintf(res_fd, "%s", msg);
                _exit(1);
        }
        _exit(0);
}

static _Noreturn void sandbox_child(const struct sbx_mount_ctx *ctx, sandbox_check_fn check,
                                    const void *arg, int sync_w, int go_r, int res_fd)
{
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (unshare(SANDBOX_NAMESPACES) < 0) {
                dprintf(res_fd, "unshare: %s", strerror(errno));
                _exit(3);
        }
        char c = 'u';
        if (write(sync_w, &c, 1) != 1 || read(go_r, &c, 1) != 1)
                _exit(3);
        pid_t pid = fork();
        if (pid < 0)
                _exit(3);
        if (pid == 0)
                sandbox_pid1(ctx, check, arg, res_fd);
        int st;
        if (waitpid(pid, &st, 0) < 0)
                _exit(3);
        _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
}

/* Parent side: maps, then a bounded wait. Returns the raw status, or -1
 * after killing the child on a timeout, or -2 when the maps failed. */
static int sandbox_wait(pid_t pid, int sync_r, int go_w, int *map_err)
{
        int pidfd = pidfd_open(pid, 0), st = 0, r = 0;
        char c;
        *map_err = 0;
        if (!wait_readable(sync_r, SANDBOX_TIMEOUT_MS) || read(sync_r, &c, 1) != 1)
                r = -2;
        else if ((*map_err = write_maps(pid)) < 0 || write(go_w, "g", 1) != 1)
                r = -2;
        if (r == 0 && !wait_readable(pidfd, SANDBOX_TIMEOUT_MS))
                r = -1;
        if (r < 0)
                kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
        close(pidfd);
        return r < 0 ? r : st;
}

void sandbox_run(const struct sbx_spec *spec, const char *workspace, sandbox_check_fn check,
                 const void *arg, struct sandbox_result *ret)
{
        char scratch[64];
        tmpdir_make(scratch, sizeof(scratch), "scratch");
        char *before = read_mountinfo();
        int sync[2], go[2], res[2];
        cr_assert_eq(pipe2(sync, O_CLOEXEC) | pipe2(go, O_CLOEXEC) | pipe2(res, O_CLOEXEC), 0);
        struct sbx_mount_ctx ctx = { .spec = spec, .workspace = workspace, .scratch_dir = scratch };
        pid_t pid = fork();
        cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
        if (pid == 0) {
                close(sync[0]), close(go[1]), close(res[0]);
                sandbox_child(&ctx, check, arg, sync[1], go[0], res[1]);
        }
        close(sync[1]), close(go[0]), close(res[1]);
        int map_err;
        int st = sandbox_wait(pid, sync[0], go[1], &map_err);
        close(sync[0]), close(go[1]);
        char *out = wait_readable(res[0], 1000) ? read_all(res[0]) : strdup("");
        close(res[0]);
        char *after = read_mountinfo();
        bool same = strcmp(before, after) == 0, empty = dir_is_empty(scratch);
        rmdir(scratch);
        free(before), free(after);
        snprintf(ret->msg, sizeof(ret->msg), "%s", out);
        free(out);
        cr_assert_neq(st, -2, "set up the child's id maps: %s", strerror(-map_err));
        cr_assert_neq(st, -1, "the sandbox did not exit within %d ms", SANDBOX_TIMEOUT_MS);
        ret->exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        cr_assert(same, "the host's mount table changed");
        cr_assert(empty, "the scratch dir %s is not empty", scratch);
}

struct sbx_spec *sandbox_medium_spec(void)
{
        struct sbx_spec *s = NULL;
        sbx_error *e = NULL;
        int r = sbx_profile_load("medium", &s, &e);
        cr_assert_eq(r, 0, "load the medium profile: %s", e && e->message ? e->message : "?");
        return s;
}

void sandbox_spec_free(struct sbx_spec *s)
{
        sbx_spec_free(s);
}

void sandbox_spec_add_bind(struct sbx_spec *s, const char *src, const char *dst, bool ro)
{
        struct sbx_filesystem *fs = &s->filesystem;
        fs->binds = realloc(fs->binds, (fs->n_binds + 1) * sizeof(*fs->binds));
        cr_assert_not_null(fs->binds);
        fs->binds[fs->n_binds++] = (struct sbx_bind){ strdup(src), strdup(dst), ro };
}

void sandbox_spec_set_rootfs(struct sbx_spec *s, const char *dir)
{
        free(s->filesystem.rootfs);
        s->filesystem.rootfs = strdup(dir);
}
