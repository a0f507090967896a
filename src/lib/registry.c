/* registry: list, look up, create and remove the sandboxes of a state dir. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run-internal.h"
#include "sandboxctl/state.h"
#include "sandboxctl/util.h"

SBX_DEFINE_CLEANUP(DIR *, closedir)

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

static bool is_live(const struct sbx_sandbox *sb)
{
        return !sb->broken && !sb->supervisor_dead;
}

static int ambiguous(const char *ref, struct sbx_sandbox **v, size_t n, sbx_error **err)
{
        char list[512] = "";
        size_t len = 0;

        for (size_t i = 0; i < n; i++) {
                if (strncmp(v[i]->id, ref, strlen(ref)) != 0)
                        continue;
                int w = snprintf(list + len, sizeof(list) - len, "%s%s", len ? ", " : "", v[i]->id);
                if (w < 0 || (size_t)w >= sizeof(list) - len)
                        break;
                len += (size_t)w;
        }
        return sbx_error_set(err, ENOTUNIQ, "ambiguous sandbox id prefix '%s': matches %s", ref,
                             list);
}

/* Names win over prefixes: a live sandbox named `ref` is `ref`. */
static int find_ref(const char *ref, struct sbx_sandbox **v, size_t n, char ret_id[], sbx_error **err)
{
        size_t matches = 0, hit = 0, len = strlen(ref);

        for (size_t i = 0; i < n; i++) {
                if (strcmp(v[i]->id, ref) == 0) {
                        memcpy(ret_id, v[i]->id, SBX_ID_LEN + 1);
                        return 0;
                }
        }
        for (size_t i = 0; i < n; i++) {
                if (v[i]->name && strcmp(v[i]->name, ref) == 0 && is_live(v[i])) {
                        memcpy(ret_id, v[i]->id, SBX_ID_LEN + 1);
                        return 0;
                }
        }
        for (size_t i = 0; i < n; i++) {
                if (strncmp(v[i]->id, ref, len) == 0) {
                        matches++;
                        hit = i;
                }
        }
        if (matches > 1)
                return ambiguous(ref, v, n, err);
        if (matches == 1) {
                memcpy(ret_id, v[hit]->id, SBX_ID_LEN + 1);
                return 0;
        }
        for (size_t i = 0; i < n; i++) {
                if (v[i]->name && strcmp(v[i]->name, ref) == 0) {
                        memcpy(ret_id, v[i]->id, SBX_ID_LEN + 1);
                        return 0;
                }
        }
        return sbx_error_set(err, ENOENT, "no such sandbox: '%s'", ref);
}

int sbx_registry_resolve(const char *state_dir, const char *ref, char ret_id[SBX_ID_LEN + 1],
                         sbx_error **err)
{
        struct sbx_sandbox **v = NULL;
        size_t n = 0;

        if (!ref || !*ref)
                return sbx_error_set(err, EINVAL, "empty sandbox id or name");
        int r = sbx_registry_list(state_dir, &v, &n, err);
        if (r < 0)
                return r;
        r = find_ref(ref, v, n, ret_id, err);
        sbx_sandboxes_free(v, n);
        return r;
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

static int name_taken(const char *state_dir, const char *name, sbx_error **err)
{
        struct sbx_sandbox **v = NULL;
        size_t n = 0;
        int r = sbx_registry_list(state_dir, &v, &n, err);

        for (size_t i = 0; r >= 0 && i < n; i++)
                if (v[i]->name && strcmp(v[i]->name, name) == 0 && is_live(v[i]))
                        r = sbx_error_set(err, EEXIST,
                                          "name '%s' is already used by sandbox %s", name,
                                          v[i]->id);
        sbx_sandboxes_free(v, n);
        return r;
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

int sbx_registry_create(const char *state_dir, const struct sbx_sandbox *sb, sbx_error **err)
{
        sbx_autofree char *dir = sbx_registry_path(state_dir, sb->id, NULL);
        int r;

        if (!dir)
                return sbx_error_errno(err, ENOMEM, "create sandbox %s", sb->id);
        r = mkdir_parents(state_dir, err);
        if (r < 0)
                return sbx_error_prefix(err, r, "create state dir");
        sbx_autoclose int lock = sbx_registry_lock(state_dir, NULL, 10000, err);
        if (lock < 0)
                return lock;
        if (sb->name && (r = name_taken(state_dir, sb->name, err)) < 0)
                return r;
        /* 0711: other users reach control.sock (which checks who they are),
         * nothing else. */
        if (mkdir(dir, 0711) < 0)
                return sbx_error_errno(err, errno, "create state dir: mkdir %s", dir);
        r = sbx_registry_write(state_dir, sb, err);
        if (r < 0)
                sbx_registry_remove(state_dir, sb->id, NULL);
        return r;
}

int sbx_registry_remove(const char *state_dir, const char *id, sbx_error **err)
{
        sbx_autoclose int dfd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (dfd < 0)
                return sbx_error_errno(err, errno, "open %s", state_dir);
        if (!sbx_sandbox_id_valid(id))
                return sbx_error_set(err, EINVAL, "remove %s/%s: not a sandbox id", state_dir, id);
        return sbx_remove_tree_at(dfd, id, err);
}
