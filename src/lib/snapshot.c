/* snapshot: the versioned snapshot store of one sandbox (see snapshot.h):
 * version numbers, labels, manifests, listing, verification, rm, prune and
 * the restore of a version's files (rollback). Copies are snapshot_copy.c. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "run-internal.h"
#include "sandboxctl/runtime.h"
#include "sandboxctl/snapshot.h"
#include "sandboxctl/util.h"
#include "snapshot_internal.h"
#include "src/lib/lazy_crypto.h"

#define MANIFEST "manifest.json"
#define MANIFEST_FORMAT 1
#define LABEL_MAX 128

/* json_decrefp comes with jansson. */
SBX_DEFINE_CLEANUP(DIR *, closedir)
#define autojson __attribute__((cleanup(json_decrefp))) json_t *

struct sbx_snapshot_store {
        char *dir; /* <data-dir>/<id>/snapshots */
        int dir_fd;
};

static void snap_entries_clearp(struct snap_entries *e)
{
        snap_entries_clear(e);
}
#define autoentries __attribute__((cleanup(snap_entries_clearp))) struct snap_entries

static int mkdir_p(const char *path, sbx_error **err)
{
        sbx_autofree char *p = strdup(path);
        if (!p)
                return sbx_error_errno(err, ENOMEM, "mkdir %s", path);
        for (char *s = p + 1;; s++) {
                if (*s != '/' && *s != '\0')
                        continue;
                char c = *s;
                *s = '\0';
                if (mkdir(p, 0700) < 0 && errno != EEXIST)
                        return sbx_error_errno(err, errno, "mkdir %s", p);
                if (c == '\0')
                        return 0;
                *s = c;
        }
}

static bool is_plain_name(const char *s)
{
        return s && *s && !strchr(s, '/') && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

int sbx_snapshot_store_open(const char *data_dir, const char *id,
                            struct sbx_snapshot_store **ret, sbx_error **err)
{
        if (!data_dir || !*data_dir || !is_plain_name(id))
                return sbx_error_set(err, EINVAL, "open snapshot store: bad data dir or id '%s'",
                                     id ? id : "");
        sbx_autofree struct sbx_snapshot_store *s = calloc(1, sizeof(*s));
        if (!s || asprintf(&s->dir, "%s/%s/snapshots", data_dir, id) < 0)
                return sbx_error_errno(err, ENOMEM, "open snapshot store");
        int r = mkdir_p(s->dir, err);
        if (r >= 0) {
                s->dir_fd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (s->dir_fd < 0)
                        r = sbx_error_errno(err, errno, "open %s", s->dir);
        }
        if (r < 0) {
                free(s->dir);
                return sbx_error_prefix(err, r, "open snapshot store");
        }
        *ret = sbx_steal_ptr(s);
        return 0;
}

void sbx_snapshot_store_free(struct sbx_snapshot_store *store)
{
        if (!store)
                return;
        if (store->dir_fd >= 0)
                close(store->dir_fd);
        free(store->dir);
        free(store);
}

const char *sbx_snapshot_store_path(const struct sbx_snapshot_store *store)
{
        return store->dir;
}

/* flock the store; returns the fd to close. */
static int store_lock(struct sbx_snapshot_store *s, sbx_error **err)
{
        int fd = openat(s->dir_fd, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0)
                return sbx_error_errno(err, errno, "open %s/lock", s->dir);
        while (flock(fd, LOCK_EX) < 0) {
                if (errno != EINTR) {
                        int e = errno;
                        close(fd);
                        return sbx_error_errno(err, e, "lock %s/lock", s->dir);
                }
        }
        return fd;
}

/* A version directory's name: digits only, no leading zero. */
static uint32_t parse_version(const char *s)
{
        if (!s || *s < '1' || *s > '9' || strlen(s) > 9)
                return 0;
        for (const char *p = s; *p; p++)
                if (!isdigit((unsigned char)*p))
                        return 0;
        return (uint32_t)strtoul(s, NULL, 10);
}

static const char *kind_name(enum sbx_snapshot_kind kind)
{
        return kind == SBX_SNAPSHOT_FS_ONLY ? "fs-only" : "full";
}

static int load_manifest(struct sbx_snapshot_store *s, uint32_t version, json_t **ret,
                         sbx_error **err)
{
        char name[32];
        snprintf(name, sizeof(name), "%u/" MANIFEST, version);
        sbx_autoclose int fd = openat(s->dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT)
                return sbx_error_set(err, ENOENT, "no snapshot version %u", version);
        if (fd < 0)
                return sbx_error_errno(err, errno, "open %s/%s", s->dir, name);
        json_error_t je;
        json_t *j = json_loadfd(fd, 0, &je);
        if (!j || !json_is_object(j)) {
                json_decref(j);
                return sbx_error_set(err, EBADMSG, "%s/%s:%d: %s", s->dir, name, je.line,
                                     j ? "not an object" : je.text);
        }
        *ret = j;
        return 0;
}

static int info_from_json(const json_t *j, struct sbx_snapshot_info *ret, sbx_error **err)
{
        const char *label = json_string_value(json_object_get(j, "label"));
        const char *kind = json_string_value(json_object_get(j, "kind"));
        const char *sum = json_string_value(json_object_get(j, "checksum"));
        json_int_t version = json_integer_value(json_object_get(j, "version"));
        if (version <= 0 || !kind || !sum || strlen(sum) != 64)
                return sbx_error_set(err, EBADMSG, "manifest: missing version, kind or checksum");
        struct sbx_snapshot_info i = {
                .version = (uint32_t)version,
                .parent = (uint32_t)json_integer_value(json_object_get(j, "parent")),
                .kind = strcmp(kind, "fs-only") == 0 ? SBX_SNAPSHOT_FS_ONLY : SBX_SNAPSHOT_FULL,
                .created_ns = json_integer_value(json_object_get(j, "created_ns")),
                .size = (uint64_t)json_integer_value(json_object_get(j, "size")),
                .new_bytes = (uint64_t)json_integer_value(json_object_get(j, "new_bytes")),
                .files = json_array_size(json_object_get(j, "entries")),
        };
        memcpy(i.checksum, sum, 65);
        if (label && !(i.label = strdup(label)))
                return sbx_error_errno(err, ENOMEM, "manifest");
        *ret = i;
        return 0;
}

void sbx_snapshot_info_clear(struct sbx_snapshot_info *info)
{
        if (!info)
                return;
        free(info->label);
        info->label = NULL;
}

void sbx_snapshot_list_clear(struct sbx_snapshot_list *list)
{
        if (!list)
                return;
        for (size_t i = 0; i < list->n; i++)
                sbx_snapshot_info_clear(&list->items[i]);
        free(list->items);
        *list = (struct sbx_snapshot_list){ 0 };
}

static void listp(struct sbx_snapshot_list *l)
{
        sbx_snapshot_list_clear(l);
}
#define autolist __attribute__((cleanup(listp))) struct sbx_snapshot_list

static int compare_versions(const void *a, const void *b)
{
        uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
        return (x > y) - (x < y);
}

/* The version numbers present, ascending. */
static int list_versions(struct sbx_snapshot_store *s, uint32_t **ret, size_t *ret_n,
                         sbx_error **err)
{
        int fd = openat(s->dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        __attribute__((cleanup(closedirp))) DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        if (!d) {
                int e = errno;
                if (fd >= 0)
                        close(fd);
                return sbx_error_errno(err, e, "open %s", s->dir);
        }
        sbx_autofree uint32_t *v = NULL;
        size_t n = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                uint32_t x = parse_version(de->d_name);
                if (!x)
                        continue;
                uint32_t *nv = reallocarray(v, n + 1, sizeof(*v));
                if (!nv)
                        return sbx_error_errno(err, ENOMEM, "list %s", s->dir);
                v = nv;
                v[n++] = x;
        }
        if (n)
                qsort(v, n, sizeof(*v), compare_versions);
        *ret = sbx_steal_ptr(v);
        *ret_n = n;
        return 0;
}

int sbx_snapshot_list(struct sbx_snapshot_store *store, struct sbx_snapshot_list *ret,
                      sbx_error **err)
{
        sbx_autofree uint32_t *v = NULL;
        size_t n = 0;
        int r = list_versions(store, &v, &n, err);
        if (r < 0)
                return r;
        autolist l = { .items = calloc(n ? n : 1, sizeof(struct sbx_snapshot_info)) };
        if (!l.items)
                return sbx_error_errno(err, ENOMEM, "list snapshots");
        for (size_t i = 0; i < n; i++) {
                autojson j = NULL;
                r = load_manifest(store, v[i], &j, err);
                if (r >= 0)
                        r = info_from_json(j, &l.items[l.n], err);
                if (r < 0)
                        return sbx_error_prefix(err, r, "snapshot %u", v[i]);
                l.n++;
        }
        *ret = l;
        l = (struct sbx_snapshot_list){ 0 };
        return 0;
}

int sbx_snapshot_find(struct sbx_snapshot_store *store, const char *ref,
                      struct sbx_snapshot_info *ret, sbx_error **err)
{
        if (!ref || !*ref)
                return sbx_error_set(err, EINVAL, "empty snapshot version or label");
        uint32_t want = parse_version(ref);
        autolist l = { 0 };
        int r = sbx_snapshot_list(store, &l, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < l.n; i++) {
                struct sbx_snapshot_info *x = &l.items[i];
                if ((want && x->version == want) || (!want && x->label && !strcmp(x->label, ref))) {
                        *ret = *x;
                        x->label = NULL;
                        return 0;
                }
        }
        if (!want && ref[strspn(ref, "0123456789")] == '\0')
                return sbx_error_set(err, EINVAL, "bad snapshot version '%s'", ref);
        return sbx_error_set(err, ENOENT, "no snapshot %s '%s' in %s",
                             want ? "version" : "labelled", ref, store->dir);
}

int sbx_snapshot_dir(const struct sbx_snapshot_store *store, uint32_t version, char **ret,
                     sbx_error **err)
{
        char *p = NULL;
        if (asprintf(&p, "%s/%u", store->dir, version) < 0)
                return sbx_error_errno(err, ENOMEM, "snapshot %u", version);
        *ret = p;
        return 0;
}

int sbx_snapshot_manifest(struct sbx_snapshot_store *store, uint32_t version, char **ret,
                          sbx_error **err)
{
        autojson j = NULL;
        int r = load_manifest(store, version, &j, err);
        if (r < 0)
                return r;
        char *text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (!text)
                return sbx_error_errno(err, ENOMEM, "snapshot %u manifest", version);
        *ret = text;
        return 0;
}

/* --- manifest entries ---------------------------------------------------- */

static const char *type_name(enum snap_type t)
{
        switch (t) {
        case SNAP_FILE: return "file";
        case SNAP_DIR: return "dir";
        case SNAP_SYMLINK: return "symlink";
        case SNAP_FIFO: return "fifo";
        default: return "?";
        }
}

static json_t *entry_to_json(const struct snap_entry *e)
{
        json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I}", "path", e->path, "type",
                              type_name(e->type), "mode", (json_int_t)e->mode, "uid",
                              (json_int_t)e->uid, "gid", (json_int_t)e->gid, "size",
                              (json_int_t)e->size, "mtime_ns", (json_int_t)e->mtime_ns);
        if (o && e->type == SNAP_FILE)
                json_object_set_new(o, "sha256", json_string(e->sha256));
        if (o && e->type == SNAP_SYMLINK)
                json_object_set_new(o, "target", json_string(e->target));
        return o;
}

static int entry_from_json(const json_t *o, struct snap_entries *out, sbx_error **err)
{
        const char *path = json_string_value(json_object_get(o, "path"));
        const char *type = json_string_value(json_object_get(o, "type"));
        const char *sha = json_string_value(json_object_get(o, "sha256"));
        const char *target = json_string_value(json_object_get(o, "target"));
        enum snap_type t = !type                    ? 0
                           : !strcmp(type, "file")    ? SNAP_FILE
                           : !strcmp(type, "dir")     ? SNAP_DIR
                           : !strcmp(type, "symlink") ? SNAP_SYMLINK
                           : !strcmp(type, "fifo")    ? SNAP_FIFO
                                                      : 0;
        if (!path || !t || (t == SNAP_FILE && (!sha || strlen(sha) != 64)) ||
            (t == SNAP_SYMLINK && !target))
                return sbx_error_set(err, EBADMSG, "manifest: bad entry %s", path ? path : "");
        if (out->n == out->cap) {
                size_t cap = out->cap ? out->cap * 2 : 64;
                struct snap_entry *v = reallocarray(out->v, cap, sizeof(*v));
                if (!v)
                        return sbx_error_errno(err, ENOMEM, "manifest");
                out->v = v;
                out->cap = cap;
        }
        struct snap_entry *e = &out->v[out->n];
        *e = (struct snap_entry){
                .path = strdup(path),
                .type = t,
                .mode = (mode_t)json_integer_value(json_object_get(o, "mode")),
                .uid = (uid_t)json_integer_value(json_object_get(o, "uid")),
                .gid = (gid_t)json_integer_value(json_object_get(o, "gid")),
                .size = (uint64_t)json_integer_value(json_object_get(o, "size")),
                .mtime_ns = json_integer_value(json_object_get(o, "mtime_ns")),
                .target = target ? strdup(target) : NULL,
        };
        if (sha)
                memcpy(e->sha256, sha, 65);
        out->n++;
        if (!e->path || (target && !e->target))
                return sbx_error_errno(err, ENOMEM, "manifest");
        return 0;
}

static int entries_from_manifest(const json_t *j, struct snap_entries *out, sbx_error **err)
{
        const json_t *arr = json_object_get(j, "entries");
        if (!json_is_array(arr))
                return sbx_error_set(err, EBADMSG, "manifest: no entries");
        size_t i;
        const json_t *o;
        json_array_foreach (arr, i, o) {
                int r = entry_from_json(o, out, err);
                if (r < 0)
                        return r;
        }
        snap_entries_sort(out);
        return 0;
}

/* sha256 over "sha256  path\n" of every file (sha256sum's format), sorted. */
static int entries_checksum(const struct snap_entries *e, char ret[SNAP_SHA256_HEX],
                            sbx_error **err)
{
        int r = sbx_lazy_crypto_load(err);
        if (r < 0)
                return r;
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
                return sbx_error_errno(err, errno, "checksum");
        for (size_t i = 0; i < e->n; i++)
                if (e->v[i].type == SNAP_FILE)
                        fprintf(f, "%s  %s\n", e->v[i].sha256, e->v[i].path);
        if (fclose(f) != 0) {
                free(buf);
                return sbx_error_errno(err, ENOMEM, "checksum");
        }
        snap_sha256_buf(buf, len, ret);
        free(buf);
        return 0;
}

/* --- create -------------------------------------------------------------- */

static json_t *identity_json(const char *path)
{
        struct stat st;
        if (!path)
                return json_pack("{s:s}", "path", "host");
        if (stat(path, &st) < 0)
                return json_pack("{s:s, s:s}", "path", path, "error", strerror(errno));
        char dev[32];
        snprintf(dev, sizeof(dev), "%u:%u", major(st.st_dev), minor(st.st_dev));
        return json_pack("{s:s, s:s, s:I}", "path", path, "dev", dev, "ino", (json_int_t)st.st_ino);
}

static json_t *profile_json(const struct sbx_spec *spec, sbx_error **err)
{
        if (!spec)
                return json_null();
        sbx_autofree char *text = NULL;
        if (sbx_spec_to_json(spec, false, &text, err) < 0)
                return NULL;
        return json_loads(text, 0, NULL);
}

static json_t *sources_json(const struct sbx_snapshot_params *p)
{
        json_t *a = json_array();
        for (size_t i = 0; a && i < p->n_sources; i++) {
                json_t *o = identity_json(p->sources[i].path);
                json_object_set_new(o, "name", json_string(p->sources[i].name));
                json_array_append_new(a, o);
        }
        return a;
}

static json_t *entries_json(const struct snap_entries *e)
{
        json_t *a = json_array();
        for (size_t i = 0; a && i < e->n; i++)
                if (json_array_append_new(a, entry_to_json(&e->v[i])) < 0)
                        return json_decref(a), NULL;
        return a;
}

struct create_state {
        uint32_t version, parent;
        struct timespec now;
        struct snap_copy copy;
        char checksum[SNAP_SHA256_HEX];
};

static int build_manifest(const struct create_state *c, const struct sbx_snapshot_params *p,
                          json_t **ret, sbx_error **err)
{
        struct utsname u;
        uname(&u);
        char when[64];
        struct tm tm;
        gmtime_r(&c->now.tv_sec, &tm);
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
        json_t *profile = profile_json(p->spec, err);
        if (!profile)
                return sbx_error_set(err, EINVAL, "the resolved profile as JSON");
        json_t *j = json_pack(
                "{s:i, s:I, s:s?, s:o, s:s, s:s, s:I, s:o, s:o, s:o, s:s?, s:s, s:I, s:I, s:I, "
                "s:s, s:o}",
                "format", MANIFEST_FORMAT, "version", (json_int_t)c->version, "label", p->label,
                "parent", c->parent ? json_integer(c->parent) : json_null(), "kind",
                kind_name(p->kind), "created", when, "created_ns",
                (json_int_t)c->now.tv_sec * 1000000000 + c->now.tv_nsec, "profile", profile,
                "rootfs", identity_json(p->spec ? p->spec->filesystem.rootfs : NULL), "sources",
                sources_json(p), "criu_version", p->criu_version, "kernel", u.release, "size",
                (json_int_t)c->copy.size, "new_bytes", (json_int_t)c->copy.new_bytes,
                "linked_files", (json_int_t)c->copy.linked, "checksum", c->checksum, "entries",
                entries_json(c->copy.out));
        if (!j)
                return sbx_error_errno(err, ENOMEM, "manifest");
        *ret = j;
        return 0;
}

/* Write j as dir_fd/name, fsynced, through name.tmp + rename. */
static int write_json_at(int dir_fd, const char *name, const json_t *j, sbx_error **err)
{
        char tmp[PATH_MAX];
        snprintf(tmp, sizeof(tmp), "%s.tmp", name);
        sbx_autoclose int fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
                                                           O_CLOEXEC, 0444);
        if (fd < 0)
                return sbx_error_errno(err, errno, "create %s", tmp);
        if (json_dumpfd(j, fd, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY) < 0 ||
            write(fd, "\n", 1) != 1)
                return sbx_error_errno(err, errno ? errno : EIO, "write %s", tmp);
        if (fsync(fd) < 0)
                return sbx_error_errno(err, errno, "fsync %s", tmp);
        if (renameat(dir_fd, tmp, dir_fd, name) < 0)
                return sbx_error_errno(err, errno, "rename %s", tmp);
        return 0;
}

static int check_label(struct sbx_snapshot_store *s, const char *label, sbx_error **err)
{
        if (!label)
                return 0;
        size_t n = strlen(label);
        if (n == 0 || n > LABEL_MAX || label[strspn(label, "0123456789")] == '\0')
                return sbx_error_set(err, EINVAL,
                                     "bad label '%s': 1 to %d characters, not all digits", label,
                                     LABEL_MAX);
        for (const char *p = label; *p; p++)
                if (iscntrl((unsigned char)*p) || *p == '/')
                        return sbx_error_set(err, EINVAL,
                                             "bad label '%s': no '/' or control characters",
                                             label);
        struct sbx_snapshot_info i = { 0 };
        if (sbx_snapshot_find(s, label, &i, NULL) == 0) {
                uint32_t v = i.version;
                sbx_snapshot_info_clear(&i);
                return sbx_error_set(err, EEXIST, "label '%s' is taken by version %u", label, v);
        }
        return 0;
}

/* The next version number, and the number after it stored for next time. */
static int take_version(struct sbx_snapshot_store *s, uint32_t newest, uint32_t *ret,
                        sbx_error **err)
{
        uint32_t next = newest + 1;
        char buf[32] = "";
        sbx_autoclose int fd = openat(s->dir_fd, "next", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0 && read(fd, buf, sizeof(buf) - 1) > 0) {
                unsigned long stored = strtoul(buf, NULL, 10);
                if (stored > next && stored < UINT32_MAX)
                        next = (uint32_t)stored;
        }
        autojson j = json_integer(next + 1);
        int r = write_json_at(s->dir_fd, "next", j, err);
        if (r < 0)
                return sbx_error_prefix(err, r, "store the next version number");
        *ret = next;
        return 0;
}

/* Remove temp dirs that an interrupted create, rm or restore left; but
 * not `keep`, the CRIU images of this very create when they were dumped
 * into the store (a path ending in /.tmp-criu-XXXXXX), or NULL. */
static void remove_stale_temps(struct sbx_snapshot_store *s, const char *keep)
{
        const char *slash = keep ? strrchr(keep, '/') : NULL;
        const char *keep_name = slash ? slash + 1 : keep;
        int fd = openat(s->dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        __attribute__((cleanup(closedirp))) DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        if (!d) {
                if (fd >= 0)
                        close(fd);
                return;
        }
        struct dirent *de;
        while ((de = readdir(d)))
                if (strncmp(de->d_name, ".tmp-", 5) == 0 &&
                    !(keep_name && strcmp(de->d_name, keep_name) == 0))
                        snap_remove_tree(s->dir_fd, de->d_name, NULL);
}

static int open_previous(struct sbx_snapshot_store *s, uint32_t parent, struct snap_entries *ret,
                         int *ret_fd, sbx_error **err)
{
        if (!parent)
                return 0;
        autojson j = NULL;
        int r = load_manifest(s, parent, &j, err);
        if (r >= 0)
                r = entries_from_manifest(j, ret, err);
        if (r < 0)
                return sbx_error_prefix(err, r, "previous version %u", parent);
        char name[16];
        snprintf(name, sizeof(name), "%u", parent);
        *ret_fd = openat(s->dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (*ret_fd < 0)
                return sbx_error_errno(err, errno, "open %s/%s", s->dir, name);
        return 0;
}

/* CRIU images into tmp/criu: renamed when on the same filesystem, else copied. */
static int add_criu_images(struct create_state *c, const char *images, int tmp_fd,
                           sbx_error **err)
{
        if (renameat(AT_FDCWD, images, tmp_fd, "criu") == 0) {
                size_t first = c->copy.out->n;
                int r = snap_scan_tree(tmp_fd, "criu", c->copy.out, err);
                for (size_t i = first; r >= 0 && i < c->copy.out->n; i++) {
                        c->copy.size += c->copy.out->v[i].size;
                        c->copy.new_bytes += c->copy.out->v[i].size;
                }
                return r;
        }
        if (errno != EXDEV)
                return sbx_error_errno(err, errno, "move CRIU images %s", images);
        struct snap_copy cp = { .prev_fd = -1, .out = c->copy.out };
        int r = snap_copy_tree(&cp, images, tmp_fd, "criu", err);
        c->copy.size += cp.size;
        c->copy.new_bytes += cp.new_bytes;
        return r;
}

static int fill_version(struct create_state *c, const struct sbx_snapshot_params *p, int tmp_fd,
                        sbx_error **err)
{
        if (mkdirat(tmp_fd, "fs", 0700) < 0)
                return sbx_error_errno(err, errno, "mkdir fs");
        for (size_t i = 0; i < p->n_sources; i++) {
                char rel[PATH_MAX];
                snprintf(rel, sizeof(rel), "fs/%s", p->sources[i].name);
                int r = snap_copy_tree(&c->copy, p->sources[i].path, tmp_fd, rel, err);
                if (r < 0)
                        return sbx_error_prefix(err, r, "source %s", p->sources[i].name);
        }
        struct stat st;
        if (fstatat(tmp_fd, "fs", &st, AT_SYMLINK_NOFOLLOW) < 0)
                return sbx_error_errno(err, errno, "stat fs");
        if (!snap_entries_add(c->copy.out, "fs", &st, SNAP_DIR))
                return sbx_error_errno(err, ENOMEM, "fs");
        if (p->kind == SBX_SNAPSHOT_FULL)
                return add_criu_images(c, p->criu_images, tmp_fd, err);
        return 0;
}

static int check_params(const struct sbx_snapshot_params *p, sbx_error **err)
{
        for (size_t i = 0; i < p->n_sources; i++)
                if (!is_plain_name(p->sources[i].name) || !p->sources[i].path)
                        return sbx_error_set(err, EINVAL, "bad snapshot source '%s'",
                                             p->sources[i].name ? p->sources[i].name : "");
        if (p->kind == SBX_SNAPSHOT_FULL && !p->criu_images)
                return sbx_error_set(err, EINVAL, "a full snapshot needs CRIU images");
        if (p->kind != SBX_SNAPSHOT_FULL && p->kind != SBX_SNAPSHOT_FS_ONLY)
                return sbx_error_set(err, EINVAL, "bad snapshot kind %d", (int)p->kind);
        return 0;
}

/* Write tmp (already made) into a version; the caller renames or removes it. */
static int create_version(struct sbx_snapshot_store *s, const struct sbx_snapshot_params *p,
                          struct create_state *c, const char *tmp, sbx_error **err)
{
        autoentries prev = { 0 };
        autoentries out = { 0 };
        sbx_autoclose int prev_fd = -1;
        int r = open_previous(s, c->parent, &prev, &prev_fd, err);
        if (r < 0)
                return r;
        sbx_autoclose int tmp_fd = openat(s->dir_fd, tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (tmp_fd < 0)
                return sbx_error_errno(err, errno, "open %s/%s", s->dir, tmp);
        c->copy = (struct snap_copy){ .prev_fd = prev_fd, .prev = &prev, .out = &out };
        r = fill_version(c, p, tmp_fd, err);
        if (r < 0)
                return r;
        snap_entries_sort(&out);
        r = entries_checksum(&out, c->checksum, err);
        if (r < 0)
                return r;
        autojson j = NULL;
        r = build_manifest(c, p, &j, err);
        if (r < 0)
                return r;
        c->copy.out = NULL; /* out is freed on return */
        return write_json_at(tmp_fd, MANIFEST, j, err);
}

static int create_locked(struct sbx_snapshot_store *s, const struct sbx_snapshot_params *p,
                         struct sbx_snapshot_info *ret, sbx_error **err)
{
        remove_stale_temps(s, p->criu_images);
        int r = check_label(s, p->label, err);
        if (r < 0)
                return r;
        sbx_autofree uint32_t *v = NULL;
        size_t n = 0;
        r = list_versions(s, &v, &n, err);
        if (r < 0)
                return r;
        struct create_state c = { .parent = n ? v[n - 1] : 0 };
        r = take_version(s, c.parent, &c.version, err);
        if (r < 0)
                return r;
        clock_gettime(CLOCK_REALTIME, &c.now);
        char tmp[32], final[16];
        snprintf(tmp, sizeof(tmp), ".tmp-%u", c.version);
        snprintf(final, sizeof(final), "%u", c.version);
        if (mkdirat(s->dir_fd, tmp, 0700) < 0)
                return sbx_error_errno(err, errno, "mkdir %s/%s", s->dir, tmp);
        r = create_version(s, p, &c, tmp, err);
        if (r >= 0 && renameat(s->dir_fd, tmp, s->dir_fd, final) < 0)
                r = sbx_error_errno(err, errno, "rename %s/%s", s->dir, tmp);
        if (r < 0) {
                snap_remove_tree(s->dir_fd, tmp, NULL);
                return r;
        }
        return sbx_snapshot_find(s, final, ret, err);
}

int sbx_snapshot_create(struct sbx_snapshot_store *store, const struct sbx_snapshot_params *params,
                        struct sbx_snapshot_info *ret, sbx_error **err)
{
        int r = check_params(params, err);
        if (r < 0)
                return sbx_error_prefix(err, r, "create snapshot");
        sbx_autoclose int lock = store_lock(store, err);
        if (lock < 0)
                return sbx_error_prefix(err, lock, "create snapshot");
        struct sbx_snapshot_info info = { 0 };
        r = create_locked(store, params, &info, err);
        if (r < 0)
                return sbx_error_prefix(err, r, "create snapshot in %s", store->dir);
        if (ret)
                *ret = info;
        else
                sbx_snapshot_info_clear(&info);
        return 0;
}

/* --- verify -------------------------------------------------------------- */

/* Why two entries of one path differ, or NULL. */
static const char *entry_difference(const struct snap_entry *want, const struct snap_entry *got)
{
        if (want->type != got->type)
                return "file type changed";
        if (want->mode != got->mode)
                return "mode changed";
        if (want->type == SNAP_FILE && want->size != got->size)
                return "size changed";
        if (want->type == SNAP_FILE && strcmp(want->sha256, got->sha256) != 0)
                return "checksum mismatch";
        if (want->type == SNAP_SYMLINK && strcmp(want->target, got->target) != 0)
                return "symlink target changed";
        return NULL;
}

static int compare_trees(const struct snap_entries *want, const struct snap_entries *got,
                         sbx_error **err)
{
        size_t i = 0, k = 0;
        while (i < want->n || k < got->n) {
                int c = i == want->n ? 1 : k == got->n ? -1 : strcmp(want->v[i].path, got->v[k].path);
                if (c < 0)
                        return sbx_error_set(err, EBADMSG, "%s: missing", want->v[i].path);
                if (c > 0)
                        return sbx_error_set(err, EBADMSG, "%s: not in the manifest",
                                             got->v[k].path);
                const char *why = entry_difference(&want->v[i], &got->v[k]);
                if (why)
                        return sbx_error_set(err, EBADMSG, "%s: %s", want->v[i].path, why);
                i++, k++;
        }
        return 0;
}

static int scan_version(int vfd, struct snap_entries *got, sbx_error **err)
{
        static const char *const tops[] = { "fs", "criu" };
        for (size_t i = 0; i < SBX_ARRAY_SIZE(tops); i++) {
                if (faccessat(vfd, tops[i], F_OK, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
                        continue;
                int r = snap_scan_tree(vfd, tops[i], got, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int sbx_snapshot_verify(struct sbx_snapshot_store *store, uint32_t version, sbx_error **err)
{
        autojson j = NULL;
        autoentries want = { 0 };
        autoentries got = { 0 };
        int r = load_manifest(store, version, &j, err);
        if (r >= 0)
                r = entries_from_manifest(j, &want, err);
        if (r < 0)
                return sbx_error_prefix(err, r, "verify snapshot %u", version);
        char name[16];
        snprintf(name, sizeof(name), "%u", version);
        sbx_autoclose int vfd = openat(store->dir_fd, name,
                                       O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (vfd < 0)
                return sbx_error_errno(err, errno, "verify snapshot %u: open %s/%s", version,
                                       store->dir, name);
        r = scan_version(vfd, &got, err);
        if (r >= 0) {
                snap_entries_sort(&got);
                r = compare_trees(&want, &got, err);
        }
        if (r < 0)
                return sbx_error_prefix(err, r, "snapshot %u in %s is corrupted", version,
                                        store->dir);
        return 0;
}

/* --- rm, prune ----------------------------------------------------------- */

/* Versions whose parent is `version` take `parent` instead. */
static int reparent_children(struct sbx_snapshot_store *s, uint32_t version, uint32_t parent,
                             const uint32_t *v, size_t n, sbx_error **err)
{
        for (size_t i = 0; i < n; i++) {
                autojson j = NULL;
                int r = load_manifest(s, v[i], &j, err);
                if (r < 0)
                        return r;
                if ((uint32_t)json_integer_value(json_object_get(j, "parent")) != version)
                        continue;
                json_object_set_new(j, "parent", parent ? json_integer(parent) : json_null());
                char name[32];
                snprintf(name, sizeof(name), "%u/" MANIFEST, v[i]);
                r = write_json_at(s->dir_fd, name, j, err);
                if (r < 0)
                        return sbx_error_prefix(err, r, "re-parent version %u", v[i]);
        }
        return 0;
}

static int remove_locked(struct sbx_snapshot_store *s, uint32_t version, sbx_error **err)
{
        autojson j = NULL;
        int r = load_manifest(s, version, &j, err);
        if (r < 0)
                return r;
        uint32_t parent = (uint32_t)json_integer_value(json_object_get(j, "parent"));
        sbx_autofree uint32_t *v = NULL;
        size_t n = 0;
        r = list_versions(s, &v, &n, err);
        if (r >= 0)
                r = reparent_children(s, version, parent, v, n, err);
        if (r < 0)
                return r;
        /* Gone in one step: renamed aside, then removed at leisure. */
        char name[16], tmp[32];
        snprintf(name, sizeof(name), "%u", version);
        snprintf(tmp, sizeof(tmp), ".tmp-rm-%u", version);
        snap_remove_tree(s->dir_fd, tmp, NULL);
        if (renameat(s->dir_fd, name, s->dir_fd, tmp) < 0)
                return sbx_error_errno(err, errno, "rename %s/%s", s->dir, name);
        return snap_remove_tree(s->dir_fd, tmp, err);
}

int sbx_snapshot_remove(struct sbx_snapshot_store *store, uint32_t version, sbx_error **err)
{
        sbx_autoclose int lock = store_lock(store, err);
        if (lock < 0)
                return sbx_error_prefix(err, lock, "remove snapshot %u", version);
        int r = remove_locked(store, version, err);
        return r < 0 ? sbx_error_prefix(err, r, "remove snapshot %u", version) : 0;
}

int sbx_snapshot_prune(struct sbx_snapshot_store *store, uint32_t keep, sbx_error **err)
{
        if (keep == 0)
                return 0;
        sbx_autoclose int lock = store_lock(store, err);
        if (lock < 0)
                return sbx_error_prefix(err, lock, "prune snapshots");
        sbx_autofree uint32_t *v = NULL;
        size_t n = 0;
        int r = list_versions(store, &v, &n, err);
        if (r < 0)
                return sbx_error_prefix(err, r, "prune snapshots");
        int removed = 0;
        for (size_t i = 0; i + keep < n; i++) {
                r = remove_locked(store, v[i], err);
                if (r < 0)
                        return sbx_error_prefix(err, r, "prune snapshots: remove version %u", v[i]);
                removed++;
        }
        return removed;
}

/* --- restore of the files ------------------------------------------------ */

static int split_target(const char *target, char **ret_parent, const char **ret_base,
                        sbx_error **err)
{
        const char *slash = strrchr(target, '/');
        const char *base = slash ? slash + 1 : target;
        if (!is_plain_name(base))
                return sbx_error_set(err, EINVAL, "bad restore target '%s'", target);
        char *parent = slash == target ? strdup("/")
                       : slash         ? strndup(target, (size_t)(slash - target))
                                       : strdup(".");
        if (!parent)
                return sbx_error_errno(err, ENOMEM, "restore target");
        *ret_parent = parent;
        *ret_base = base;
        return 0;
}

/* Copy the version's source into parent_fd/tmp, then put it in place of base. */
static int swap_in(const char *src, int parent_fd, const char *tmp, const char *base,
                   sbx_error **err)
{
        autoentries out = { 0 };
        struct snap_copy cp = { .prev_fd = -1, .out = &out };
        snap_remove_tree(parent_fd, tmp, NULL);
        int r = snap_copy_tree(&cp, src, parent_fd, tmp, err);
        if (r < 0) {
                snap_remove_tree(parent_fd, tmp, NULL);
                return r;
        }
        if (renameat2(parent_fd, tmp, parent_fd, base, RENAME_EXCHANGE) == 0)
                return snap_remove_tree(parent_fd, tmp, err); /* the old tree */
        if (errno == ENOENT && renameat(parent_fd, tmp, parent_fd, base) == 0)
                return 0;
        r = sbx_error_errno(err, errno, "put %s in place", base);
        snap_remove_tree(parent_fd, tmp, NULL);
        return r;
}

int sbx_snapshot_restore_fs(struct sbx_snapshot_store *store, uint32_t version, const char *name,
                            const char *target, sbx_error **err)
{
        if (!is_plain_name(name) || !target || !*target)
                return sbx_error_set(err, EINVAL, "restore snapshot %u: bad source or target",
                                     version);
        int r = sbx_snapshot_verify(store, version, err);
        if (r < 0)
                return sbx_error_prefix(err, r, "restore snapshot %u", version);
        sbx_autofree char *src = NULL;
        if (asprintf(&src, "%s/%u/fs/%s", store->dir, version, name) < 0)
                return sbx_error_errno(err, ENOMEM, "restore snapshot %u", version);
        struct stat st;
        if (lstat(src, &st) < 0 || !S_ISDIR(st.st_mode))
                return sbx_error_set(err, ENOENT, "restore snapshot %u: it holds no source '%s'",
                                     version, name);
        sbx_autofree char *parent = NULL;
        const char *base = NULL;
        r = split_target(target, &parent, &base, err);
        if (r < 0)
                return sbx_error_prefix(err, r, "restore snapshot %u", version);
        sbx_autoclose int parent_fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (parent_fd < 0)
                return sbx_error_errno(err, errno, "restore snapshot %u: open %s", version,
                                       parent);
        char tmp[NAME_MAX + 1];
        snprintf(tmp, sizeof(tmp), ".%.200s.sbx-restore-%d", base, (int)getpid());
        r = swap_in(src, parent_fd, tmp, base, err);
        return r < 0 ? sbx_error_prefix(err, r, "restore snapshot %u into %s", version, target) : 0;
}

int sbx_snapshot_store_delete(const char *data_dir, const char *id, sbx_error **err)
{
        if (!sbx_sandbox_id_valid(id))
                return sbx_error_set(err, EINVAL, "snapshots: invalid sandbox id '%s'", id);
        sbx_autoclose int dfd = open(data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return errno == ENOENT ? 0 : sbx_error_errno(err, errno, "open %s", data_dir);
        if (faccessat(dfd, id, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : sbx_error_errno(err, errno, "%s/%s", data_dir, id);
        int r = sbx_remove_tree_at(dfd, id, err);
        return r < 0 ? sbx_error_prefix(err, r, "remove the snapshots in %s/%s", data_dir, id) : 0;
}
