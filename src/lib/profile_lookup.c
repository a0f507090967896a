/* profile_lookup: where profiles come from: the search path
 * ($SANDBOXCTL_PROFILE_PATH, /etc/sandboxctl/profiles, the data dir), the
 * built-in medium profile, reading a file, and path arithmetic. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sandboxctl/profile.h"
#include "sandboxctl/util.h"

#include "config.h"
#include "profile_internal.h"

extern const char sbx_profile_builtin_yaml[];

#define ETC_PROFILES_DIR "/etc/sandboxctl/profiles"

const char *sbx_profile_builtin_text(void)
{
        return sbx_profile_builtin_yaml;
}

static bool has_suffix(const char *s, const char *suffix)
{
        size_t ls = strlen(s), lx = strlen(suffix);
        return ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}

bool sbx_profile_is_path(const char *s)
{
        return strchr(s, '/') || has_suffix(s, ".yaml") || has_suffix(s, ".yml");
}

/* PATH with "." and ".." segments folded away lexically, "" -> ".". */
static char *normalize(const char *path)
{
        size_t n = strlen(path), len = 0, depth = 0;
        bool absolute = path[0] == '/';
        sbx_autofree char *out = malloc(n + 2);
        sbx_autofree size_t *starts = malloc((n / 2 + 2) * sizeof(*starts));
        sbx_autofree bool *dotdot = malloc((n / 2 + 2) * sizeof(*dotdot));

        if (!out || !starts || !dotdot)
                return NULL;
        if (absolute)
                out[len++] = '/';
        for (const char *p = path; *p;) {
                while (*p == '/')
                        p++;
                const char *seg = p;
                while (*p && *p != '/')
                        p++;
                size_t sl = (size_t)(p - seg);
                bool up = sl == 2 && seg[0] == '.' && seg[1] == '.';
                if (sl == 0 || (sl == 1 && seg[0] == '.'))
                        continue;
                if (up && depth > 0 && !dotdot[depth - 1]) {
                        len = starts[--depth];
                        continue;
                }
                if (up && absolute)
                        continue; /* "/.." is "/" */
                starts[depth] = len;
                dotdot[depth++] = up;
                if (len > 0 && out[len - 1] != '/')
                        out[len++] = '/';
                memcpy(out + len, seg, sl);
                len += sl;
        }
        if (len == 0)
                out[len++] = '.';
        out[len] = '\0';
        return sbx_steal_ptr(out);
}

char *sbx_path_join_normalize(const char *dir, const char *rel)
{
        sbx_autofree char *p = NULL;
        if (rel[0] == '/' ? asprintf(&p, "%s", rel) < 0 : asprintf(&p, "%s/%s", dir, rel) < 0)
                return NULL;
        return normalize(p);
}

char *sbx_path_dirname(const char *path)
{
        const char *slash = strrchr(path, '/');
        if (!slash)
                return strdup(".");
        if (slash == path)
                return strdup("/");
        return strndup(path, (size_t)(slash - path));
}

char *sbx_path_stem(const char *path)
{
        const char *slash = strrchr(path, '/');
        const char *base = slash ? slash + 1 : path;
        size_t len = strlen(base);

        if (has_suffix(base, ".yaml"))
                len -= 5;
        else if (has_suffix(base, ".yml"))
                len -= 4;
        return strndup(base, len);
}

char *sbx_profile_resolve_relative(const char *file, const char *value)
{
        sbx_autofree char *dir = sbx_path_dirname(file ? file : ".");
        sbx_autofree char *joined = dir ? sbx_path_join_normalize(dir, value) : NULL;
        sbx_autofree char *cwd = NULL;

        if (!joined)
                return NULL;
        if (joined[0] == '/')
                return sbx_steal_ptr(joined);
        cwd = getcwd(NULL, 0);
        if (!cwd)
                return NULL;
        return sbx_path_join_normalize(cwd, joined);
}

/* The directories searched for NAME.yaml, in order. */
static int lookup_dirs(struct sbx_strv *dirs)
{
        const char *env = getenv("SANDBOXCTL_PROFILE_PATH");
        if (env) {
                sbx_autofree char *copy = strdup(env);
                char *save = NULL;
                if (!copy)
                        return -ENOMEM;
                for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save))
                        if (sbx_strv_push(dirs, d) < 0)
                                return -ENOMEM;
        }
        if (sbx_strv_push(dirs, ETC_PROFILES_DIR) < 0 ||
            sbx_strv_push(dirs, SBX_PROFILES_DATADIR) < 0)
                return -ENOMEM;
        return 0;
}

static bool is_regular_file(const char *path)
{
        struct stat st;
        return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int not_found(const char *name, const struct sbx_strv *dirs, sbx_error **err)
{
        sbx_autofree char *list = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&list, &len);

        if (!f)
                return sbx_error_errno(err, ENOMEM, "find profile '%s'", name);
        for (size_t i = 0; i < dirs->n; i++)
                fprintf(f, "%s%s", i ? ", " : "", dirs->items[i]);
        if (fclose(f) != 0 || !list)
                return sbx_error_errno(err, ENOMEM, "find profile '%s'", name);
        return sbx_error_set(err, ENOENT, "profile '%s' not found (searched: %s)", name, list);
}

int sbx_profile_find(const char *name, char **ret_path, sbx_error **err)
{
        struct sbx_strv dirs = { 0 };
        int r = lookup_dirs(&dirs);

        if (r < 0) {
                sbx_strv_clear(&dirs);
                return sbx_error_errno(err, ENOMEM, "find profile '%s'", name);
        }
        for (size_t i = 0; *name && i < dirs.n; i++) {
                char *path = NULL;
                if (asprintf(&path, "%s/%s.yaml", dirs.items[i], name) < 0) {
                        sbx_strv_clear(&dirs);
                        return sbx_error_errno(err, ENOMEM, "find profile '%s'", name);
                }
                if (is_regular_file(path)) {
                        sbx_strv_clear(&dirs);
                        *ret_path = path;
                        return 0;
                }
                free(path);
        }
        if (strcmp(name, SBX_PROFILE_DEFAULT) == 0) {
                sbx_strv_clear(&dirs);
                *ret_path = strdup(SBX_PROFILE_BUILTIN_SOURCE);
                return *ret_path ? 0 : sbx_error_errno(err, ENOMEM, "find profile");
        }
        r = not_found(name, &dirs, err);
        sbx_strv_clear(&dirs);
        return r;
}

int sbx_profile_locate(const char *name_or_path, char **ret_path, sbx_error **err)
{
        if (!name_or_path || !*name_or_path)
                return sbx_error_set(err, EINVAL, "empty profile name");
        if (strcmp(name_or_path, SBX_PROFILE_BUILTIN_SOURCE) == 0 ||
            sbx_profile_is_path(name_or_path)) {
                char *p = strdup(name_or_path);
                if (!p)
                        return sbx_error_errno(err, ENOMEM, "locate profile");
                *ret_path = p;
                return 0;
        }
        return sbx_profile_find(name_or_path, ret_path, err);
}

static int read_all(int fd, const char *path, char *buf, size_t size, size_t *ret_len,
                    sbx_error **err)
{
        size_t got = 0;
        while (got < size) {
                ssize_t n = read(fd, buf + got, size - got);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return sbx_error_errno(err, errno, "read %s", path);
                if (n == 0)
                        break;
                got += (size_t)n;
        }
        *ret_len = got;
        return 0;
}

int sbx_profile_read_file(const char *path, char **ret_text, size_t *ret_len, sbx_error **err)
{
        sbx_autoclose int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        struct stat st;

        if (fd < 0)
                return sbx_error_errno(err, errno, "open %s", path);
        if (fstat(fd, &st) < 0)
                return sbx_error_errno(err, errno, "stat %s", path);
        if (!S_ISREG(st.st_mode))
                return sbx_error_set(err, EINVAL, "%s: not a regular file", path);
        if (st.st_size > SBX_PROFILE_MAX_BYTES)
                return sbx_error_set(err, EFBIG, "%s:1:1: profile is larger than 1 MiB "
                                     "(%lld bytes)", path, (long long)st.st_size);
        /* one byte more than the limit shows a file that grew meanwhile */
        sbx_autofree char *buf = malloc(SBX_PROFILE_MAX_BYTES + 2);
        size_t len = 0;
        if (!buf)
                return sbx_error_errno(err, ENOMEM, "read %s", path);
        int r = read_all(fd, path, buf, SBX_PROFILE_MAX_BYTES + 1, &len, err);
        if (r < 0)
                return r;
        if (len > SBX_PROFILE_MAX_BYTES)
                return sbx_error_set(err, EFBIG, "%s:1:1: profile is larger than 1 MiB", path);
        buf[len] = '\0';
        char *shrunk = realloc(buf, len + 1);
        if (shrunk)
                buf = shrunk;
        *ret_text = sbx_steal_ptr(buf);
        *ret_len = len;
        return 0;
}

struct entries {
        struct sbx_profile_entry *v;
        size_t n;
};

static int entries_add(struct entries *l, const char *name, const char *path)
{
        struct sbx_profile_entry *v = realloc(l->v, (l->n + 1) * sizeof(*v));
        if (!v)
                return -ENOMEM;
        l->v = v;
        struct sbx_profile_entry *e = &v[l->n];
        *e = (struct sbx_profile_entry){ .name = strdup(name), .path = strdup(path) };
        l->n++;
        if (!e->name || !e->path)
                return -ENOMEM;
        for (size_t i = 0; i + 1 < l->n; i++)
                if (strcmp(l->v[i].name, name) == 0)
                        e->shadowed = true;
        struct sbx_spec *spec = NULL;
        if (sbx_profile_load(path, &spec, NULL) >= 0 && spec->description) {
                e->description = strdup(spec->description);
                if (!e->description) {
                        sbx_spec_free(spec);
                        return -ENOMEM;
                }
        }
        sbx_spec_free(spec);
        return 0;
}

static int compare_strings(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The NAME.yaml files of DIR, sorted by name (a missing dir has none). */
static int list_dir(const char *dir, struct entries *l)
{
        struct sbx_strv files = { 0 };
        DIR *d = opendir(dir);
        int r = 0;

        if (!d)
                return 0;
        for (struct dirent *de; (de = readdir(d));) {
                if (de->d_name[0] == '.' || !has_suffix(de->d_name, ".yaml"))
                        continue;
                if (sbx_strv_push(&files, de->d_name) < 0) {
                        r = -ENOMEM;
                        break;
                }
        }
        closedir(d);
        if (files.n)
                qsort(files.items, files.n, sizeof(*files.items), compare_strings);
        for (size_t i = 0; r >= 0 && i < files.n; i++) {
                sbx_autofree char *path = NULL;
                sbx_autofree char *name = sbx_path_stem(files.items[i]);
                if (!name || asprintf(&path, "%s/%s", dir, files.items[i]) < 0) {
                        path = NULL;
                        r = -ENOMEM;
                        break;
                }
                if (is_regular_file(path))
                        r = entries_add(l, name, path);
        }
        sbx_strv_clear(&files);
        return r;
}

int sbx_profile_list(struct sbx_profile_entry **ret_entries, size_t *ret_n, sbx_error **err)
{
        struct sbx_strv dirs = { 0 };
        struct entries l = { 0 };
        int r = lookup_dirs(&dirs);

        for (size_t i = 0; r >= 0 && i < dirs.n; i++)
                r = list_dir(dirs.items[i], &l);
        if (r >= 0)
                r = entries_add(&l, SBX_PROFILE_DEFAULT, SBX_PROFILE_BUILTIN_SOURCE);
        sbx_strv_clear(&dirs);
        if (r < 0) {
                sbx_profile_entries_free(l.v, l.n);
                return sbx_error_errno(err, -r, "list profiles");
        }
        *ret_entries = l.v;
        *ret_n = l.n;
        return 0;
}
