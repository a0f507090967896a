/* mount_root: the new root's contents. For `rootfs: host`, read-only binds
 * of the host's /usr, /bin, /sbin and /lib* (or the same symlinks on a
 * merged-/usr host) and a minimal /etc of single files; for a directory
 * rootfs, a read-only recursive bind of the whole directory. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sandboxctl/util.h"
#include "src/lib/mount_internal.h"
#include "src/lib/mount_resolve.h"

static const char *const host_dirs[] = {
        "usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32",
};

/* What programs need from /etc to run and resolve names; never secrets
 * (shadow, gshadow, sudoers, ssh/). Symlinks are followed on the host. */
static const char *const etc_entries[] = {
        "passwd",       "group",      "hosts",        "resolv.conf", "nsswitch.conf",
        "ld.so.cache",  "ld.so.conf", "ld.so.conf.d", "ssl",         "ca-certificates",
        "alternatives", "localtime",  "os-release",
};

static int root_symlink(struct sbx_mnt *m, const char *name, const char *host, sbx_error **err)
{
        char target[PATH_MAX];
        ssize_t n = readlink(host, target, sizeof(target) - 1);
        if (n < 0)
                return sbx_error_errno(err, errno, "readlink %s", host);
        target[n] = '\0';
        if (symlinkat(target, m->root_fd, name) < 0)
                return sbx_error_errno(err, errno, "symlink /%s -> %s", name, target);
        return 0;
}

static int root_host_dir(struct sbx_mnt *m, const char *name, sbx_error **err)
{
        char host[64], inside[64];
        snprintf(host, sizeof(host), "/%s", name);
        snprintf(inside, sizeof(inside), "/%s", name);
        struct stat st;
        if (lstat(host, &st) < 0)
                return errno == ENOENT ? 0 : sbx_error_errno(err, errno, "stat %s", host);
        if (S_ISLNK(st.st_mode))
                return root_symlink(m, name, host, err);
        if (!S_ISDIR(st.st_mode))
                return 0;
        sbx_autoclose int t = -1;
        int r = sbx_mnt_target(m, inside, false, &t, err);
        if (r < 0)
                return r;
        return sbx_mnt_bind_path(host, t, inside, true, err);
}

static int root_etc_entry(struct sbx_mnt *m, const char *name, sbx_error **err)
{
        char host[PATH_MAX];
        snprintf(host, sizeof(host), "/etc/%s", name);
        sbx_autoclose int src = open(host, O_PATH | O_CLOEXEC);
        if (src < 0)
                return errno == ENOENT ? 0 : sbx_error_errno(err, errno, "open %s", host);
        struct stat st;
        if (fstat(src, &st) < 0)
                return sbx_error_errno(err, errno, "stat %s", host);
        sbx_autoclose int t = -1;
        int r = sbx_mnt_target(m, host, !S_ISDIR(st.st_mode), &t, err);
        if (r < 0)
                return r;
        return sbx_mnt_bind_fd(src, host, t, host, true, err);
}

static int root_from_host(struct sbx_mnt *m, sbx_error **err)
{
        int r;
        for (size_t i = 0; i < SBX_ARRAY_SIZE(host_dirs); i++) {
                r = root_host_dir(m, host_dirs[i], err);
                if (r < 0)
                        return r;
        }
        if (mkdirat(m->root_fd, "etc", 0755) < 0)
                return sbx_error_errno(err, errno, "create /etc");
        for (size_t i = 0; i < SBX_ARRAY_SIZE(etc_entries); i++) {
                r = root_etc_entry(m, etc_entries[i], err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* A directory rootfs must at least hold an executable /bin/sh. */
static int rootfs_check(const char *path, int *ret_fd, sbx_error **err)
{
        sbx_autoclose int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return sbx_error_errno(err, errno, "rootfs %s", path);
        sbx_autoclose int sh = -1;
        struct stat st;
        if (sbx_resolve_in_root(fd, "/bin/sh", 0, &sh, NULL) < 0 || fstat(sh, &st) < 0 ||
            !S_ISREG(st.st_mode))
                return sbx_error_set(err, ENOENT, "rootfs %s: no /bin/sh in it", path);
        if (!(st.st_mode & 0111))
                return sbx_error_set(err, EACCES, "rootfs %s: /bin/sh is not executable", path);
        *ret_fd = sbx_steal_fd(fd);
        return 0;
}

int sbx_mnt_setup_root(struct sbx_mnt *m, sbx_error **err)
{
        const char *rootfs = m->spec->filesystem.rootfs;
        sbx_autoclose int src = -1;
        int r = m->host_root ? 0 : rootfs_check(rootfs, &src, err);
        if (r < 0)
                return r;
        if (mkdirat(m->scratch_fd, "root", 0755) < 0)
                return sbx_error_errno(err, errno, "create the new root");
        sbx_autoclose int dir = openat(m->scratch_fd, "root", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dir < 0)
                return sbx_error_errno(err, errno, "open the new root");
        /* pivot_root() wants a mount point: the host root binds its own
         * directory, a directory rootfs is bound read-only as a whole. */
        if (m->host_root)
                r = sbx_mnt_bind_fd(dir, "the new root", dir, "/", false, err);
        else
                r = sbx_mnt_bind_fd(src, rootfs, dir, "/", true, err);
        if (r < 0)
                return r;
        m->root_fd = openat(m->scratch_fd, "root", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (m->root_fd < 0)
                return sbx_error_errno(err, errno, "open the new root");
        return m->host_root ? root_from_host(m, err) : 0;
}
