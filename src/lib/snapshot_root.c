/* snapshot_root: the root mount of a sandbox, without what is mounted on it.
 *
 * CRIU restores a mount namespace on a root directory given to it (--root)
 * and mounts everything else on top. For `rootfs: host` a sandbox's root is
 * a tmpfs directory that holds only mount points (directories, empty files)
 * and symlinks; at checkpoint time this skeleton is copied out of the
 * sandbox's mount namespace (a forked child joins it and clones its root
 * mount alone), and at restore time copied again into a fresh directory. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandboxctl/snapshot.h"
#include "sandboxctl/util.h"

#define SKEL_MAX_DEPTH 16

static int skel_copy(int src, int dst, int depth);

static int skel_entry(int src, int dst, const struct dirent *de, int depth)
{
        struct stat st;
        if (fstatat(src, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode)) {
                if (mkdirat(dst, de->d_name, st.st_mode & 07777) < 0 && errno != EEXIST)
                        return -errno;
                sbx_autoclose int s = openat(src, de->d_name,
                                             O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                sbx_autoclose int d = openat(dst, de->d_name,
                                             O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (s < 0 || d < 0)
                        return -errno;
                return skel_copy(s, d, depth + 1);
        }
        if (S_ISLNK(st.st_mode)) {
                char target[PATH_MAX];
                ssize_t n = readlinkat(src, de->d_name, target, sizeof(target) - 1);
                if (n < 0)
                        return -errno;
                target[n] = '\0';
                return symlinkat(target, dst, de->d_name) < 0 ? -errno : 0;
        }
        /* Files of the skeleton are mount points: empty. */
        int fd = openat(dst, de->d_name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC,
                        st.st_mode & 07777);
        if (fd < 0)
                return -errno;
        close(fd);
        return 0;
}

static int skel_copy(int src, int dst, int depth)
{
        if (depth > SKEL_MAX_DEPTH)
                return -ELOOP;
        /* A fresh open: src may be an O_PATH fd (open_tree), which
         * getdents refuses. */
        int fd = openat(src, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        if (!d) {
                int e = errno;
                if (fd >= 0)
                        close(fd);
                return -e;
        }
        struct dirent *de;
        int r = 0;
        while (r >= 0 && (de = readdir(d)))
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                        r = skel_entry(src, dst, de, depth);
        closedir(d);
        return r;
}

/* The child: join pid's mount namespace, clone the mount of its root
 * alone (from /proc/PID/root, opened before: the namespace's own root is
 * not what a pivot_root'ed sandbox sees), copy it into dst. Exits with the
 * errno. */
static _Noreturn void skel_child(pid_t pid, int dst)
{
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/root", (int)pid);
        int root = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)pid);
        int ns = open(path, O_RDONLY | O_CLOEXEC);
        if (root < 0 || ns < 0 || setns(ns, CLONE_NEWNS) < 0)
                _exit(errno);
        int tree = (int)syscall(SYS_open_tree, root, "",
                                AT_EMPTY_PATH | OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
        if (tree < 0)
                _exit(errno);
        int r = skel_copy(tree, dst, 0);
        _exit(r < 0 ? -r : 0);
}

int sbx_snapshot_root_save(pid_t pid, const char *dest, sbx_error **err)
{
        if (mkdir(dest, 0755) < 0)
                return sbx_error_errno(err, errno, "mkdir %s", dest);
        sbx_autoclose int dst = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dst < 0)
                return sbx_error_errno(err, errno, "open %s", dest);
        pid_t child = fork();
        if (child < 0)
                return sbx_error_errno(err, errno, "copy the root of pid %d: fork", (int)pid);
        if (child == 0)
                skel_child(pid, dst);
        int status = 0;
        while (waitpid(child, &status, 0) < 0 && errno == EINTR)
                ;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                int e = WIFEXITED(status) ? WEXITSTATUS(status) : EIO;
                return sbx_error_errno(err, e, "copy the root mount of pid %d into %s", (int)pid,
                                       dest);
        }
        return 0;
}

int sbx_snapshot_root_copy(const char *src, const char *dest, sbx_error **err)
{
        if (mkdir(dest, 0755) < 0 && errno != EEXIST)
                return sbx_error_errno(err, errno, "mkdir %s", dest);
        sbx_autoclose int s = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        sbx_autoclose int d = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (s < 0 || d < 0)
                return sbx_error_errno(err, errno, "open %s", s < 0 ? src : dest);
        int r = skel_copy(s, d, 0);
        if (r < 0)
                return sbx_error_errno(err, -r, "copy %s into %s", src, dest);
        return 0;
}
