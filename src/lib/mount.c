/* mount: sbx_mount_setup() as a pipeline of named steps; the steps that
 * are not the root, /proc, /sys or /dev live here: scratch tmpfs, the
 * profile's tmpfs mounts and binds, the workspace, pivot_root. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandboxctl/mount.h"
#include "sandboxctl/util.h"
#include "src/lib/mount_internal.h"
#include "src/lib/mount_resolve.h"
#include "src/lib/run-internal.h"

#define SCRATCH_OPTS "mode=0755,size=16m"
#define OVERLAY_DEFAULT_SIZE (256ull << 20)
#define WORKSPACE_DEFAULT "/workspace"

static const char *workspace_path(const struct sbx_spec *spec)
{
        const char *p = spec->filesystem.workspace_path;
        return p && *p ? p : WORKSPACE_DEFAULT;
}

/* Nothing mounted from here on propagates back to the host. */
static int step_private(struct sbx_mnt *m, sbx_error **err)
{
        (void)m;
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return sbx_error_errno(err, errno, "make / private");
        return 0;
}

static int step_scratch(struct sbx_mnt *m, sbx_error **err)
{
        const char *dir = m->ctx->scratch_dir;
        sbx_autoclose int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return sbx_error_errno(err, errno, "open %s", dir);
        int r = sbx_mnt_fresh(fd, dir, "tmpfs", MS_NOSUID | MS_NODEV, SCRATCH_OPTS, err);
        if (r < 0)
                return r;
        m->scratch_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (m->scratch_fd < 0)
                return sbx_error_errno(err, errno, "open %s", dir);
        return 0;
}

static int step_tmpfs(struct sbx_mnt *m, sbx_error **err)
{
        for (size_t i = 0; i < m->spec->filesystem.n_tmpfs; i++) {
                const struct sbx_tmpfs *t = &m->spec->filesystem.tmpfs[i];
                sbx_autoclose int fd = -1;
                int r = sbx_mnt_target(m, t->path, false, &fd, err);
                if (r < 0)
                        return r;
                char opts[64];
                int n = snprintf(opts, sizeof(opts), "mode=%s",
                                 strcmp(t->path, "/tmp") == 0 ? "1777" : "0755");
                if (t->size > 0)
                        snprintf(opts + n, sizeof(opts) - (size_t)n, ",size=%" PRIu64, t->size);
                r = sbx_mnt_fresh(fd, t->path, "tmpfs", MS_NOSUID | MS_NODEV, opts, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int step_binds(struct sbx_mnt *m, sbx_error **err)
{
        for (size_t i = 0; i < m->spec->filesystem.n_binds; i++) {
                const struct sbx_bind *b = &m->spec->filesystem.binds[i];
                sbx_autoclose int src = open(b->source, O_PATH | O_CLOEXEC);
                if (src < 0)
                        return sbx_error_errno(err, errno, "bind source %s", b->source);
                struct stat st;
                if (fstat(src, &st) < 0)
                        return sbx_error_errno(err, errno, "stat bind source %s", b->source);
                sbx_autoclose int t = -1;
                int r = sbx_mnt_target(m, b->target, !S_ISDIR(st.st_mode), &t, err);
                if (r < 0)
                        return r;
                r = sbx_mnt_bind_fd(src, b->source, t, b->target, b->read_only, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int overlay_dir(int parent, const char *name, int *ret_fd, sbx_error **err)
{
        if (mkdirat(parent, name, 0755) < 0)
                return sbx_error_errno(err, errno, "create overlay %s dir", name);
        int fd = openat(parent, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return sbx_error_errno(err, errno, "open overlay %s dir", name);
        *ret_fd = fd;
        return 0;
}

/* The upper layer lives on its own tmpfs in the scratch area, which the
 * sandbox cannot see and which goes away with the mount namespace: every
 * change to the workspace is thrown away. Layers are named through
 * /proc/self/fd so that no path needs escaping for overlayfs options. */
static int workspace_overlay(struct sbx_mnt *m, int lower, int target, const char *path,
                             sbx_error **err)
{
        sbx_autoclose int area = -1, upper = -1, work = -1;
        int r = overlay_dir(m->scratch_fd, "overlay", &area, err);
        if (r < 0)
                return r;
        uint64_t size = m->spec->limits.memory ? m->spec->limits.memory : OVERLAY_DEFAULT_SIZE;
        char opts[256];
        snprintf(opts, sizeof(opts), "mode=0700,size=%" PRIu64, size);
        r = sbx_mnt_fresh(area, "the overlay upper layer", "tmpfs", MS_NOSUID | MS_NODEV, opts,
                          err);
        if (r < 0)
                return r;
        close(area);
        area = openat(m->scratch_fd, "overlay", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (area < 0)
                return sbx_error_errno(err, errno, "open overlay area");
        r = overlay_dir(area, "upper", &upper, err);
        if (r >= 0)
                r = overlay_dir(area, "work", &work, err);
        if (r < 0)
                return r;
        snprintf(opts, sizeof(opts),
                 "lowerdir=/proc/self/fd/%d,upperdir=/proc/self/fd/%d,workdir=/proc/self/fd/%d",
                 lower, upper, work);
        return sbx_mnt_fresh(target, path, "overlay", MS_NOSUID | MS_NODEV, opts, err);
}

static int step_workspace(struct sbx_mnt *m, sbx_error **err)
{
        const char *ws = m->ctx->workspace, *path = workspace_path(m->spec);
        if (!ws)
                return 0;
        sbx_autoclose int src = open(ws, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (src < 0)
                return sbx_error_errno(err, errno, "workspace %s", ws);
        sbx_autoclose int t = -1;
        int r = sbx_mnt_target(m, path, false, &t, err);
        if (r < 0)
                return r;
        switch (m->spec->filesystem.workspace_mode) {
        case SBX_WORKSPACE_RW:
                return sbx_mnt_bind_fd(src, ws, t, path, false, err);
        case SBX_WORKSPACE_RO:
                return sbx_mnt_bind_fd(src, ws, t, path, true, err);
        case SBX_WORKSPACE_OVERLAY:
                return workspace_overlay(m, src, t, path, err);
        default:
                return sbx_error_set(err, EINVAL, "unknown workspace mode %d",
                                     (int)m->spec->filesystem.workspace_mode);
        }
}

/* pivot_root(".", ".") stacks the old root on top of the new one; detaching
 * it leaves the new root alone, with no path back to the host's tree. */
static int step_pivot(struct sbx_mnt *m, sbx_error **err)
{
        if (fchdir(m->root_fd) < 0)
                return sbx_error_errno(err, errno, "enter the new root");
        if (syscall(SYS_pivot_root, ".", ".") < 0)
                return sbx_error_errno(err, errno, "pivot_root to %s/root", m->ctx->scratch_dir);
        if (umount2(".", MNT_DETACH) < 0)
                return sbx_error_errno(err, errno, "detach the old root");
        if (chdir("/") < 0)
                return sbx_error_errno(err, errno, "chdir /");
        return 0;
}

/* The host root's tmpfs only holds mount points: make it read-only. */
static int step_finish(struct sbx_mnt *m, sbx_error **err)
{
        if (m->host_root) {
                sbx_autoclose int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (root < 0)
                        return sbx_error_errno(err, errno, "open /");
                int r = sbx_mnt_make_readonly(root, "/", false, err);
                if (r < 0)
                        return r;
        }
        const char *path = workspace_path(m->spec);
        if (m->ctx->workspace && chdir(path) < 0)
                return sbx_error_errno(err, errno, "chdir %s", path);
        return 0;
}

static const struct {
        const char *name;
        int (*run)(struct sbx_mnt *m, sbx_error **err);
} steps[] = {
        { "make the mount tree private", step_private },
        { "set up the scratch area", step_scratch },
        { "set up the root", sbx_mnt_setup_root },
        { "set up /proc", sbx_mnt_setup_proc },
        { "set up /sys", sbx_mnt_setup_sys },
        { "set up /dev", sbx_mnt_setup_dev },
        { "set up tmpfs mounts", step_tmpfs },
        { "set up the workspace", step_workspace },
        { "set up binds", step_binds },
        { "set up " SBX_HIDDEN_DIR, sbx_mnt_setup_hidden },
        { "mask paths", sbx_mnt_setup_masks },
        { "pivot into the new root", step_pivot },
        { "finish the root", step_finish },
};

static void mnt_close(struct sbx_mnt *m)
{
        sbx_closep(&m->root_fd);
        sbx_closep(&m->scratch_fd);
        sbx_closep(&m->hidden_fd);
}

int sbx_mount_setup(const struct sbx_mount_ctx *ctx, sbx_error **err)
{
        if (!ctx || !ctx->spec || !ctx->scratch_dir)
                return sbx_error_set(err, EINVAL, "mount setup: no spec or scratch dir given");
        struct sbx_mnt m __attribute__((cleanup(mnt_close))) = {
                .ctx = ctx,
                .spec = ctx->spec,
                .scratch_fd = -1,
                .root_fd = -1,
                .hidden_fd = -1,
                .host_root = ctx->spec->filesystem.rootfs == NULL,
        };
        for (size_t i = 0; i < SBX_ARRAY_SIZE(steps); i++) {
                int r = steps[i].run(&m, err);
                if (r < 0)
                        return sbx_error_prefix(err, r, "%s", steps[i].name);
        }
        return 0;
}
