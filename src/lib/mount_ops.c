/* mount_ops: the few mount primitives the filesystem steps are made of. Fresh
 * filesystems go through mount(2) on /proc/self/fd/N of a target resolved
 * inside the new root; binds are cloned with open_tree(), made read-only
 * while still detached, then attached with move_mount() onto the target fd. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "sandboxctl/util.h"
#include "src/lib/mount_internal.h"
#include "src/lib/mount_resolve.h"

static void fd_path(char *buf, size_t size, int fd)
{
        snprintf(buf, size, "/proc/self/fd/%d", fd);
}

int sbx_mnt_fresh(int target_fd, const char *what, const char *fstype, unsigned long flags,
                  const char *data, sbx_error **err)
{
        char path[64];
        fd_path(path, sizeof(path), target_fd);
        if (mount(fstype, path, fstype, flags, data) < 0)
                return sbx_error_errno(err, errno, "mount %s on %s", fstype, what);
        return 0;
}

/* Flags that a user namespace may not clear on a mount it did not make: a
 * remount must repeat them or fail with EPERM. */
static unsigned long locked_flags(const char *path)
{
        static const struct {
                unsigned long st, ms;
        } map[] = {
                { ST_NOSUID, MS_NOSUID },         { ST_NODEV, MS_NODEV },
                { ST_NOEXEC, MS_NOEXEC },         { ST_NOATIME, MS_NOATIME },
                { ST_NODIRATIME, MS_NODIRATIME }, { ST_RELATIME, MS_RELATIME },
        };
        struct statvfs sv;
        unsigned long flags = 0;
        if (statvfs(path, &sv) < 0)
                return 0;
        for (size_t i = 0; i < SBX_ARRAY_SIZE(map); i++)
                if (sv.f_flag & map[i].st)
                        flags |= map[i].ms;
        return flags;
}

int sbx_mnt_make_readonly(int fd, const char *what, bool recursive, sbx_error **err)
{
        struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };
        unsigned flags = AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0);
        if (mount_setattr(fd, "", flags, &attr, sizeof(attr)) == 0)
                return 0;
        if (errno != ENOSYS)
                return sbx_error_errno(err, errno, "make %s read-only", what);
        /* Before Linux 5.12: remount the top mount only, keeping locked flags. */
        char path[64];
        fd_path(path, sizeof(path), fd);
        unsigned long ms = MS_REMOUNT | MS_BIND | MS_RDONLY | locked_flags(path);
        if (mount(NULL, path, NULL, ms, NULL) < 0)
                return sbx_error_errno(err, errno, "make %s read-only", what);
        return 0;
}

int sbx_mnt_bind_fd(int src_fd, const char *src_name, int target_fd, const char *what,
                    bool read_only, sbx_error **err)
{
        unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH;
        sbx_autoclose int tree = open_tree(src_fd, "", flags);
        if (tree < 0)
                return sbx_error_errno(err, errno, "bind %s on %s", src_name, what);
        if (read_only) {
                int r = sbx_mnt_make_readonly(tree, what, true, err);
                if (r < 0)
                        return r;
        }
        if (move_mount(tree, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) <
            0)
                return sbx_error_errno(err, errno, "bind %s on %s", src_name, what);
        return 0;
}

int sbx_mnt_bind_path(const char *src, int target_fd, const char *what, bool read_only,
                      sbx_error **err)
{
        sbx_autoclose int fd = open(src, O_PATH | O_CLOEXEC);
        if (fd < 0)
                return sbx_error_errno(err, errno, "bind %s on %s: open %s", src, what, src);
        return sbx_mnt_bind_fd(fd, src, target_fd, what, read_only, err);
}

int sbx_mnt_target(struct sbx_mnt *m, const char *path, bool file, int *ret_fd, sbx_error **err)
{
        unsigned flags = file ? SBX_RESOLVE_MKFILE : SBX_RESOLVE_MKDIR;
        int r = sbx_resolve_in_root(m->root_fd, path, flags, ret_fd, err);
        if (r < 0)
                return sbx_error_prefix(err, r, "mount point %s", path);
        return 0;
}

int sbx_mnt_lookup(struct sbx_mnt *m, const char *path, int *ret_fd, sbx_error **err)
{
        sbx_autoerror e = NULL;
        int r = sbx_resolve_in_root(m->root_fd, path, 0, ret_fd, &e);
        if (r < 0 && r != -ENOENT && err && !*err)
                *err = sbx_steal_ptr(e);
        return r;
}

uint64_t sbx_mnt_tmp_size(const struct sbx_spec *spec, uint64_t fallback)
{
        for (size_t i = 0; i < spec->filesystem.n_tmpfs; i++)
                if (strcmp(spec->filesystem.tmpfs[i].path, "/tmp") == 0 &&
                    spec->filesystem.tmpfs[i].size > 0)
                        return spec->filesystem.tmpfs[i].size;
        return fallback;
}
