/* mount_dev: a minimal /dev. mknod is not allowed in a user namespace, so
 * the usual nodes are empty files with the host's device nodes bound over
 * them; a private devpts instance gives ptys that cannot reach the host's. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sandboxctl/util.h"
#include "src/lib/mount_internal.h"
#include "src/lib/mount_resolve.h"

#define DEV_SHM_DEFAULT_SIZE (64ull << 20)
#define TTY_GID 5

static const char *const dev_nodes[] = { "null", "zero", "full", "random", "urandom", "tty" };

static const struct {
        const char *name;
        const char *target;
} dev_links[] = {
        { "fd", "/proc/self/fd" },       { "stdin", "/proc/self/fd/0" },
        { "stdout", "/proc/self/fd/1" }, { "stderr", "/proc/self/fd/2" },
        { "ptmx", "pts/ptmx" },
};

static int dev_bind_node(int dev, const char *name, sbx_error **err)
{
        char host[64], inside[64];
        snprintf(host, sizeof(host), "/dev/%s", name);
        snprintf(inside, sizeof(inside), "/dev/%s", name);
        sbx_autoclose int src = open(host, O_PATH | O_CLOEXEC);
        if (src < 0)
                return errno == ENOENT ? 0 : sbx_error_errno(err, errno, "open %s", host);
        int fd = openat(dev, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0666);
        if (fd < 0)
                return sbx_error_errno(err, errno, "create %s", inside);
        close(fd);
        sbx_autoclose int t = openat(dev, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (t < 0)
                return sbx_error_errno(err, errno, "open %s", inside);
        return sbx_mnt_bind_fd(src, host, t, inside, false, err);
}

/* Whether `gid` has a mapping in our user namespace. */
static bool gid_mapped(unsigned gid)
{
        FILE *f = fopen("/proc/self/gid_map", "re");
        if (!f)
                return false;
        unsigned long inside, outside, count;
        bool found = false;
        while (!found && fscanf(f, "%lu %lu %lu", &inside, &outside, &count) == 3)
                found = gid >= inside && gid - inside < count;
        fclose(f);
        return found;
}

static int dev_subdir(int dev, const char *name, int *ret_fd, sbx_error **err)
{
        if (mkdirat(dev, name, 0755) < 0)
                return sbx_error_errno(err, errno, "create /dev/%s", name);
        int fd = openat(dev, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return sbx_error_errno(err, errno, "open /dev/%s", name);
        *ret_fd = fd;
        return 0;
}

static int dev_mount_pts(int dev, sbx_error **err)
{
        sbx_autoclose int t = -1;
        int r = dev_subdir(dev, "pts", &t, err);
        if (r < 0)
                return r;
        /* gid= names the tty group, which may not exist in our id map. */
        const char *opts = gid_mapped(TTY_GID) ? "newinstance,ptmxmode=0666,mode=0620,gid=5" :
                                                 "newinstance,ptmxmode=0666,mode=0620";
        return sbx_mnt_fresh(t, "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, opts, err);
}

static int dev_mount_shm(struct sbx_mnt *m, int dev, sbx_error **err)
{
        sbx_autoclose int t = -1;
        int r = dev_subdir(dev, "shm", &t, err);
        if (r < 0)
                return r;
        char opts[64];
        snprintf(opts, sizeof(opts), "mode=1777,size=%" PRIu64,
                 sbx_mnt_tmp_size(m->spec, DEV_SHM_DEFAULT_SIZE));
        return sbx_mnt_fresh(t, "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, opts, err);
}

static int dev_populate(struct sbx_mnt *m, int dev, sbx_error **err)
{
        int r;
        for (size_t i = 0; i < SBX_ARRAY_SIZE(dev_nodes); i++) {
                r = dev_bind_node(dev, dev_nodes[i], err);
                if (r < 0)
                        return r;
        }
        r = dev_mount_pts(dev, err);
        if (r < 0)
                return r;
        r = dev_mount_shm(m, dev, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < SBX_ARRAY_SIZE(dev_links); i++)
                if (symlinkat(dev_links[i].target, dev, dev_links[i].name) < 0)
                        return sbx_error_errno(err, errno, "symlink /dev/%s -> %s",
                                               dev_links[i].name, dev_links[i].target);
        return 0;
}

int sbx_mnt_setup_dev(struct sbx_mnt *m, sbx_error **err)
{
        sbx_autoclose int t = -1;
        int r = sbx_mnt_target(m, "/dev", false, &t, err);
        if (r < 0)
                return r;
        r = sbx_mnt_fresh(t, "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=64k", err);
        if (r < 0)
                return r;
        sbx_autoclose int dev = -1;
        r = sbx_resolve_in_root(m->root_fd, "/dev", 0, &dev, err);
        if (r < 0)
                return sbx_error_prefix(err, r, "open");
        return dev_populate(m, dev, err);
}
