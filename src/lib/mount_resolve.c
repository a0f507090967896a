/* mount_resolve: resolve (and create) paths inside the new root, never
 * following a symlink out of it. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandboxctl/util.h"
#include "src/lib/mount_resolve.h"

/* openat2 may fail with EAGAIN when a rename or mount raced the lookup. */
#define RESOLVE_RETRIES 8

static int resolve_openat2(int root_fd, const char *path, int *ret_fd)
{
        struct open_how how = {
                .flags = O_PATH | O_CLOEXEC,
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        for (int i = 0; i < RESOLVE_RETRIES; i++) {
                int fd = (int)syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
                if (fd >= 0) {
                        *ret_fd = fd;
                        return 0;
                }
                if (errno != EAGAIN)
                        return -errno;
        }
        return -EAGAIN;
}

static void close_all(int *fds, size_t n)
{
        for (size_t i = 0; i < n; i++)
                close(fds[i]);
}

/* Open one component below `dir` without following it; refuse symlinks. */
static int walk_step(int dir, const char *name, bool more, int *ret_fd)
{
        int fd = openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        struct stat st;
        int r = 0;
        if (fstat(fd, &st) < 0)
                r = -errno;
        else if (S_ISLNK(st.st_mode))
                r = -ELOOP;
        else if (more && !S_ISDIR(st.st_mode))
                r = -ENOTDIR;
        if (r < 0) {
                close(fd);
                return r;
        }
        *ret_fd = fd;
        return 0;
}

/* The fallback: a stack of directory fds, ".." pops (never above the root),
 * every symlink is refused. */
static int resolve_walk(int root_fd, const char *path, int *ret_fd)
{
        sbx_autofree char *copy = strdup(path);
        sbx_autofree int *fds = calloc(strlen(path) / 2 + 2, sizeof(int));
        if (!copy || !fds)
                return -ENOMEM;
        size_t n = 0;
        fds[n] = openat(root_fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fds[n] < 0)
                return -errno;
        n++;
        char *save = NULL;
        for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
                if (strcmp(c, ".") == 0)
                        continue;
                if (strcmp(c, "..") == 0) {
                        if (n > 1)
                                close(fds[--n]);
                        continue;
                }
                bool more = save && *save;
                int r = walk_step(fds[n - 1], c, more, &fds[n]);
                if (r < 0) {
                        close_all(fds, n);
                        return r;
                }
                n++;
        }
        *ret_fd = fds[n - 1];
        close_all(fds, n - 1);
        return 0;
}

static int resolve_one(int root_fd, const char *path, bool walk, int *ret_fd)
{
        if (!walk) {
                int r = resolve_openat2(root_fd, *path ? path : ".", ret_fd);
                if (r != -ENOSYS)
                        return r;
        }
        return resolve_walk(root_fd, path, ret_fd);
}

static int make_component(int parent, const char *name, bool file)
{
        if (!file)
                return mkdirat(parent, name, 0755) < 0 ? -errno : 0;
        int fd = openat(parent, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        close(fd);
        return 0;
}

/* Resolve `prefix`; when it is missing create its last component `name`
 * in `parent` (already resolved inside the root) and resolve it again. A
 * dangling symlink is not followed: it stays missing and fails. */
static int resolve_or_create(int root_fd, const char *prefix, int parent, const char *name,
                             bool file, bool walk, int *ret_fd, sbx_error **err)
{
        int r = resolve_one(root_fd, prefix, walk, ret_fd);
        if (r != -ENOENT)
                return r < 0 ? sbx_error_errno(err, -r, "%s", prefix) : 0;
        r = make_component(parent, name, file);
        if (r < 0 && r != -EEXIST)
                return sbx_error_errno(err, -r, "create %s", prefix);
        r = resolve_one(root_fd, prefix, walk, ret_fd);
        return r < 0 ? sbx_error_errno(err, -r, "%s", prefix) : 0;
}

static int resolve_create(int root_fd, const char *path, unsigned flags, bool walk, int *ret_fd,
                          sbx_error **err)
{
        sbx_autofree char *copy = strdup(path);
        if (!copy)
                return sbx_error_errno(err, ENOMEM, "%s", path);
        sbx_autoclose int parent = openat(root_fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (parent < 0)
                return sbx_error_errno(err, errno, "open root");
        size_t len = strlen(copy), i = 0;
        while (i < len) {
                while (i < len && copy[i] == '/')
                        i++;
                size_t start = i;
                while (i < len && copy[i] != '/')
                        i++;
                if (start == i)
                        break;
                char saved = copy[i];
                bool last = strspn(copy + i, "/") == len - i;
                sbx_autofree char *name = strndup(copy + start, i - start);
                if (!name)
                        return sbx_error_errno(err, ENOMEM, "%s", path);
                copy[i] = '\0';
                int fd = -1;
                int r = resolve_or_create(root_fd, copy, parent, name,
                                          last && (flags & SBX_RESOLVE_MKFILE), walk, &fd, err);
                if (r < 0)
                        return r;
                copy[i] = saved;
                close(parent);
                parent = fd;
        }
        *ret_fd = sbx_steal_fd(parent);
        return 0;
}

int sbx_resolve_in_root(int root_fd, const char *path, unsigned flags, int *ret_fd, sbx_error **err)
{
        bool walk = flags & SBX_RESOLVE_NO_OPENAT2;
        int fd = -1;
        int r = resolve_one(root_fd, path, walk, &fd);
        if (r == 0) {
                *ret_fd = fd;
                return 0;
        }
        if (r != -ENOENT || !(flags & (SBX_RESOLVE_MKDIR | SBX_RESOLVE_MKFILE)))
                return sbx_error_errno(err, -r, "%s", path);
        return resolve_create(root_fd, path, flags, walk, ret_fd, err);
}
