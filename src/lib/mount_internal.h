/* mount_internal: what the mount_*.c files share. Private to libsandbox.
 *
 * The new root is assembled at <scratch>/root; <scratch> is a tmpfs that
 * also holds the overlay upper/work dirs of the workspace, out of the
 * sandbox's sight once the old root is detached. Every mount target is
 * resolved inside the new root (mount_resolve.h) and every mount lands on
 * the resolved fd, never on a path string the sandbox's files could steer. */
#ifndef SANDBOXCTL_MOUNT_INTERNAL_H
#define SANDBOXCTL_MOUNT_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "sandboxctl/error.h"
#include "sandboxctl/mount.h"

struct sbx_mnt {
        const struct sbx_mount_ctx *ctx;
        const struct sbx_spec *spec;
        int scratch_fd; /* the scratch tmpfs */
        int root_fd; /* the new root, O_PATH */
        int hidden_fd; /* SBX_HIDDEN_DIR, O_PATH, or -1 (mount_hidden.c) */
        bool host_root; /* rootfs: host */
};

/* Low-level operations (mount_ops.c). `what` names the mount in errors as
 * the sandbox will see it ("/proc", "/dev/pts"). */

/* A fresh filesystem mounted onto target_fd (mount(2) through
 * /proc/self/fd/N). Error: "mount TYPE on WHAT: why". */
int sbx_mnt_fresh(int target_fd, const char *what, const char *fstype, unsigned long flags,
                  const char *data, sbx_error **err);
/* A recursive bind of src_fd onto target_fd, read-only (all of it) when
 * `read_only`. Error: "bind SRC_NAME on WHAT: why". */
int sbx_mnt_bind_fd(int src_fd, const char *src_name, int target_fd, const char *what,
                    bool read_only, sbx_error **err);
/* The same from a host path (followed, symlinks resolved on the host). */
int sbx_mnt_bind_path(const char *src, int target_fd, const char *what, bool read_only,
                      sbx_error **err);
/* Make the mount at fd read-only (recursively), keeping its other flags. */
int sbx_mnt_make_readonly(int fd, const char *what, bool recursive, sbx_error **err);

/* Resolve `path` inside the new root, creating it (directory or empty file
 * when `file`) if missing. Error: "mount point PATH: why". */
int sbx_mnt_target(struct sbx_mnt *m, const char *path, bool file, int *ret_fd, sbx_error **err);

/* Resolve an existing `path` inside the new root. -ENOENT (without an
 * error object) when it does not exist. */
int sbx_mnt_lookup(struct sbx_mnt *m, const char *path, int *ret_fd, sbx_error **err);

/* Steps (each adds its own context to errors). */
int sbx_mnt_setup_root(struct sbx_mnt *m, sbx_error **err); /* mount_root.c */
int sbx_mnt_setup_proc(struct sbx_mnt *m, sbx_error **err); /* mount_proc.c */
int sbx_mnt_setup_sys(struct sbx_mnt *m, sbx_error **err); /* mount_proc.c */
int sbx_mnt_setup_masks(struct sbx_mnt *m, sbx_error **err); /* mount_proc.c */
int sbx_mnt_setup_dev(struct sbx_mnt *m, sbx_error **err); /* mount_dev.c */
int sbx_mnt_setup_hidden(struct sbx_mnt *m, sbx_error **err); /* mount_hidden.c */

/* The /tmp size from the spec, or `fallback` when it has no /tmp. */
uint64_t sbx_mnt_tmp_size(const struct sbx_spec *spec, uint64_t fallback);

#endif
