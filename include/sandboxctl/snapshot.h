/* snapshot: versioned snapshots of one sandbox's writable state, and CRIU.
 *
 * A store holds the snapshots of one sandbox under
 * `<data-dir>/<id>/snapshots/<version>/`:
 *
 *     manifest.json      version, label, parent, kind, time, the resolved
 *                        profile, rootfs and source identity, CRIU and kernel
 *                        versions, sizes, and one entry (with a sha256 for
 *                        regular files) for everything below
 *     fs/<source>/       a copy of each source tree ("upper", "workspace")
 *     criu/              CRIU images (kind full only)
 *
 * Versions are numbered 1, 2, 3, ... per sandbox and never reused, even after
 * rm or prune (the next number is kept in `snapshots/next`). A version is
 * written to `snapshots/.tmp-<version>` and renamed into place, so a crash
 * leaves no half version (a stale temp dir is removed by the next create).
 * A label is unique in the store and is not all digits, so a reference
 * ("3" or "before-upgrade") names one version.
 *
 * Copies (snapshot_copy.c): a regular file whose size, mtime, mode and
 * owner equal the previous version's entry and whose sha256 is the same is
 * hard-linked to the previous version's file (no new inode, no new block);
 * else it is reflinked (FICLONE) where the filesystem can, else copied.
 * Snapshot files are never written after the rename, so sharing is safe.
 * Modes, owners (as root), symlinks and mtimes are kept; symlinks are copied
 * as symlinks and never followed, in the source, in the store and in a
 * restore target.
 *
 * Mutating calls take a lock (`snapshots/lock`, flock) for their duration.
 * Errors: ENOENT (no such version or label), EEXIST (label taken), EBADMSG
 * (a file does not match its checksum, or is missing, or is extra: the
 * message names the first such file), EINVAL (bad label or reference). */
#ifndef SANDBOXCTL_SNAPSHOT_H
#define SANDBOXCTL_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sandboxctl/error.h"
#include "sandboxctl/spec.h"

enum sbx_snapshot_kind {
        SBX_SNAPSHOT_FULL, /* CRIU images + files */
        SBX_SNAPSHOT_FS_ONLY, /* files and config only */
};

/* One source tree to copy: `name` is a plain name (no '/'), `path` a
 * directory on the host. */
struct sbx_snapshot_source {
        const char *name;
        const char *path;
};

struct sbx_snapshot_params {
        const char *label; /* NULL: none */
        enum sbx_snapshot_kind kind;
        const struct sbx_snapshot_source *sources;
        size_t n_sources;
        const struct sbx_spec *spec; /* resolved profile for the manifest; may be NULL */
        /* kind full: a directory of CRIU images, moved (renamed, else copied)
         * into the version's criu/ directory. */
        const char *criu_images;
        const char *criu_version; /* NULL: not recorded */
};

struct sbx_snapshot_info {
        uint32_t version;
        char *label; /* NULL: none */
        uint32_t parent; /* 0: none */
        enum sbx_snapshot_kind kind;
        int64_t created_ns; /* CLOCK_REALTIME */
        uint64_t size; /* bytes of the regular files it holds */
        uint64_t new_bytes; /* of those, bytes not shared with the parent */
        uint64_t files; /* entries in the manifest */
        char checksum[65]; /* sha256 of the manifest's "sha256  path" lines */
};

struct sbx_snapshot_list {
        struct sbx_snapshot_info *items; /* oldest first */
        size_t n;
};

struct sbx_snapshot_store; /* opaque */

/* Open (and create, mode 0700) the store of sandbox `id` under `data_dir`. */
int sbx_snapshot_store_open(const char *data_dir, const char *id,
                            struct sbx_snapshot_store **ret, sbx_error **err);
void sbx_snapshot_store_free(struct sbx_snapshot_store *store);
/* Remove every snapshot of sandbox `id`: the whole `<data-dir>/<id>/`.
 * 0 when there is none. */
int sbx_snapshot_store_delete(const char *data_dir, const char *id, sbx_error **err);
static inline void sbx_snapshot_store_freep(struct sbx_snapshot_store **p)
{
        sbx_snapshot_store_free(*p);
}
/* `<data-dir>/<id>/snapshots` */
const char *sbx_snapshot_store_path(const struct sbx_snapshot_store *store);

/* Write a new version (parent: the newest version, if any). */
int sbx_snapshot_create(struct sbx_snapshot_store *store, const struct sbx_snapshot_params *params,
                        struct sbx_snapshot_info *ret, sbx_error **err);

/* Every version, oldest first. */
int sbx_snapshot_list(struct sbx_snapshot_store *store, struct sbx_snapshot_list *ret,
                      sbx_error **err);
void sbx_snapshot_list_clear(struct sbx_snapshot_list *list);
void sbx_snapshot_info_clear(struct sbx_snapshot_info *info);

/* The version that `ref` names: a version number or a label. */
int sbx_snapshot_find(struct sbx_snapshot_store *store, const char *ref,
                      struct sbx_snapshot_info *ret, sbx_error **err);
/* The directory of a version (caller frees). */
int sbx_snapshot_dir(const struct sbx_snapshot_store *store, uint32_t version, char **ret,
                     sbx_error **err);
/* The manifest of a version, as parsed JSON text (caller frees). */
int sbx_snapshot_manifest(struct sbx_snapshot_store *store, uint32_t version, char **ret,
                          sbx_error **err);

/* Recompute every checksum and compare the tree with the manifest. */
int sbx_snapshot_verify(struct sbx_snapshot_store *store, uint32_t version, sbx_error **err);

/* Remove a version. Versions whose parent it was take its parent. */
int sbx_snapshot_remove(struct sbx_snapshot_store *store, uint32_t version, sbx_error **err);
/* Remove the oldest versions until `keep` remain (keep 0: remove none).
 * Returns the number removed. */
int sbx_snapshot_prune(struct sbx_snapshot_store *store, uint32_t keep, sbx_error **err);

/* Make `target` hold exactly the source `name` of `version` (rollback):
 * verify the version first (a corrupted one changes nothing), copy it into
 * a temp dir beside target, then exchange the two (renameat2) and remove the
 * old tree. target may not exist yet; it must not be a mount point. */
int sbx_snapshot_restore_fs(struct sbx_snapshot_store *store, uint32_t version, const char *name,
                            const char *target, sbx_error **err);

/* The root mount of pid's mount namespace alone (not what is mounted on
 * it: directories, empty files, symlinks) copied into the new directory
 * dest (snapshot_root.c): what CRIU restores a sandbox's mounts on. */
int sbx_snapshot_root_save(pid_t pid, const char *dest, sbx_error **err);
/* Copy such a skeleton from src into dest (created if missing). */
int sbx_snapshot_root_copy(const char *src, const char *dest, sbx_error **err);

/* CRIU (criu.c). The criu binary: $SANDBOXCTL_CRIU, else "criu" in PATH. */
#define SBX_CRIU_ENV "SANDBOXCTL_CRIU"

/* Can CRIU run here? Runs `criu check`. Returns 0 and its version ("3.17.1")
 * if it can; else ENOENT (no criu binary) or ENOTSUP with the message
 * "CRIU cannot run on this kernel: <criu's first error>". */
int sbx_criu_probe(char **ret_version, sbx_error **err);

struct sbx_criu_dump_opts {
        pid_t pid; /* root of the process tree (the sandbox init) */
        const char *images_dir; /* an existing, empty directory */
        /* The cgroup directory to freeze for a consistent cut (v2 directory
         * or v1 freezer directory), NULL: none. It is thawed on every path. */
        const char *freezer;
        bool leave_running; /* else the tree is killed after the dump */
        /* The caller froze `freezer` and thaws it itself: CRIU finds it
         * frozen and leaves it so; it is not thawed here either. */
        bool keep_frozen;
        bool shell_job; /* the tree shares its session with the caller */
};
/* Dump a process tree with its namespaces. The log is images_dir/dump.log;
 * an error carries CRIU's last error line. */
int sbx_criu_dump(const struct sbx_criu_dump_opts *opts, sbx_error **err);

struct sbx_criu_restore_opts {
        const char *images_dir; /* only read (a snapshot's criu/) */
        const char *work_dir; /* restore.log and CRIU's stats, NULL: images_dir */
        const char *root; /* the rootfs (--root), NULL: as dumped */
        const char *cgroup_root; /* restore under this cgroup (--cgroup-root), NULL: as dumped */
        bool shell_job;
        /* --inherit-fd: the caller's fds[i] (not close-on-exec) stands for
         * the dumped file keys[i] ("pipe:[1234]"). */
        const int *inherit_fds;
        const char *const *inherit_keys;
        size_t n_inherit;
};
/* Restore the tree as a child of the caller; returns its pid (in the
 * caller's pid namespace). The log is work_dir/restore.log. */
int sbx_criu_restore(const struct sbx_criu_restore_opts *opts, pid_t *ret_pid, sbx_error **err);

#endif
