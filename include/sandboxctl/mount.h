/* mount: the sandbox's filesystem view. Called in the sandbox's first child,
 * which already runs in new user, pid and mount namespaces (and is pid 1 of
 * the new pid namespace), before security set-up and exec.
 *
 * It makes the mount tree private, assembles the new root on a tmpfs at
 * ctx->scratch_dir (host binds read-only or a directory rootfs, a minimal
 * /etc, fresh /proc checked with fstatfs, minimal /dev with a private devpts
 * and /dev/shm, the profile's tmpfs mounts and binds, the workspace rw, ro or
 * as a throwaway overlay, masked paths, read-only /proc/sys and /sys), with
 * every mount target resolved inside the new root without following
 * symlinks out of it, then pivot_root()s into it and detaches the old root.
 * On success / is the sandbox root and the cwd is the workspace mount point
 * (or / when there is no workspace). */
#ifndef SANDBOXCTL_MOUNT_H
#define SANDBOXCTL_MOUNT_H

#include "sandboxctl/error.h"
#include "sandboxctl/spec.h"

struct sbx_mount_ctx {
        const struct sbx_spec *spec;
        const char *workspace;   /* host directory bound at the workspace path, or NULL */
        const char *scratch_dir; /* empty host directory owned by this sandbox */
        const char *init_exe;    /* host file bound read-only at SBX_INIT_PATH, or NULL */
};

int sbx_mount_setup(const struct sbx_mount_ctx *ctx, sbx_error **err);

#endif
