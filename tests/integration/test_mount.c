/* Integration tests of the sandbox filesystem (sbx_mount_setup), as root:
 * each test builds a real sandbox (mount_sandbox.h) and checks from inside
 * what it sees; after it, the host's mount table is unchanged and the
 * scratch dir is empty (asserted by sandbox_run for every test). */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "harness.h"
#include "sandboxctl/util.h"
#include "mount_sandbox.h"

#define MIB (1024ull * 1024ull)

/* Inside checks: `msg` and `size` are the check function's parameters. */
#define CHECK(cond, ...)                                     \
        do {                                                 \
                if (!(cond))                                 \
                        return fail(msg, size, __VA_ARGS__); \
        } while (0)

/* `call` must fail (< 0) with errno `want`. */
#define CHECK_ERRNO(call, want, what)                                                    \
        do {                                                                             \
                errno = 0;                                                               \
                long _r = (long)(call);                                                  \
                int _e = errno;                                                          \
                if (_r >= 0)                                                             \
                        close((int)_r);                                                  \
                if (_r >= 0 || _e != (want))                                             \
                        return fail(msg, size, "%s: got %s, want %s", (what),            \
                                    _r >= 0 ? "success" : strerror(_e), strerror(want)); \
        } while (0)

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in `path`, sorted, space separated, into buf. */
static const char *list_dir(const char *path, char *buf, size_t size)
{
        char *names[256];
        size_t n = 0;
        DIR *d = opendir(path);
        buf[0] = '\0';
        if (!d)
                return strerror(errno);
        struct dirent *de;
        while ((de = readdir(d)) && n < 256)
                if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
                        names[n++] = strdup(de->d_name);
        closedir(d);
        qsort(names, n, sizeof(char *), cmp_str);
        for (size_t i = 0; i < n; i++) {
                size_t len = strlen(buf);
                snprintf(buf + len, size - len, "%s%s", i ? " " : "", names[i]);
                free(names[i]);
        }
        return buf;
}

/* The numeric entries of /proc (the visible pids), as list_dir does. */
static const char *list_pids(char *buf, size_t size)
{
        char all[4096], *save = NULL;
        list_dir("/proc", all, sizeof(all));
        buf[0] = '\0';
        for (char *w = strtok_r(all, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
                if (strspn(w, "0123456789") != strlen(w))
                        continue;
                size_t len = strlen(buf);
                snprintf(buf + len, size - len, "%s%s", len ? " " : "", w);
        }
        return buf;
}

static long fs_type(const char *path)
{
        struct statfs sfs;
        return statfs(path, &sfs) < 0 ? -errno : (long)sfs.f_type;
}

static unsigned long long fs_size(const char *path)
{
        struct statfs sfs;
        return statfs(path, &sfs) < 0 ? 0 : (unsigned long long)sfs.f_blocks * sfs.f_bsize;
}

static int read_file(const char *path, char *buf, size_t size)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        ssize_t n = read(fd, buf, size - 1);
        int e = errno;
        close(fd);
        if (n < 0)
                return -e;
        buf[n] = '\0';
        return (int)n;
}

static int write_file(const char *path, const char *text)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        ssize_t n = write(fd, text, strlen(text));
        int e = errno;
        close(fd);
        return n == (ssize_t)strlen(text) ? 0 : -e;
}

static void run_ok(const struct sbx_spec *spec, const char *ws, sandbox_check_fn check,
                   const void *arg)
{
        struct sandbox_result res;
        sandbox_run(spec, ws, check, arg, &res);
        cr_assert_eq(res.exit_code, 0, "exit %d: %s", res.exit_code, res.msg);
}

static void run_setup_error(const struct sbx_spec *spec, const char *ws, const char *want)
{
        struct sandbox_result res;
        sandbox_run(spec, ws, NULL, NULL, &res);
        cr_assert_eq(res.exit_code, 2, "exit %d (want set-up failure 2): %s", res.exit_code,
                     res.msg);
        cr_assert_str_eq(res.msg, want);
}

/* ---- rootfs: host ---- */

static int check_host_root(const void *arg, char *msg, size_t size)
{
        (void)arg;
        char buf[4096];
        CHECK_ERRNO(open("/usr/sbx-mount-test", O_CREAT | O_WRONLY | O_CLOEXEC, 0644), EROFS,
                    "create a file under /usr");
        CHECK_ERRNO(mkdir("/sbx-mount-test", 0755), EROFS, "mkdir in /");
        CHECK_ERRNO(open("/etc/shadow", O_RDONLY | O_CLOEXEC), ENOENT, "open /etc/shadow");
        CHECK_ERRNO(open("/etc/gshadow", O_RDONLY | O_CLOEXEC), ENOENT, "open /etc/gshadow");
        CHECK_ERRNO(open("/etc/ssh", O_RDONLY | O_CLOEXEC), ENOENT, "open /etc/ssh");
        CHECK(read_file("/etc/passwd", buf, sizeof(buf)) > 0 && strstr(buf, "root:x:0:0:"),
              "/etc/passwd is not the host's: %s", buf);
        CHECK_ERRNO(open("/etc/passwd", O_WRONLY | O_CLOEXEC), EROFS, "open /etc/passwd for write");
        CHECK(access("/bin/sh", X_OK) == 0, "/bin/sh: %s", strerror(errno));
        char cwd[256];
        CHECK(getcwd(cwd, sizeof(cwd)) && strcmp(cwd, "/") == 0, "cwd is %s, want /", cwd);
        return 0;
}

Test(mount, host_root_is_read_only_with_a_minimal_etc)
{
        struct sbx_spec *spec = sandbox_medium_spec();
        run_ok(spec, NULL, check_host_root, NULL);
        sandbox_spec_free(spec);
}

/* ---- /proc and /sys ---- */

/* The medium profile's masked paths, and whether this kernel has them (the
 * parent looks at the host's /proc: same kernel, same entries). */
static const char *const masked_paths[] = {
        "/proc/kcore",      "/proc/keys",          "/proc/sysrq-trigger",
        "/proc/timer_list", "/proc/latency_stats", "/proc/sched_debug",
        "/proc/scsi",       "/proc/acpi",          "/sys/firmware",
};

struct masked_expect {
        bool exists[SBX_ARRAY_SIZE(masked_paths)];
};

/* Present masked files are empty read-only regular files that refuse
 * writes with EROFS; directories are empty tmpfs; absent ones stay absent. */
static int check_masked(const struct masked_expect *ex, char *msg, size_t size)
{
        char buf[4096];
        for (size_t i = 0; i < SBX_ARRAY_SIZE(masked_paths); i++) {
                const char *p = masked_paths[i];
                struct stat st;
                if (!ex->exists[i]) {
                        CHECK_ERRNO(stat(p, &st), ENOENT, p);
                        continue;
                }
                CHECK(stat(p, &st) == 0, "stat %s: %s", p, strerror(errno));
                if (S_ISDIR(st.st_mode)) {
                        CHECK(fs_type(p) == TMPFS_MAGIC, "%s is not masked", p);
                        CHECK(strcmp(list_dir(p, buf, sizeof(buf)), "") == 0, "%s has [%s]", p,
                              buf);
                        continue;
                }
                CHECK(S_ISREG(st.st_mode) && st.st_size == 0, "%s is not masked: mode %o", p,
                      st.st_mode);
                CHECK(read_file(p, buf, sizeof(buf)) == 0, "%s is readable", p);
                CHECK_ERRNO(open(p, O_WRONLY | O_CLOEXEC), EROFS, p);
        }
        return 0;
}

static int check_proc(const void *arg, char *msg, size_t size)
{
        char buf[4096];
        CHECK(fs_type("/proc") == PROC_SUPER_MAGIC, "/proc is not procfs: %#lx", fs_type("/proc"));
        CHECK(getpid() == 1, "pid is %d, want 1", (int)getpid());
        CHECK(strcmp(list_pids(buf, sizeof(buf)), "1") == 0, "/proc shows pids [%s], want [1]",
              buf);
        if (check_masked(arg, msg, size) < 0)
                return -1;
        CHECK_ERRNO(open("/proc/sys/kernel/hostname", O_WRONLY | O_CLOEXEC), EROFS,
                    "open /proc/sys/kernel/hostname for write");
        CHECK(read_file("/proc/sys/kernel/ostype", buf, sizeof(buf)) > 0 &&
                      strcmp(buf, "Linux\n") == 0,
              "/proc/sys/kernel/ostype: %s", buf);
        CHECK(fs_type("/sys") == SYSFS_MAGIC, "/sys is not sysfs: %#lx", fs_type("/sys"));
        CHECK_ERRNO(mkdir("/sys/kernel/sbx-mount-test", 0755), EROFS, "mkdir under /sys");
        return 0;
}

Test(mount, proc_is_fresh_with_masked_and_read_only_paths)
{
        struct masked_expect ex;
        for (size_t i = 0; i < SBX_ARRAY_SIZE(masked_paths); i++)
                ex.exists[i] = access(masked_paths[i], F_OK) == 0;
        /* /proc/sysrq-trigger is absent when the kernel has no magic SysRq. */
        cr_assert(ex.exists[1] && ex.exists[3] && ex.exists[8],
                  "this kernel lacks /proc/keys, /proc/timer_list or /sys/firmware");
        struct sbx_spec *spec = sandbox_medium_spec();
        run_ok(spec, NULL, check_proc, &ex);
        sandbox_spec_free(spec);
}

/* /sys/class/net lists the network devices of the namespace that /sys
 * belongs to: only "lo" for a fresh sysfs of the sandbox's own network
 * namespace, the host's devices for the read-only bind of network host. */
static int check_sys_net(const void *arg, char *msg, size_t size)
{
        char buf[4096];
        CHECK(fs_type("/sys") == SYSFS_MAGIC, "/sys is not sysfs: %#lx", fs_type("/sys"));
        CHECK_ERRNO(mkdir("/sys/kernel/sbx-mount-test", 0755), EROFS, "mkdir under /sys");
        CHECK(strcmp(list_dir("/sys/class/net", buf, sizeof(buf)), arg) == 0,
              "/sys/class/net has [%s], want [%s]", buf, (const char *)arg);
        return 0;
}

Test(mount, sys_is_the_sandbox_network_namespace_s)
{
        struct sbx_spec *spec = sandbox_medium_spec();
        run_ok(spec, NULL, check_sys_net, "lo");
        sandbox_spec_free(spec);
}

Test(mount, sys_is_the_host_s_read_only_with_network_host)
{
        char host[4096];
        list_dir("/sys/class/net", host, sizeof(host));
        cr_assert_str_neq(host, "lo", "the host has no device but lo: nothing to tell apart");
        struct sbx_spec *spec = sandbox_medium_spec();
        spec->network = SBX_NETWORK_HOST;
        spec->isolation.namespaces &= ~(unsigned)SBX_NS_NET;
        run_ok(spec, NULL, check_sys_net, host);
        sandbox_spec_free(spec);
}

/* ---- /dev ---- */

static int check_dev(const void *arg, char *msg, size_t size)
{
        (void)arg;
        char buf[4096], name[64];
        /* .sandboxctl: the read-only source of the masked files. */
        const char *want = ".sandboxctl fd full null ptmx pts random shm stderr stdin stdout tty "
                           "urandom zero";
        CHECK(strcmp(list_dir("/dev", buf, sizeof(buf)), want) == 0, "/dev has [%s], want [%s]",
              buf, want);
        int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
        CHECK(fd >= 0 && write(fd, "abc", 3) == 3, "write /dev/null: %s", strerror(errno));
        close(fd);
        CHECK(read_file("/dev/zero", buf, 5) == 4 && memcmp(buf, "\0\0\0\0", 4) == 0,
              "read /dev/zero");
        CHECK_ERRNO(mknod("/dev/sbx-null", S_IFCHR | 0666, makedev(1, 3)), EPERM, "mknod");
        CHECK(fs_type("/dev/pts") == DEVPTS_SUPER_MAGIC, "/dev/pts is not devpts");
        CHECK(strcmp(list_dir("/dev/pts", buf, sizeof(buf)), "ptmx") == 0,
              "/dev/pts is not a private instance: [%s]", buf);
        int master, slave;
        CHECK(openpty(&master, &slave, name, NULL, NULL) == 0, "openpty: %s", strerror(errno));
        close(master), close(slave);
        CHECK(strcmp(name, "/dev/pts/0") == 0, "openpty gave %s, want /dev/pts/0", name);
        ssize_t n = readlink("/dev/ptmx", buf, sizeof(buf) - 1);
        CHECK(n == 8 && memcmp(buf, "pts/ptmx", 8) == 0, "/dev/ptmx is not -> pts/ptmx");
        n = readlink("/dev/fd", buf, sizeof(buf) - 1);
        CHECK(n == 13 && memcmp(buf, "/proc/self/fd", 13) == 0, "/dev/fd is not -> /proc/self/fd");
        CHECK(fs_type("/dev/shm") == TMPFS_MAGIC && fs_size("/dev/shm") == 64 * MIB,
              "/dev/shm: type %#lx size %llu", fs_type("/dev/shm"), fs_size("/dev/shm"));
        return 0;
}

Test(mount, dev_has_exactly_the_minimal_nodes)
{
        struct sbx_spec *spec = sandbox_medium_spec();
        run_ok(spec, NULL, check_dev, NULL);
        sandbox_spec_free(spec);
}

/* ---- /tmp and the workspace ---- */

static int check_tmp_and_workspace_rw(const void *arg, char *msg, size_t size)
{
        (void)arg;
        struct stat st;
        char cwd[256];
        CHECK(fs_type("/tmp") == TMPFS_MAGIC, "/tmp is not tmpfs");
        CHECK(fs_size("/tmp") == 64 * MIB, "/tmp size %llu, want %llu", fs_size("/tmp"), 64 * MIB);
        CHECK(stat("/tmp", &st) == 0 && (st.st_mode & 07777) == 01777, "/tmp mode %o",
              st.st_mode & 07777);
        CHECK(write_file("/tmp/x", "x") == 0, "write /tmp/x");
        CHECK(getcwd(cwd, sizeof(cwd)) && strcmp(cwd, "/workspace") == 0, "cwd %s", cwd);
        CHECK(write_file("written", "from inside") == 0, "write /workspace/written: %s",
              strerror(errno));
        return 0;
}

static void host_read(const char *dir, const char *name, char *buf, size_t size)
{
        char p[256];
        snprintf(p, sizeof(p), "%s/%s", dir, name);
        int r = read_file(p, buf, size);
        if (r < 0)
                snprintf(buf, size, "<%s>", strerror(-r));
}

Test(mount, tmp_is_sized_and_workspace_rw_is_written_through)
{
        char ws[64], buf[256];
        tmpdir_make(ws, sizeof(ws), "ws");
        struct sbx_spec *spec = sandbox_medium_spec();
        run_ok(spec, ws, check_tmp_and_workspace_rw, NULL);
        host_read(ws, "written", buf, sizeof(buf));
        tmpdir_remove(ws);
        sandbox_spec_free(spec);
        cr_assert_str_eq(buf, "from inside");
}

static int check_workspace_ro(const void *arg, char *msg, size_t size)
{
        (void)arg;
        char buf[256];
        CHECK(read_file("/workspace/seed", buf, sizeof(buf)) > 0 && strcmp(buf, "seed") == 0,
              "read /workspace/seed: %s", buf);
        CHECK_ERRNO(open("/workspace/new", O_CREAT | O_WRONLY | O_CLOEXEC, 0644), EROFS,
                    "create /workspace/new");
        CHECK_ERRNO(open("/workspace/seed", O_WRONLY | O_CLOEXEC), EROFS, "open seed for write");
        return 0;
}

Test(mount, workspace_ro_refuses_writes)
{
        char ws[64], p[128];
        tmpdir_make(ws, sizeof(ws), "ws");
        snprintf(p, sizeof(p), "%s/seed", ws);
        cr_assert_eq(write_file(p, "seed"), 0);
        struct sbx_spec *spec = sandbox_medium_spec();
        spec->filesystem.workspace_mode = SBX_WORKSPACE_RO;
        run_ok(spec, ws, check_workspace_ro, NULL);
        tmpdir_remove(ws);
        sandbox_spec_free(spec);
}

static int check_workspace_overlay(const void *arg, char *msg, size_t size)
{
        (void)arg;
        char buf[256];
        CHECK(write_file("/workspace/new", "new") == 0, "create /workspace/new: %s",
              strerror(errno));
        CHECK(write_file("/workspace/seed", "changed") == 0, "rewrite /workspace/seed");
        CHECK(read_file("/workspace/seed", buf, sizeof(buf)) > 0 && strcmp(buf, "changed") == 0,
              "read back /workspace/seed: %s", buf);
        CHECK(unlink("/workspace/gone") == 0, "unlink /workspace/gone: %s", strerror(errno));
        return 0;
}

Test(mount, workspace_overlay_throws_changes_away)
{
        char ws[64], p[128], seed[64], gone[64], listing[256];
        tmpdir_make(ws, sizeof(ws), "ws");
        snprintf(p, sizeof(p), "%s/seed", ws);
        cr_assert_eq(write_file(p, "seed"), 0);
        snprintf(p, sizeof(p), "%s/gone", ws);
        cr_assert_eq(write_file(p, "still here"), 0);
        struct sbx_spec *spec = sandbox_medium_spec();
        spec->filesystem.workspace_mode = SBX_WORKSPACE_OVERLAY;
        run_ok(spec, ws, check_workspace_overlay, NULL);
        host_read(ws, "seed", seed, sizeof(seed));
        host_read(ws, "gone", gone, sizeof(gone));
        list_dir(ws, listing, sizeof(listing));
        tmpdir_remove(ws);
        sandbox_spec_free(spec);
        cr_assert_str_eq(seed, "seed");
        cr_assert_str_eq(gone, "still here");
        cr_assert_str_eq(listing, "gone seed");
}

/* ---- binds ---- */

static int check_binds(const void *arg, char *msg, size_t size)
{
        (void)arg;
        char buf[256];
        CHECK(read_file("/opt/data/file", buf, sizeof(buf)) > 0 && strcmp(buf, "data") == 0,
              "read /opt/data/file: %s", buf);
        CHECK_ERRNO(open("/opt/data/file", O_WRONLY | O_CLOEXEC), EROFS, "write a ro bind");
        CHECK(write_file("/srv/rw/out", "out") == 0, "write /srv/rw/out: %s", strerror(errno));
        return 0;
}

Test(mount, binds_ro_and_rw)
{
        char src[64], rw[64], p[128], buf[64];
        tmpdir_make(src, sizeof(src), "src");
        tmpdir_make(rw, sizeof(rw), "rw");
        snprintf(p, sizeof(p), "%s/file", src);
        cr_assert_eq(write_file(p, "data"), 0);
        struct sbx_spec *spec = sandbox_medium_spec();
        sandbox_spec_add_bind(spec, p, "/opt/data/file", true);
        sandbox_spec_add_bind(spec, rw, "/srv/rw", false);
        run_ok(spec, NULL, check_binds, NULL);
        host_read(rw, "out", buf, sizeof(buf));
        tmpdir_remove(src);
        tmpdir_remove(rw);
        sandbox_spec_free(spec);
        cr_assert_str_eq(buf, "out");
}

Test(mount, bind_with_missing_source_names_it)
{
        struct sbx_spec *spec = sandbox_medium_spec();
        sandbox_spec_add_bind(spec, "/nonexistent-sbx-src", "/opt/x", true);
        run_setup_error(
                spec, NULL,
                "set up binds: bind source /nonexistent-sbx-src: No such file or directory");
        sandbox_spec_free(spec);
}

static int check_evil(const void *arg, char *msg, size_t size)
{
        (void)arg;
        char buf[64];
        CHECK(read_file("/etc/sbx-evil-target/marker", buf, sizeof(buf)) > 0,
              "the bind did not land inside the sandbox's /etc: %s", strerror(errno));
        return 0;
}

Test(mount, symlink_in_workspace_cannot_reach_the_host_etc)
{
        char ws[64], src[64], p[128], link[64] = "";
        tmpdir_make(ws, sizeof(ws), "ws");
        tmpdir_make(src, sizeof(src), "src");
        snprintf(p, sizeof(p), "%s/evil", ws);
        cr_assert_eq(symlink("/etc", p), 0);
        snprintf(p, sizeof(p), "%s/marker", src);
        cr_assert_eq(write_file(p, "marker"), 0);
        struct sbx_spec *spec = sandbox_medium_spec();
        sandbox_spec_add_bind(spec, src, "/workspace/evil/sbx-evil-target", true);
        run_ok(spec, ws, check_evil, NULL);
        int exists = access("/etc/sbx-evil-target", F_OK) == 0;
        snprintf(p, sizeof(p), "%s/evil", ws);
        ssize_t n = readlink(p, link, sizeof(link) - 1);
        if (n > 0)
                link[n] = '\0';
        if (exists)
                rmdir("/etc/sbx-evil-target");
        tmpdir_remove(ws);
        tmpdir_remove(src);
        sandbox_spec_free(spec);
        cr_assert(!exists, "a mount point was created in the host's /etc");
        cr_assert_str_eq(link, "/etc");
}

Test(mount, mount_point_on_the_read_only_root_is_a_clear_error)
{
        struct sbx_spec *spec = sandbox_medium_spec();
        sandbox_spec_add_bind(spec, "/usr/bin", "/usr/sbx-mount-test/bin", true);
        run_setup_error(spec, NULL,
                        "set up binds: mount point /usr/sbx-mount-test/bin: "
                        "create /usr/sbx-mount-test: Read-only file system");
        sandbox_spec_free(spec);
}

Test(mount, missing_workspace_is_a_clear_error)
{
        struct sbx_spec *spec = sandbox_medium_spec();
        run_setup_error(spec, "/nonexistent-sbx-ws",
                        "set up the workspace: workspace /nonexistent-sbx-ws: "
                        "No such file or directory");
        sandbox_spec_free(spec);
}

/* ---- a directory rootfs ---- */

static int check_busybox(const void *arg, char *msg, size_t size)
{
        (void)arg;
        char buf[256];
        CHECK(read_file("/etc/os-release", buf, sizeof(buf)) > 0 &&
                      strstr(buf, "sandboxctl busybox rootfs"),
              "/etc/os-release is not the rootfs's: %s", buf);
        CHECK_ERRNO(open("/usr/lib", O_RDONLY | O_CLOEXEC), ENOENT, "open /usr/lib");
        CHECK_ERRNO(mkdir("/sbx-mount-test", 0755), EROFS, "mkdir in the rootfs");
        CHECK(fs_type("/proc") == PROC_SUPER_MAGIC, "/proc is not procfs");
        CHECK(fs_type("/tmp") == TMPFS_MAGIC, "/tmp is not tmpfs");
        char cwd[64];
        CHECK(getcwd(cwd, sizeof(cwd)) && strcmp(cwd, "/workspace") == 0, "cwd %s", cwd);
        pid_t pid = fork();
        CHECK(pid >= 0, "fork: %s", strerror(errno));
        if (pid == 0) {
                execl("/bin/sh", "sh", "-c", "test -e /dev/null && exit 42", (char *)NULL);
                _exit(127);
        }
        int st;
        CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 42,
              "/bin/sh -c 'exit 42' gave status %#x", st);
        return 0;
}

static const char *busybox_rootfs(char *buf, size_t size)
{
        const char *root = getenv("SBX_BUILD_ROOT");
        snprintf(buf, size, "%s/rootfs-busybox", root && *root ? root : SBX_BUILD_ROOT);
        return buf;
}

Test(mount, busybox_rootfs_works)
{
        char rootfs[4096], ws[64];
        busybox_rootfs(rootfs, sizeof(rootfs));
        cr_assert_eq(access(rootfs, F_OK), 0, "%s: %s (built by tools/mkrootfs in ninja)", rootfs,
                     strerror(errno));
        tmpdir_make(ws, sizeof(ws), "ws");
        struct sbx_spec *spec = sandbox_medium_spec();
        sandbox_spec_set_rootfs(spec, rootfs);
        run_ok(spec, ws, check_busybox, NULL);
        tmpdir_remove(ws);
        sandbox_spec_free(spec);
}

Test(mount, missing_rootfs_is_a_clear_error)
{
        struct sbx_spec *spec = sandbox_medium_spec();
        sandbox_spec_set_rootfs(spec, "/nonexistent-sbx-rootfs");
        run_setup_error(
                spec, NULL,
                "set up the root: rootfs /nonexistent-sbx-rootfs: No such file or directory");
        sandbox_spec_free(spec);
}

Test(mount, rootfs_without_sh_is_a_clear_error)
{
        char dir[64], want[256];
        tmpdir_make(dir, sizeof(dir), "emptyroot");
        struct sbx_spec *spec = sandbox_medium_spec();
        sandbox_spec_set_rootfs(spec, dir);
        snprintf(want, sizeof(want), "set up the root: rootfs %s: no /bin/sh in it", dir);
        run_setup_error(spec, NULL, want);
        tmpdir_remove(dir);
        sandbox_spec_free(spec);
}

SBX_TEST_MAIN(SBX_NEED_ROOT)
