/* mount_proc: a fresh /proc (checked with fstatfs before it is trusted),
 * /sys read-only, the kernel knobs under /proc read-only, and the masked
 * paths of the spec covered by an empty read-only file or tmpfs. */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "sandboxctl/util.h"
#include "src/lib/mount_internal.h"
#include "src/lib/mount_resolve.h"

/* Writable knobs that reach the host kernel: read-only in the sandbox. */
static const char *const proc_readonly[] = {
        "/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus", "/proc/fs",
};

static int proc_check(struct sbx_mnt *m, sbx_error **err)
{
        sbx_autoclose int fd = -1;
        int r = sbx_resolve_in_root(m->root_fd, "/proc", 0, &fd, err);
        if (r < 0)
                return sbx_error_prefix(err, r, "open");
        struct statfs sfs;
        if (fstatfs(fd, &sfs) < 0)
                return sbx_error_errno(err, errno, "statfs /proc");
        if (sfs.f_type != PROC_SUPER_MAGIC)
                return sbx_error_set(err, EIO,
                                     "/proc is not procfs after mounting it (f_type %#lx)",
                                     (unsigned long)sfs.f_type);
        return 0;
}

static int proc_make_readonly(struct sbx_mnt *m, const char *path, sbx_error **err)
{
        sbx_autoclose int fd = -1;
        int r = sbx_mnt_lookup(m, path, &fd, err);
        if (r < 0)
                return r == -ENOENT ? 0 : r;
        return sbx_mnt_bind_fd(fd, path, fd, path, true, err);
}

int sbx_mnt_setup_proc(struct sbx_mnt *m, sbx_error **err)
{
        sbx_autoclose int t = -1;
        int r = sbx_mnt_target(m, "/proc", false, &t, err);
        if (r < 0)
                return r;
        r = sbx_mnt_fresh(t, "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, err);
        if (r < 0)
                return r;
        r = proc_check(m, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < SBX_ARRAY_SIZE(proc_readonly); i++) {
                r = proc_make_readonly(m, proc_readonly[i], err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* A fresh sysfs shows the sandbox's own network namespace, and the kernel
 * allows it only in a net namespace that our user namespace owns; anywhere
 * else the host's /sys is bound read-only. */
int sbx_mnt_setup_sys(struct sbx_mnt *m, sbx_error **err)
{
        sbx_autoclose int t = -1;
        int r = sbx_mnt_target(m, "/sys", false, &t, err);
        if (r < 0)
                return r;
        const struct sbx_spec *s = m->spec;
        if ((s->isolation.namespaces & SBX_NS_NET) && s->network != SBX_NETWORK_HOST) {
                unsigned long flags = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
                sbx_autoerror e = NULL;
                r = sbx_mnt_fresh(t, "/sys", "sysfs", flags, NULL, &e);
                if (r != -EPERM && r != -EACCES) {
                        if (r < 0 && err && !*err)
                                *err = sbx_steal_ptr(e);
                        return r;
                }
        }
        return sbx_mnt_bind_path("/sys", t, "/sys", true, err);
}

/* Masked files get an empty read-only regular file bound over them rather
 * than /dev/null: reads see an empty file all the same, but a read-only
 * mount does not stop writes to a device node, and a write to a masked
 * file (/proc/sysrq-trigger) must fail, with EROFS. The file is
 * SBX_HIDDEN_DIR/masked, inside the sandbox (mount_hidden.c). */
static int mask_source(struct sbx_mnt *m, int *ret_fd, sbx_error **err)
{
        int fd = m->hidden_fd < 0 ? -1 : openat(m->hidden_fd, "masked",
                                                O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return sbx_error_errno(err, m->hidden_fd < 0 ? ENOENT : errno,
                                       "open the empty file for masking");
        *ret_fd = fd;
        return 0;
}

static int mask_one(struct sbx_mnt *m, int empty, const char *path, sbx_error **err)
{
        sbx_autoclose int fd = -1;
        int r = sbx_mnt_lookup(m, path, &fd, err);
        if (r < 0)
                return r == -ENOENT ? 0 : r;
        struct stat st;
        if (fstat(fd, &st) < 0)
                return sbx_error_errno(err, errno, "stat %s", path);
        if (S_ISDIR(st.st_mode))
                return sbx_mnt_fresh(fd, path, "tmpfs",
                                     MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                                     "size=4k,mode=0555", err);
        return sbx_mnt_bind_fd(empty, "an empty file", fd, path, true, err);
}

int sbx_mnt_setup_masks(struct sbx_mnt *m, sbx_error **err)
{
        const struct sbx_strv *masked = &m->spec->filesystem.masked;
        if (masked->n == 0)
                return 0;
        sbx_autoclose int empty = -1;
        int r = mask_source(m, &empty, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < masked->n; i++) {
                r = mask_one(m, empty, masked->items[i], err);
                if (r < 0)
                        return sbx_error_prefix(err, r, "mask %s", masked->items[i]);
        }
        return 0;
}
