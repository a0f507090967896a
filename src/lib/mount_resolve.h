/* mount_resolve: open paths inside a directory tree (the sandbox's new root)
 * without ever leaving it. Absolute symlinks are taken relative to the root,
 * ".." stops at the root, and magic links (/proc/PID/fd/N) are refused. With
 * openat2(RESOLVE_IN_ROOT) where the kernel has it; otherwise a component
 * by component O_NOFOLLOW walk that refuses symlinks altogether.
 *
 * Private to libsandbox (and its unit test). */
#ifndef SANDBOXCTL_MOUNT_RESOLVE_H
#define SANDBOXCTL_MOUNT_RESOLVE_H

#include <sys/types.h>

#include "sandboxctl/error.h"

enum sbx_resolve_flags {
        SBX_RESOLVE_MKDIR = 1u << 0, /* create missing directories, the last one too */
        SBX_RESOLVE_MKFILE = 1u << 1, /* create missing parents, the last one as a file */
        SBX_RESOLVE_NO_OPENAT2 = 1u << 2, /* use the fallback walk (tests) */
};

/* Open `path` (absolute or relative; both are taken inside root_fd) as an
 * O_PATH|O_CLOEXEC fd in *ret_fd. Missing components are created according
 * to `flags` (directories with mode 0755, files with mode 0644), always with
 * mkdirat()/openat() on a parent fd that was itself resolved inside the
 * root. Errors name the path: "/a/b: No such file or directory". */
int sbx_resolve_in_root(int root_fd, const char *path, unsigned flags, int *ret_fd,
                        sbx_error **err);

#endif
