/* snapshot_copy: copy a directory tree into a snapshot version (hard-link
 * dedup against the previous version, else reflink, else copy), scan a
 * tree's checksums, remove a tree. Every walk goes by directory fds with
 * O_NOFOLLOW: a symlink is recorded and recreated, never followed. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "sandboxctl/util.h"
#include "snapshot_internal.h"
#include "src/lib/lazy_crypto.h"

SBX_DEFINE_CLEANUP(DIR *, closedir)
SBX_DEFINE_CLEANUP(EVP_MD_CTX *, EVP_MD_CTX_free)

#define COPY_BUF (128 * 1024)

void snap_entries_clear(struct snap_entries *e)
{
        for (size_t i = 0; i < e->n; i++) {
                free(e->v[i].path);
                free(e->v[i].target);
        }
        free(e->v);
        *e = (struct snap_entries){ 0 };
}

static int compare_entries(const void *a, const void *b)
{
        return strcmp(((const struct snap_entry *)a)->path, ((const struct snap_entry *)b)->path);
}

void snap_entries_sort(struct snap_entries *e)
{
        if (e->n > 1)
                qsort(e->v, e->n, sizeof(e->v[0]), compare_entries);
}

const struct snap_entry *snap_entries_find(const struct snap_entries *e, const char *path)
{
        if (!e || e->n == 0)
                return NULL;
        struct snap_entry key = { .path = (char *)path };
        return bsearch(&key, e->v, e->n, sizeof(e->v[0]), compare_entries);
}

struct snap_entry *snap_entries_add(struct snap_entries *e, const char *path, const struct stat *st,
                                   enum snap_type type)
{
        if (e->n == e->cap) {
                size_t cap = e->cap ? e->cap * 2 : 64;
                struct snap_entry *v = reallocarray(e->v, cap, sizeof(*v));
                if (!v)
                        return NULL;
                e->v = v;
                e->cap = cap;
        }
        char *p = strdup(path);
        if (!p)
                return NULL;
        struct snap_entry *x = &e->v[e->n++];
        *x = (struct snap_entry){
                .path = p,
                .type = type,
                .mode = st->st_mode & 07777,
                .uid = st->st_uid,
                .gid = st->st_gid,
                .size = type == SNAP_FILE ? (uint64_t)st->st_size : 0,
                .mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec,
        };
        return x;
}

static void hex_of(const unsigned char *md, unsigned len, char ret[SNAP_SHA256_HEX])
{
        static const char digits[] = "0123456789abcdef";
        for (unsigned i = 0; i < len && i < 32; i++) {
                ret[2 * i] = digits[md[i] >> 4];
                ret[2 * i + 1] = digits[md[i] & 15];
        }
        ret[64] = '\0';
}

void snap_sha256_buf(const void *buf, size_t len, char ret[SNAP_SHA256_HEX])
{
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned mdlen = 0;
        EVP_Digest(buf, len, md, &mdlen, EVP_sha256(), NULL);
        hex_of(md, mdlen, ret);
}

/* Read fd to its end, hashing, and writing to out_fd when >= 0. */
static int hash_and_copy(int fd, int out_fd, char ret[SNAP_SHA256_HEX], sbx_error **err)
{
        int r = sbx_lazy_crypto_load(err);
        if (r < 0)
                return r;
        __attribute__((cleanup(EVP_MD_CTX_freep))) EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        sbx_autofree char *buf = malloc(COPY_BUF);
        if (!ctx || !buf || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL))
                return sbx_error_errno(err, ENOMEM, "sha256");
        for (;;) {
                ssize_t n = read(fd, buf, COPY_BUF);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return sbx_error_errno(err, errno, "read");
                if (n == 0)
                        break;
                EVP_DigestUpdate(ctx, buf, (size_t)n);
                for (ssize_t off = 0; out_fd >= 0 && off < n;) {
                        ssize_t w = write(out_fd, buf + off, (size_t)(n - off));
                        if (w < 0 && errno == EINTR)
                                continue;
                        if (w < 0)
                                return sbx_error_errno(err, errno, "write");
                        off += w;
                }
        }
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned mdlen = 0;
        EVP_DigestFinal_ex(ctx, md, &mdlen);
        hex_of(md, mdlen, ret);
        return 0;
}

int snap_sha256_fd(int fd, char ret[SNAP_SHA256_HEX], sbx_error **err)
{
        return hash_and_copy(fd, -1, ret, err);
}

/* Owner (as root), mode and times of what fd refers to (or dir_fd/name for a
 * symlink, which has no mode of its own). */
static int set_meta(int fd, int dir_fd, const char *name, const struct stat *st, sbx_error **err)
{
        struct timespec ts[2] = { st->st_atim, st->st_mtim };
        bool is_link = S_ISLNK(st->st_mode);
        if (geteuid() == 0) {
                int r = is_link ? fchownat(dir_fd, name, st->st_uid, st->st_gid,
                                           AT_SYMLINK_NOFOLLOW)
                                : fchown(fd, st->st_uid, st->st_gid);
                if (r < 0)
                        return sbx_error_errno(err, errno, "chown");
        }
        if (is_link) {
                if (utimensat(dir_fd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
                        return sbx_error_errno(err, errno, "set times");
                return 0;
        }
        if (fchmod(fd, st->st_mode & 07777) < 0)
                return sbx_error_errno(err, errno, "chmod");
        if (futimens(fd, ts) < 0)
                return sbx_error_errno(err, errno, "set times");
        return 0;
}

/* Hard-link the previous version's copy if it is the same file. Returns 1 if
 * linked, 0 if not (copy it), < 0 on error. */
static int link_previous(struct snap_copy *c, int src_fd, const struct stat *st, int dst_dir,
                         const char *name, struct snap_entry *e, sbx_error **err)
{
        const struct snap_entry *p = snap_entries_find(c->prev, e->path);
        if (c->prev_fd < 0 || !p || p->type != SNAP_FILE || p->size != e->size ||
            p->mtime_ns != e->mtime_ns || p->mode != e->mode || p->uid != st->st_uid ||
            p->gid != st->st_gid)
                return 0;
        int r = snap_sha256_fd(src_fd, e->sha256, err);
        if (r < 0)
                return r;
        if (strcmp(p->sha256, e->sha256) == 0 && linkat(c->prev_fd, p->path, dst_dir, name, 0) == 0)
                return 1;
        /* Changed, or EMLINK, EXDEV, ...: a copy will do, from the start. */
        if (lseek(src_fd, 0, SEEK_SET) < 0)
                return sbx_error_errno(err, errno, "seek");
        return 0;
}

static int copy_file(struct snap_copy *c, int src_dir, const char *name, const struct stat *st,
                     int dst_dir, struct snap_entry *e, sbx_error **err)
{
        sbx_autoclose int in = openat(src_dir, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
        if (in < 0)
                return sbx_error_errno(err, errno, "open %s", e->path);
        int r = link_previous(c, in, st, dst_dir, name, e, err);
        if (r < 0)
                return sbx_error_prefix(err, r, "%s", e->path);
        c->size += e->size;
        if (r > 0) {
                c->linked++;
                return 0;
        }
        sbx_autoclose int out = openat(dst_dir, name,
                                       O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (out < 0)
                return sbx_error_errno(err, errno, "create %s", e->path);
        c->new_bytes += e->size;
        if (!c->no_reflink && ioctl(out, FICLONE, in) == 0) {
                r = snap_sha256_fd(in, e->sha256, err);
        } else {
                if (errno == EOPNOTSUPP || errno == ENOTTY || errno == EXDEV || errno == EINVAL)
                        c->no_reflink = true;
                r = hash_and_copy(in, out, e->sha256, err);
        }
        if (r >= 0)
                r = set_meta(out, dst_dir, name, st, err);
        return r < 0 ? sbx_error_prefix(err, r, "%s", e->path) : 0;
}

static int copy_dir(struct snap_copy *c, int src_fd, int dst_fd, const char *rel, sbx_error **err);

static int copy_symlink(int src_dir, const char *name, const struct stat *st, int dst_dir,
                        struct snap_entry *e, sbx_error **err)
{
        size_t len = (size_t)st->st_size + 1;
        if (len < 256)
                len = 256;
        sbx_autofree char *target = malloc(len + 1);
        if (!target)
                return sbx_error_errno(err, ENOMEM, "%s", e->path);
        ssize_t n = readlinkat(src_dir, name, target, len);
        if (n < 0)
                return sbx_error_errno(err, errno, "readlink %s", e->path);
        target[n] = '\0';
        if (symlinkat(target, dst_dir, name) < 0)
                return sbx_error_errno(err, errno, "symlink %s", e->path);
        e->target = sbx_steal_ptr(target);
        int r = set_meta(-1, dst_dir, name, st, err);
        return r < 0 ? sbx_error_prefix(err, r, "%s", e->path) : 0;
}

static int copy_subdir(struct snap_copy *c, int src_dir, const char *name, const struct stat *st,
                       int dst_dir, const char *rel, sbx_error **err)
{
        sbx_autoclose int in = openat(src_dir, name,
                                      O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (in < 0)
                return sbx_error_errno(err, errno, "open %s", rel);
        if (mkdirat(dst_dir, name, 0700) < 0)
                return sbx_error_errno(err, errno, "mkdir %s", rel);
        sbx_autoclose int out = openat(dst_dir, name,
                                       O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (out < 0)
                return sbx_error_errno(err, errno, "open %s", rel);
        int r = copy_dir(c, in, out, rel, err);
        if (r < 0)
                return r;
        r = set_meta(out, dst_dir, name, st, err);
        return r < 0 ? sbx_error_prefix(err, r, "%s", rel) : 0;
}

static int copy_special(int dst_dir, const char *name, const struct stat *st, const char *rel,
                        sbx_error **err)
{
        struct timespec ts[2] = { st->st_atim, st->st_mtim };
        if (mknodat(dst_dir, name, st->st_mode, st->st_rdev) < 0)
                return sbx_error_errno(err, errno, "mknod %s", rel);
        if (geteuid() == 0 &&
            fchownat(dst_dir, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0)
                return sbx_error_errno(err, errno, "chown %s", rel);
        /* Our own fresh directory: name is the node just made. */
        if (fchmodat(dst_dir, name, st->st_mode & 07777, 0) < 0 ||
            utimensat(dst_dir, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
                return sbx_error_errno(err, errno, "set mode and times of %s", rel);
        return 0;
}

static int copy_one(struct snap_copy *c, int src_dir, const char *name, int dst_dir,
                    const char *rel, sbx_error **err)
{
        struct stat st;
        if (fstatat(src_dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return sbx_error_errno(err, errno, "stat %s", rel);
        enum snap_type type;
        switch (st.st_mode & S_IFMT) {
        case S_IFREG: type = SNAP_FILE; break;
        case S_IFDIR: type = SNAP_DIR; break;
        case S_IFLNK: type = SNAP_SYMLINK; break;
        case S_IFIFO: type = SNAP_FIFO; break;
        default:
                return 0; /* sockets and devices do not survive a copy: left out */
        }
        struct snap_entry *e = snap_entries_add(c->out, rel, &st, type);
        if (!e)
                return sbx_error_errno(err, ENOMEM, "%s", rel);
        switch (type) {
        case SNAP_FILE: return copy_file(c, src_dir, name, &st, dst_dir, e, err);
        case SNAP_DIR: return copy_subdir(c, src_dir, name, &st, dst_dir, rel, err);
        case SNAP_SYMLINK: return copy_symlink(src_dir, name, &st, dst_dir, e, err);
        case SNAP_FIFO: return copy_special(dst_dir, name, &st, rel, err);
        default: return 0;
        }
}

/* Open dir_fd as a DIR stream of its own (the fd stays the caller's). */
static int open_dir_stream(int dir_fd, const char *rel, DIR **ret, sbx_error **err)
{
        int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return sbx_error_errno(err, errno, "open %s", rel);
        DIR *d = fdopendir(fd);
        if (!d) {
                int e = errno;
                close(fd);
                return sbx_error_errno(err, e, "open %s", rel);
        }
        *ret = d;
        return 0;
}

static bool is_dot(const char *name)
{
        return strcmp(name, ".") == 0 || strcmp(name, "..") == 0;
}

static int copy_dir(struct snap_copy *c, int src_fd, int dst_fd, const char *rel, sbx_error **err)
{
        __attribute__((cleanup(closedirp))) DIR *d = NULL;
        int r = open_dir_stream(src_fd, rel, &d, err);
        if (r < 0)
                return r;
        struct dirent *de;
        while ((errno = 0, de = readdir(d))) {
                if (is_dot(de->d_name))
                        continue;
                sbx_autofree char *child = NULL;
                if (asprintf(&child, "%s/%s", rel, de->d_name) < 0)
                        return sbx_error_errno(err, ENOMEM, "%s", rel);
                r = copy_one(c, src_fd, de->d_name, dst_fd, child, err);
                if (r < 0)
                        return r;
        }
        if (errno)
                return sbx_error_errno(err, errno, "read directory %s", rel);
        return 0;
}

int snap_copy_tree(struct snap_copy *c, const char *src, int dst_fd, const char *rel,
                   sbx_error **err)
{
        sbx_autoclose int in = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (in < 0)
                return sbx_error_errno(err, errno, "open %s", src);
        struct stat st;
        if (fstat(in, &st) < 0)
                return sbx_error_errno(err, errno, "stat %s", src);
        if (mkdirat(dst_fd, rel, 0700) < 0)
                return sbx_error_errno(err, errno, "mkdir %s", rel);
        sbx_autoclose int out = openat(dst_fd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (out < 0)
                return sbx_error_errno(err, errno, "open %s", rel);
        if (!snap_entries_add(c->out, rel, &st, SNAP_DIR))
                return sbx_error_errno(err, ENOMEM, "%s", rel);
        int r = copy_dir(c, in, out, rel, err);
        if (r < 0)
                return sbx_error_prefix(err, r, "copy %s", src);
        r = set_meta(out, dst_fd, rel, &st, err);
        return r < 0 ? sbx_error_prefix(err, r, "copy %s", src) : 0;
}

static int scan_dir(int dir_fd, const char *rel, struct snap_entries *out, sbx_error **err);

static int scan_one(int dir_fd, const char *name, const char *rel, struct snap_entries *out,
                    sbx_error **err)
{
        struct stat st;
        if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return sbx_error_errno(err, errno, "stat %s", rel);
        enum snap_type type = S_ISREG(st.st_mode)   ? SNAP_FILE
                              : S_ISDIR(st.st_mode) ? SNAP_DIR
                              : S_ISLNK(st.st_mode) ? SNAP_SYMLINK
                              : S_ISFIFO(st.st_mode) ? SNAP_FIFO
                                                     : 0;
        if (!type)
                return sbx_error_set(err, EBADMSG, "%s: unexpected file type", rel);
        struct snap_entry *e = snap_entries_add(out, rel, &st, type);
        if (!e)
                return sbx_error_errno(err, ENOMEM, "%s", rel);
        if (type == SNAP_FILE) {
                sbx_autoclose int fd = openat(dir_fd, name,
                                              O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
                if (fd < 0)
                        return sbx_error_errno(err, errno, "open %s", rel);
                int r = snap_sha256_fd(fd, e->sha256, err);
                return r < 0 ? sbx_error_prefix(err, r, "%s", rel) : 0;
        }
        if (type == SNAP_SYMLINK) {
                char buf[4096];
                ssize_t n = readlinkat(dir_fd, name, buf, sizeof(buf) - 1);
                if (n < 0)
                        return sbx_error_errno(err, errno, "readlink %s", rel);
                buf[n] = '\0';
                e->target = strdup(buf);
                return e->target ? 0 : sbx_error_errno(err, ENOMEM, "%s", rel);
        }
        if (type != SNAP_DIR)
                return 0;
        sbx_autoclose int sub = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0)
                return sbx_error_errno(err, errno, "open %s", rel);
        return scan_dir(sub, rel, out, err);
}

static int scan_dir(int dir_fd, const char *rel, struct snap_entries *out, sbx_error **err)
{
        __attribute__((cleanup(closedirp))) DIR *d = NULL;
        int r = open_dir_stream(dir_fd, rel, &d, err);
        if (r < 0)
                return r;
        struct dirent *de;
        while ((errno = 0, de = readdir(d))) {
                if (is_dot(de->d_name))
                        continue;
                sbx_autofree char *child = NULL;
                if (asprintf(&child, "%s/%s", rel, de->d_name) < 0)
                        return sbx_error_errno(err, ENOMEM, "%s", rel);
                r = scan_one(dir_fd, de->d_name, child, out, err);
                if (r < 0)
                        return r;
        }
        if (errno)
                return sbx_error_errno(err, errno, "read directory %s", rel);
        return 0;
}

int snap_scan_tree(int dir_fd, const char *rel, struct snap_entries *out, sbx_error **err)
{
        return scan_one(dir_fd, rel, rel, out, err);
}

static int empty_dir(int fd, sbx_error **err)
{
        __attribute__((cleanup(closedirp))) DIR *d = NULL;
        int r = open_dir_stream(fd, "directory", &d, err);
        if (r < 0)
                return r;
        struct dirent *de;
        while ((errno = 0, de = readdir(d))) {
                if (is_dot(de->d_name))
                        continue;
                r = snap_remove_tree(fd, de->d_name, err);
                if (r < 0)
                        return r;
        }
        return errno ? sbx_error_errno(err, errno, "read directory") : 0;
}

int snap_remove_tree(int dir_fd, const char *name, sbx_error **err)
{
        struct stat st;
        if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : sbx_error_errno(err, errno, "stat %s", name);
        if (S_ISDIR(st.st_mode)) {
                sbx_autoclose int fd = openat(dir_fd, name,
                                              O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return sbx_error_errno(err, errno, "open %s", name);
                /* A read-only directory (kept from the source) must be
                 * writable to be emptied. */
                if ((st.st_mode & 0700) != 0700 && fchmod(fd, 0700) < 0)
                        return sbx_error_errno(err, errno, "chmod %s", name);
                int r = empty_dir(fd, err);
                if (r < 0)
                        return sbx_error_prefix(err, r, "%s", name);
        }
        if (unlinkat(dir_fd, name, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) < 0 && errno != ENOENT)
                return sbx_error_errno(err, errno, "remove %s", name);
        return 0;
}
