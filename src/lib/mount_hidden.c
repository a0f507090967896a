/* mount_hidden: SBX_HIDDEN_DIR, a small read-only tmpfs of sandboxctl's own
 * inside the sandbox. It holds the empty file that masked files are bound
 * from, and the mount point of sandboxctl-init (bound read-only from the
 * host). Both live on mounts inside the sandbox, which is what CRIU needs
 * to dump it: a bind whose source is out of the sandbox's sight (the
 * scratch dir) or a pid 1 running a file it cannot see cannot be dumped. */
#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include "sandboxctl/util.h"
#include "src/lib/mount_internal.h"
#include "src/lib/mount_resolve.h"
#include "src/lib/run-internal.h"

#define HIDDEN_OPTS "mode=0555,size=4k,nr_inodes=8"

static int empty_file(int dir, const char *name, mode_t mode, sbx_error **err)
{
        int fd = openat(dir, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, mode);
        if (fd < 0)
                return sbx_error_errno(err, errno, "create %s/%s", SBX_HIDDEN_DIR, name);
        close(fd);
        return 0;
}

static int bind_init(struct sbx_mnt *m, int dir, sbx_error **err)
{
        sbx_autoclose int src = open(m->ctx->init_exe, O_PATH | O_CLOEXEC);
        if (src < 0)
                return sbx_error_errno(err, errno, "open %s", m->ctx->init_exe);
        int r = empty_file(dir, "init", 0555, err);
        if (r < 0)
                return r;
        sbx_autoclose int t = openat(dir, "init", O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (t < 0)
                return sbx_error_errno(err, errno, "open %s", SBX_INIT_PATH);
        return sbx_mnt_bind_fd(src, m->ctx->init_exe, t, SBX_INIT_PATH, true, err);
}

int sbx_mnt_setup_hidden(struct sbx_mnt *m, sbx_error **err)
{
        if (m->spec->filesystem.masked.n == 0 && !m->ctx->init_exe)
                return 0;
        sbx_autoclose int t = -1;
        int r = sbx_mnt_target(m, SBX_HIDDEN_DIR, false, &t, err);
        if (r < 0)
                return r;
        r = sbx_mnt_fresh(t, SBX_HIDDEN_DIR, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                          HIDDEN_OPTS, err);
        if (r < 0)
                return r;
        sbx_autoclose int dir = -1;
        r = sbx_resolve_in_root(m->root_fd, SBX_HIDDEN_DIR, 0, &dir, err);
        if (r < 0)
                return sbx_error_prefix(err, r, "open");
        sbx_autoclose int rw = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (rw < 0)
                return sbx_error_errno(err, errno, "open %s", SBX_HIDDEN_DIR);
        r = empty_file(rw, "masked", 0444, err);
        if (r >= 0 && m->ctx->init_exe)
                r = bind_init(m, rw, err);
        if (r >= 0)
                r = sbx_mnt_make_readonly(dir, SBX_HIDDEN_DIR, false, err);
        if (r < 0)
                return r;
        m->hidden_fd = sbx_steal_fd(dir);
        return 0;
}
