/* snapshot_internal: what snapshot.c and snapshot_copy.c share: the entries
 * of a manifest and the tree walks (copy, scan, remove). Private. */
#ifndef SBX_SNAPSHOT_INTERNAL_H
#define SBX_SNAPSHOT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sandboxctl/error.h"

#define SNAP_SHA256_HEX 65

enum snap_type {
        SNAP_FILE = 'f',
        SNAP_DIR = 'd',
        SNAP_SYMLINK = 'l',
        SNAP_FIFO = 'p',
};

/* One thing in a version, by its path relative to the version directory. */
struct snap_entry {
        char *path;
        enum snap_type type;
        mode_t mode; /* permission bits (07777) */
        uid_t uid;
        gid_t gid;
        uint64_t size;
        int64_t mtime_ns;
        char sha256[SNAP_SHA256_HEX]; /* files: lower-case hex; else "" */
        char *target; /* symlinks */
};

struct snap_entries {
        struct snap_entry *v;
        size_t n, cap;
};

void snap_entries_clear(struct snap_entries *e);
struct stat;
/* Append an entry for `path` (copied) made from st; returns it, or NULL when
 * out of memory. */
struct snap_entry *snap_entries_add(struct snap_entries *e, const char *path, const struct stat *st,
                                   enum snap_type type);
/* Sort by path (strcmp), for snap_entries_find() and stable manifests. */
void snap_entries_sort(struct snap_entries *e);
const struct snap_entry *snap_entries_find(const struct snap_entries *e, const char *path);

struct snap_copy {
        int prev_fd; /* previous version's directory, -1: none (no dedup) */
        const struct snap_entries *prev; /* its entries, sorted */
        struct snap_entries *out; /* appended to */
        uint64_t size; /* bytes of regular files copied or linked */
        uint64_t new_bytes; /* bytes not hard-linked */
        uint64_t linked; /* files hard-linked to the previous version */
        bool no_reflink; /* FICLONE failed once with "not supported" */
};

/* Copy directory `src` (followed if a symlink: the caller chose it) to
 * `rel` (relative to dst_fd, must not exist; its parent must). Nothing
 * inside src is followed. */
int snap_copy_tree(struct snap_copy *c, const char *src, int dst_fd, const char *rel,
                   sbx_error **err);
/* Record every entry under rel (relative to dir_fd) with checksums, as it is. */
int snap_scan_tree(int dir_fd, const char *rel, struct snap_entries *out, sbx_error **err);
/* rm -rf of name under dir_fd, never following a symlink. ENOENT is 0. */
int snap_remove_tree(int dir_fd, const char *name, sbx_error **err);
/* sha256 of an open file from its start, as hex. */
int snap_sha256_fd(int fd, char ret[SNAP_SHA256_HEX], sbx_error **err);
/* sha256 of a buffer, as hex. */
void snap_sha256_buf(const void *buf, size_t len, char ret[SNAP_SHA256_HEX]);

#endif
