/* Unit tests for mount_resolve: resolution stays inside the root, creates
 * what is missing inside it, and refuses or contains every escape. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sandboxctl/error.h"
#include "src/lib/mount_resolve.h"

static char tree[64];
static int root_fd = -1;

static void mk(const char *rel, bool dir)
{
        char p[PATH_MAX];
        snprintf(p, sizeof(p), "%s/%s", tree, rel);
        if (dir)
                cr_assert_eq(mkdir(p, 0755), 0, "mkdir %s: %s", p, strerror(errno));
        else
                cr_assert_geq(close(open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0644)), 0);
}

static void ln(const char *target, const char *rel)
{
        char p[PATH_MAX];
        snprintf(p, sizeof(p), "%s/%s", tree, rel);
        cr_assert_eq(symlink(target, p), 0, "symlink %s: %s", p, strerror(errno));
}

/* root/
 *   a/b/           etc/marker     file
 *   abs -> /etc    rel -> ../../..    inner -> a/b
 *   loop1 -> loop2, loop2 -> loop1    dangle -> /sbx-resolve-nonexistent */
static void setup(void)
{
        snprintf(tree, sizeof(tree), "/tmp/sbx-resolve-XXXXXX");
        cr_assert_not_null(mkdtemp(tree));
        mk("a", true);
        mk("a/b", true);
        mk("etc", true);
        mk("etc/marker", false);
        mk("file", false);
        ln("/etc", "abs");
        ln("../../..", "rel");
        ln("a/b", "inner");
        ln("loop2", "loop1");
        ln("loop1", "loop2");
        ln("/sbx-resolve-nonexistent", "dangle");
        root_fd = open(tree, O_PATH | O_DIRECTORY | O_CLOEXEC);
        cr_assert_geq(root_fd, 0);
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *f)
{
        (void)st, (void)flag, (void)f;
        return remove(p);
}

static void teardown(void)
{
        close(root_fd);
        nftw(tree, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(resolve, .init = setup, .fini = teardown);

/* The inode of tree/rel, to compare with what a resolved fd points at. */
static ino_t ino_of(const char *rel)
{
        char p[PATH_MAX];
        struct stat st;
        snprintf(p, sizeof(p), "%s/%s", tree, rel);
        cr_assert_eq(lstat(p, &st), 0, "lstat %s: %s", p, strerror(errno));
        return st.st_ino;
}

static ino_t resolve_ino(const char *path, unsigned flags)
{
        sbx_autoerror e = NULL;
        int fd = -1;
        int r = sbx_resolve_in_root(root_fd, path, flags, &fd, &e);
        cr_assert_eq(r, 0, "resolve %s: %s", path, e ? e->message : "?");
        struct stat st;
        cr_assert_eq(fstat(fd, &st), 0);
        close(fd);
        return st.st_ino;
}

static void expect_fail(const char *path, unsigned flags, int code, const char *msg)
{
        sbx_autoerror e = NULL;
        int fd = -1;
        int r = sbx_resolve_in_root(root_fd, path, flags, &fd, &e);
        cr_assert_eq(r, -code, "resolve %s: got %d, want %d", path, r, -code);
        cr_assert_eq(fd, -1, "ret_fd set on failure");
        cr_assert_not_null(e);
        cr_assert_eq(e->code, code);
        cr_assert_str_eq(e->message, msg);
}

static bool host_exists(const char *p)
{
        struct stat st;
        return lstat(p, &st) == 0;
}

Test(resolve, plain_paths)
{
        cr_assert_eq(resolve_ino("/a/b", 0), ino_of("a/b"));
        cr_assert_eq(resolve_ino("a/b", 0), ino_of("a/b"));
        cr_assert_eq(resolve_ino("/", 0), ino_of("."));
        cr_assert_eq(resolve_ino("/inner", 0), ino_of("a/b"));
}

Test(resolve, absolute_symlink_stays_inside)
{
        cr_assert_eq(resolve_ino("/abs/marker", 0), ino_of("etc/marker"));
        expect_fail("/abs/passwd", 0, ENOENT, "/abs/passwd: No such file or directory");
}

Test(resolve, dotdot_is_clamped_at_the_root)
{
        cr_assert_eq(resolve_ino("/rel", 0), ino_of("."));
        cr_assert_eq(resolve_ino("/../../..", 0), ino_of("."));
        cr_assert_eq(resolve_ino("/a/b/../../../../etc/marker", 0), ino_of("etc/marker"));
        expect_fail("/rel/etc/passwd", 0, ENOENT, "/rel/etc/passwd: No such file or directory");
}

Test(resolve, loops_fail)
{
        expect_fail("/loop1", 0, ELOOP, "/loop1: Too many levels of symbolic links");
        expect_fail("/loop1/x", SBX_RESOLVE_MKDIR, ELOOP,
                    "/loop1/x: Too many levels of symbolic links");
}

Test(resolve, magic_links_refused)
{
        sbx_autoerror e = NULL;
        int host_root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC), fd = -1;
        cr_assert_geq(host_root, 0);
        int r = sbx_resolve_in_root(host_root, "/proc/self/cwd", 0, &fd, &e);
        close(host_root);
        cr_assert_eq(r, -ELOOP);
        cr_assert_str_eq(e->message, "/proc/self/cwd: Too many levels of symbolic links");
}

Test(resolve, mkdir_creates_inside)
{
        cr_assert_eq(resolve_ino("/x/y/z", SBX_RESOLVE_MKDIR), ino_of("x/y/z"));
        struct stat st;
        cr_assert_eq(fstatat(root_fd, "x/y/z", &st, AT_SYMLINK_NOFOLLOW), 0);
        cr_assert(S_ISDIR(st.st_mode));
        /* Existing paths are returned as they are. */
        cr_assert_eq(resolve_ino("/a/b", SBX_RESOLVE_MKDIR), ino_of("a/b"));
}

Test(resolve, mkfile_creates_parents_and_file)
{
        cr_assert_eq(resolve_ino("/f/g/file", SBX_RESOLVE_MKFILE), ino_of("f/g/file"));
        struct stat st;
        cr_assert_eq(fstatat(root_fd, "f/g", &st, AT_SYMLINK_NOFOLLOW), 0);
        cr_assert(S_ISDIR(st.st_mode));
        cr_assert_eq(fstatat(root_fd, "f/g/file", &st, AT_SYMLINK_NOFOLLOW), 0);
        cr_assert(S_ISREG(st.st_mode));
}

Test(resolve, create_through_absolute_symlink_stays_inside)
{
        cr_assert(!host_exists("/etc/sbx-resolve-new"));
        cr_assert_eq(resolve_ino("/abs/sbx-resolve-new/d", SBX_RESOLVE_MKDIR),
                     ino_of("etc/sbx-resolve-new/d"));
        cr_assert(!host_exists("/etc/sbx-resolve-new"), "created on the host's /etc");
        cr_assert_eq(resolve_ino("/rel/made", SBX_RESOLVE_MKDIR), ino_of("made"));
}

Test(resolve, dangling_symlink_is_not_followed)
{
        expect_fail("/dangle/x", SBX_RESOLVE_MKDIR, ENOENT, "/dangle: No such file or directory");
        cr_assert(!host_exists("/sbx-resolve-nonexistent"));
        struct stat st;
        cr_assert_neq(fstatat(root_fd, "sbx-resolve-nonexistent", &st, 0), 0);
}

Test(resolve, file_in_the_middle)
{
        expect_fail("/file/x", SBX_RESOLVE_MKDIR, ENOTDIR, "/file/x: Not a directory");
}

Test(resolve, fallback_walk_refuses_symlinks)
{
        const unsigned w = SBX_RESOLVE_NO_OPENAT2;
        cr_assert_eq(resolve_ino("/a/b", w), ino_of("a/b"));
        cr_assert_eq(resolve_ino("/../a/./b/../../..", w), ino_of("."));
        expect_fail("/abs/marker", w, ELOOP, "/abs/marker: Too many levels of symbolic links");
        expect_fail("/inner", w, ELOOP, "/inner: Too many levels of symbolic links");
        expect_fail("/abs/sbx-resolve-new", w | SBX_RESOLVE_MKDIR, ELOOP,
                    "/abs/sbx-resolve-new: Too many levels of symbolic links");
        cr_assert(!host_exists("/etc/sbx-resolve-new"));
        cr_assert_eq(resolve_ino("/p/q", w | SBX_RESOLVE_MKDIR), ino_of("p/q"));
        cr_assert_eq(resolve_ino("/p/q/file", w | SBX_RESOLVE_MKFILE), ino_of("p/q/file"));
}
