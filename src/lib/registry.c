/* registry: list, look up, create and remove the sandboxes of a state dir
 * (the entries; the name index is registry_names.c). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "registry-internal.h"
#include "run-internal.h"
#include "sandboxctl/state.h"
#include "sandboxctl/util.h"

#ifndef STATX_ATTR_MOUNT_ROOT
#define STATX_ATTR_MOUNT_ROOT 0x00002000
#endif

SBX_DEFINE_CLEANUP(DIR *, closedir)

const char *sbx_state_dir_default(void)
{
        const char *d = getenv(SBX_STATE_DIR_ENV);
        return d && *d ? d : SBX_STATE_DIR_DEFAULT;
}


void sbx_sandboxes_free(struct sbx_sandbox **v, size_t n)
{
        for (size_t i = 0; v && i < n; i++)
                sbx_sandbox_free(v[i]);
        free(v);
}

static int broken_entry(const char *id, sbx_error *e, struct sbx_sandbox **ret)
{
        struct sbx_sandbox *sb = calloc(1, sizeof(*sb));

        if (!sb)
                return -ENOMEM;
        memcpy(sb->id, id, SBX_ID_LEN); /* a valid id: checked by the caller */
        sb->id[SBX_ID_LEN] = '\0';
        sb->status = SBX_STATUS_ERROR;
        sb->broken = strdup(e && e->message ? e->message : "unreadable state");
        sb->reason = strdup("broken state file");
        if (!sb->broken || !sb->reason) {
                sbx_sandbox_free(sb);
                return -ENOMEM;
        }
        *ret = sb;
        return 0;
}

static int compare_sandboxes(const void *a, const void *b)
{
        const struct sbx_sandbox *x = *(struct sbx_sandbox *const *)a;
        const struct sbx_sandbox *y = *(struct sbx_sandbox *const *)b;
        int c = strcmp(x->created_at ? x->created_at : "", y->created_at ? y->created_at : "");

        return c ? c : strcmp(x->id, y->id);
}

/* Read one entry; a directory that vanished meanwhile (destroyed) is skipped. */
static int list_one(const char *state_dir, const char *id, struct sbx_sandbox **ret)
{
        sbx_autoerror e = NULL;
        int r = sbx_registry_read(state_dir, id, ret, &e);

        if (r >= 0)
                return 1;
        if (r == -ENOMEM)
                return r;
        if (r == -ENOENT) {
                /* No state.json yet: being created, or a leftover for gc. */
                sbx_autofree char *dir = sbx_registry_path(state_dir, id, NULL);
                struct stat st;
                if (!dir || stat(dir, &st) < 0)
                        return 0;
        }
        r = broken_entry(id, e, ret);
        return r < 0 ? r : 1;
}

static int push_sandbox(struct sbx_sandbox ***v, size_t *n, struct sbx_sandbox *sb)
{
        struct sbx_sandbox **nv = realloc(*v, (*n + 1) * sizeof(*nv));

        if (!nv) {
                sbx_sandbox_free(sb);
                return -ENOMEM;
        }
        nv[(*n)++] = sb;
        *v = nv;
        return 0;
}

int sbx_registry_list(const char *state_dir, struct sbx_sandbox ***ret, size_t *ret_n,
                      sbx_error **err)
{
        __attribute__((cleanup(closedirp))) DIR *d = opendir(state_dir);
        struct sbx_sandbox **v = NULL;
        size_t n = 0;
        struct dirent *de;
        int r = 0;

        if (!d && errno != ENOENT)
                return sbx_error_errno(err, errno, "open state dir %s", state_dir);
        while (d && (errno = 0, de = readdir(d))) {
                struct sbx_sandbox *sb = NULL;
                if (!sbx_sandbox_id_valid(de->d_name))
                        continue;
                r = list_one(state_dir, de->d_name, &sb);
                if (r > 0)
                        r = push_sandbox(&v, &n, sb);
                if (r < 0)
                        break;
        }
        if (r >= 0 && d && errno)
                r = -errno;
        if (r < 0) {
                sbx_sandboxes_free(v, n);
                return sbx_error_errno(err, -r, "list %s", state_dir);
        }
        if (n > 1)
                qsort(v, n, sizeof(*v), compare_sandboxes);
        *ret = v;
        *ret_n = n;
        return 0;
}

static bool entry_exists(const char *state_dir, const char *id)
{
        sbx_autofree char *dir = sbx_registry_path(state_dir, id, NULL);
        struct stat st;

        return dir && stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool is_id_prefix(const char *ref)
{
        size_t len = strlen(ref);

        return len > 0 && len < SBX_ID_LEN && strspn(ref, "0123456789abcdef") == len;
}

static int compare_ids(const void *a, const void *b)
{
        return strcmp(a, b);
}

static int ambiguous(const char *ref, char (*ids)[SBX_ID_LEN + 1], size_t n, sbx_error **err)
{
        char list[512] = "";
        size_t len = 0;

        qsort(ids, n, sizeof(*ids), compare_ids);
        for (size_t i = 0; i < n; i++) {
                int w = snprintf(list + len, sizeof(list) - len, "%s%s", len ? ", " : "", ids[i]);
                if (w < 0 || (size_t)w >= sizeof(list) - len)
                        break;
                len += (size_t)w;
        }
        return sbx_error_set(err, ENOTUNIQ, "ambiguous sandbox id prefix '%s': matches %s", ref,
                             list);
}

/* The one sandbox dir whose id starts with ref, from the directory names
 * alone. -ENOENT (err not set) when none does. */
static int resolve_prefix(const char *state_dir, const char *ref, char ret_id[],
                          sbx_error **err)
{
        __attribute__((cleanup(closedirp))) DIR *d = opendir(state_dir);
        sbx_autofree char (*ids)[SBX_ID_LEN + 1] = NULL;
        size_t n = 0, len = strlen(ref);
        struct dirent *de;

        if (!d && errno == ENOENT)
                return -ENOENT;
        if (!d)
                return sbx_error_errno(err, errno, "open state dir %s", state_dir);
        while ((errno = 0, de = readdir(d))) {
                if (!sbx_sandbox_id_valid(de->d_name) || strncmp(de->d_name, ref, len) != 0)
                        continue;
                void *nv = realloc(ids, (n + 1) * sizeof(*ids));
                if (!nv)
                        return sbx_error_errno(err, ENOMEM, "resolve '%s'", ref);
                ids = nv;
                memcpy(ids[n++], de->d_name, SBX_ID_LEN + 1);
        }
        if (errno)
                return sbx_error_errno(err, errno, "read state dir %s", state_dir);
        if (n > 1)
                return ambiguous(ref, ids, n, err);
        if (n == 0)
                return -ENOENT;
        memcpy(ret_id, ids[0], SBX_ID_LEN + 1);
        return 0;
}

/* An exact id, then a live sandbox's name, then a unique id prefix, then the
 * name of a dead one: no state file is read but the named sandbox's. */
int sbx_registry_resolve(const char *state_dir, const char *ref, char ret_id[SBX_ID_LEN + 1],
                         sbx_error **err)
{
        char named[SBX_ID_LEN + 1];
        bool live = false;
        int by_name = -ENOENT, r;

        if (!ref || !*ref)
                return sbx_error_set(err, EINVAL, "empty sandbox id or name");
        if (sbx_sandbox_id_valid(ref) && entry_exists(state_dir, ref)) {
                memcpy(ret_id, ref, SBX_ID_LEN + 1);
                return 0;
        }
        if (sbx_sandbox_name_check(ref, NULL) >= 0)
                by_name = registry_name_lookup(state_dir, ref, named, &live);
        if (by_name == -ENOMEM)
                return sbx_error_errno(err, ENOMEM, "resolve '%s'", ref);
        if (by_name < 0 || !live) {
                r = is_id_prefix(ref) ? resolve_prefix(state_dir, ref, ret_id, err) : -ENOENT;
                if (r != -ENOENT)
                        return r;
        }
        if (by_name < 0)
                return sbx_error_set(err, ENOENT, "no such sandbox: '%s'", ref);
        memcpy(ret_id, named, SBX_ID_LEN + 1);
        return 0;
}

int sbx_sandbox_name_check(const char *name, sbx_error **err)
{
        size_t len = strlen(name);

        if (len == 0 || len > 64)
                return sbx_error_set(err, EINVAL, "invalid sandbox name '%s': 1 to 64 characters",
                                     name);
        for (size_t i = 0; i < len; i++) {
                char c = name[i];
                bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                          (c >= '0' && c <= '9') || (i > 0 && strchr("_.-", c));
                if (!ok)
                        return sbx_error_set(err, EINVAL,
                                             "invalid sandbox name '%s': use letters, digits, '_', '.' and '-', starting with a letter or digit",
                                             name);
        }
        if (sbx_sandbox_id_valid(name))
                return sbx_error_set(err, EINVAL,
                                     "invalid sandbox name '%s': it would read as a sandbox id",
                                     name);
        return 0;
}

static int mkdir_parents(const char *path, sbx_error **err)
{
        sbx_autofree char *copy = strdup(path);

        if (!copy)
                return sbx_error_errno(err, ENOMEM, "mkdir %s", path);
        for (char *p = copy + 1;; p++) {
                if (*p != '/' && *p != '\0')
                        continue;
                char c = *p;
                *p = '\0';
                if (mkdir(copy, 0711) < 0 && errno != EEXIST)
                        return sbx_error_errno(err, errno, "mkdir %s", copy);
                if (c == '\0')
                        return 0;
                *p = c;
        }
}

static bool is_mount_root(int dfd, const char *name)
{
        struct statx stx;

        if (statx(dfd, name, AT_SYMLINK_NOFOLLOW, STATX_TYPE, &stx) < 0)
                return false;
        return (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
               (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

static int remove_dir_contents(int fd, const char *name, sbx_error **err)
{
        __attribute__((cleanup(closedirp))) DIR *d = fdopendir(fd);
        if (!d) {
                close(fd);
                return sbx_error_errno(err, errno, "open directory %s", name);
        }
        struct dirent *de;
        int r = 0;
        while ((errno = 0, de = readdir(d))) {
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                int q = sbx_remove_tree_at(dirfd(d), de->d_name, err);
                if (q < 0 && r == 0)
                        r = sbx_error_prefix(err, q, "%s", name);
        }
        if (errno)
                return sbx_error_errno(err, errno, "read directory %s", name);
        return r;
}

int sbx_remove_tree_at(int parentfd, const char *name, sbx_error **err)
{
        if (is_mount_root(parentfd, name))
                return sbx_error_set(err, EBUSY, "remove %s: is a mount point", name);
        int fd = openat(parentfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
                if (errno != ENOTDIR && errno != ELOOP)
                        return sbx_error_errno(err, errno, "open %s", name);
                if (unlinkat(parentfd, name, 0) < 0)
                        return sbx_error_errno(err, errno, "remove %s", name);
                return 0;
        }
        int r = remove_dir_contents(fd, name, err);
        if (r < 0)
                return r;
        if (unlinkat(parentfd, name, AT_REMOVEDIR) < 0)
                return sbx_error_errno(err, errno, "remove %s", name);
        return 0;
}

int registry_remove_entry(const char *state_dir, const char *id, sbx_error **err)
{
        sbx_autoclose int dfd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (dfd < 0)
                return sbx_error_errno(err, errno, "open %s", state_dir);
        return sbx_remove_tree_at(dfd, id, err);
}

/* A named long-lived sandbox's name is checked and indexed under the
 * registry lock, so that two creates of one name cannot both win. */
int registry_add(const char *state_dir, const struct sbx_sandbox *sb, unsigned flags,
                 sbx_error **err)
{
        sbx_autofree char *dir = sbx_registry_path(state_dir, sb->id, NULL);
        bool index = sb->name && !(flags & REGISTRY_RUN);
        int r;

        if (!dir)
                return sbx_error_errno(err, ENOMEM, "create sandbox %s", sb->id);
        r = mkdir_parents(state_dir, err);
        if (r < 0)
                return sbx_error_prefix(err, r, "create state dir");
        sbx_autoclose int lock = index ? sbx_registry_lock(state_dir, NULL, 10000, err) : -1;
        if (index && lock < 0)
                return lock;
        if (index && (r = registry_name_check_free(state_dir, sb->name, err)) < 0)
                return r;
        /* 0711: other users reach control.sock (which checks who they are),
         * nothing else; run's has no socket. */
        if (mkdir(dir, flags & REGISTRY_RUN ? 0700 : 0711) < 0)
                return sbx_error_errno(err, errno, "create state dir: mkdir %s", dir);
        r = registry_write_state(state_dir, sb, !(flags & REGISTRY_RUN), err);
        if (r >= 0 && index)
                r = registry_name_link(state_dir, sb->name, sb->id, err);
        if (r < 0)
                registry_remove_entry(state_dir, sb->id, NULL);
        return r;
}

int sbx_registry_create(const char *state_dir, const struct sbx_sandbox *sb, sbx_error **err)
{
        return registry_add(state_dir, sb, 0, err);
}

int sbx_registry_remove(const char *state_dir, const char *id, sbx_error **err)
{
        if (!sbx_sandbox_id_valid(id))
                return sbx_error_set(err, EINVAL, "remove %s/%s: not a sandbox id", state_dir, id);
        registry_name_drop(state_dir, id);
        return registry_remove_entry(state_dir, id, err);
}
