/* watch_scan: the watcher's table of watched directories, the recursive
 * scan that fills it, the rescan after a queue overflow, and the watch-limit
 * error. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sandboxctl/util.h"
#include "src/lib/watch_internal.h"

static size_t wd_slot(int wd, size_t cap)
{
        return ((size_t)(unsigned)wd * 2654435761u) & (cap - 1);
}

struct watch_dir *watch_dir_find(const struct sbx_watcher *w, int wd)
{
        if (w->cap == 0 || wd <= 0)
                return NULL;
        for (size_t i = wd_slot(wd, w->cap); w->dirs[i].wd != 0; i = (i + 1) & (w->cap - 1))
                if (w->dirs[i].wd == wd)
                        return &w->dirs[i];
        return NULL;
}

static int dirs_rehash(struct sbx_watcher *w)
{
        size_t cap = w->cap ? w->cap : 64;
        while ((w->ndirs + 1) * 2 > cap)
                cap *= 2;
        struct watch_dir *dirs = calloc(cap, sizeof(*dirs));
        if (!dirs)
                return -ENOMEM;
        for (size_t i = 0; i < w->cap; i++) {
                if (w->dirs[i].wd <= 0)
                        continue;
                size_t j = wd_slot(w->dirs[i].wd, cap);
                while (dirs[j].wd != 0)
                        j = (j + 1) & (cap - 1);
                dirs[j] = w->dirs[i];
        }
        free(w->dirs);
        w->dirs = dirs;
        w->cap = cap;
        w->used = w->ndirs;
        return 0;
}

/* The entry of wd, made or renamed to `path`. NULL when out of memory. */
static struct watch_dir *dir_put(struct sbx_watcher *w, int wd, const char *path)
{
        char *copy = strdup(path);
        if (!copy)
                return NULL;
        struct watch_dir *d = watch_dir_find(w, wd);
        if (d) {
                free(d->path);
                d->path = copy;
                return d;
        }
        if ((w->used + 1) * 4 > w->cap * 3 && dirs_rehash(w) < 0) {
                free(copy);
                return NULL;
        }
        size_t i = wd_slot(wd, w->cap);
        while (w->dirs[i].wd > 0)
                i = (i + 1) & (w->cap - 1);
        if (w->dirs[i].wd == 0)
                w->used++;
        w->dirs[i] = (struct watch_dir){ .wd = wd, .path = copy };
        w->ndirs++;
        return &w->dirs[i];
}

void watch_dir_drop(struct sbx_watcher *w, struct watch_dir *d)
{
        free(d->path);
        *d = (struct watch_dir){ .wd = -1 };
        w->ndirs--;
}

static bool path_within(const char *path, const char *dir)
{
        size_t len = strlen(dir);
        if (len == 0)
                return true;
        return strncmp(path, dir, len) == 0 && (path[len] == '\0' || path[len] == '/');
}

void watch_drop_subtree(struct sbx_watcher *w, const char *path)
{
        for (size_t i = 0; i < w->cap; i++) {
                struct watch_dir *d = &w->dirs[i];
                if (d->wd <= 0 || !path_within(d->path, path))
                        continue;
                inotify_rm_watch(w->fd, d->wd); /* EINVAL if the kernel dropped it first */
                watch_dir_drop(w, d);
        }
}

int watch_rename_subtree(struct sbx_watcher *w, const char *from, const char *to)
{
        size_t len = strlen(from);
        for (size_t i = 0; i < w->cap; i++) {
                struct watch_dir *d = &w->dirs[i];
                if (d->wd <= 0 || !path_within(d->path, from))
                        continue;
                char *renamed = NULL;
                if (asprintf(&renamed, "%s%s", to, d->path + len) < 0)
                        return -ENOMEM;
                free(d->path);
                d->path = renamed;
        }
        return 0;
}

bool watch_has_git(const char *path)
{
        for (const char *p = path; (p = strstr(p, ".git")); p += 4)
                if ((p == path || p[-1] == '/') && (p[4] == '\0' || p[4] == '/'))
                        return true;
        return false;
}

bool watch_dir_pruned(const struct sbx_watcher *w, const char *path)
{
        if (watch_has_git(path))
                return true;
        for (size_t i = 0; i < w->exclude.n; i++)
                if (sbx_glob_covers_dir(&w->exclude.items[i], path))
                        return true;
        if (sbx_globset_match(&w->exclude, path, true))
                return true;
        return w->gi && sbx_gitignore_ignored(w->gi, path, true);
}

struct dir_entry {
        char *name;
        bool is_dir;
};

struct dir_list {
        struct dir_entry *items;
        size_t n;
        size_t cap;
        bool has_gitignore;
};

static void dir_list_done(struct dir_list *l)
{
        for (size_t i = 0; i < l->n; i++)
                free(l->items[i].name);
        free(l->items);
}

static bool entry_is_dir(DIR *dp, const struct dirent *de)
{
        struct stat st;
        if (de->d_type != DT_UNKNOWN)
                return de->d_type == DT_DIR;
        if (fstatat(dirfd(dp), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return false;
        return S_ISDIR(st.st_mode);
}

static int dir_list_add(struct dir_list *l, const char *name, bool is_dir)
{
        if (l->n == l->cap) {
                size_t cap = l->cap ? l->cap * 2 : 16;
                struct dir_entry *items = realloc(l->items, cap * sizeof(*items));
                if (!items)
                        return -ENOMEM;
                l->items = items;
                l->cap = cap;
        }
        char *copy = strdup(name);
        if (!copy)
                return -ENOMEM;
        l->items[l->n++] = (struct dir_entry){ .name = copy, .is_dir = is_dir };
        return 0;
}

/* The entries of directory `full`. -ENOENT/-ENOTDIR if it is gone. */
static int dir_list_read(const char *full, struct dir_list *l)
{
        int fd = open(full, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        DIR *dp = fdopendir(fd);
        if (!dp) {
                int r = -errno;
                close(fd);
                return r;
        }
        int r = 0;
        for (struct dirent *de; r == 0 && (errno = 0, de = readdir(dp));) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                bool is_dir = entry_is_dir(dp, de);
                if (!is_dir && strcmp(de->d_name, ".gitignore") == 0)
                        l->has_gitignore = true;
                r = dir_list_add(l, de->d_name, is_dir);
        }
        if (r == 0 && errno != 0)
                r = -errno;
        closedir(dp);
        return r;
}

long sbx_watch_read_limit(const char *file)
{
        FILE *f = fopen(file, "re");
        long v = -1;
        if (!f)
                return -1;
        if (fscanf(f, "%ld", &v) != 1)
                v = -1;
        fclose(f);
        return v;
}

int sbx_watch_limit_error(sbx_error **err, const char *path, long limit, long ns_limit,
                          size_t needed)
{
        if (ns_limit >= 0 && (limit < 0 || ns_limit < limit))
                return sbx_error_set(
                        err, ENOSPC,
                        "watch %s: inotify watch limit reached: this user "
                        "namespace's user.max_inotify_watches is %ld (below "
                        "fs.inotify.max_user_watches) and this watch needs %zu "
                        "watches, one per directory, beside those the user's other "
                        "programs hold; raise it: sysctl -w user.max_inotify_watches=%ld",
                        path, ns_limit, needed, ns_limit + (long)needed);
        if (limit < 0)
                return sbx_error_set(err, ENOSPC,
                                     "watch %s: inotify watch limit reached: "
                                     "fs.inotify.max_user_watches (value unknown) is too low; "
                                     "this watch needs %zu watches, one per directory; "
                                     "raise it: sysctl -w fs.inotify.max_user_watches=N",
                                     path, needed);
        return sbx_error_set(err, ENOSPC,
                             "watch %s: inotify watch limit reached: "
                             "fs.inotify.max_user_watches is %ld and this watch needs %zu "
                             "watches, one per directory, beside those the user's other "
                             "programs hold; raise it: sysctl -w fs.inotify.max_user_watches=%ld",
                             path, limit, needed, limit + (long)needed);
}

static char *full_path(const struct sbx_watcher *w, const char *rel)
{
        return *rel ? sbx_watch_join(w->root, rel) : strdup(w->root);
}

/* Push a copy of s on a string stack. */
static int stack_push(char ***stack, size_t *n, size_t *cap, char *s)
{
        if (!s)
                return -ENOMEM;
        if (*n == *cap) {
                size_t c = *cap ? *cap * 2 : 64;
                char **bigger = realloc(*stack, c * sizeof(*bigger));
                if (!bigger) {
                        free(s);
                        return -ENOMEM;
                }
                *stack = bigger;
                *cap = c;
        }
        (*stack)[(*n)++] = s;
        return 0;
}

static void stack_free(char **stack, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(stack[i]);
        free(stack);
}

/* The directories that watching every watch path takes (for the ENOSPC
 * message), counted with the same pruning as the scan. */
static size_t count_dirs(const struct sbx_watcher *w)
{
        char **stack = NULL;
        size_t n = 0, cap = 0, count = 0;
        for (size_t i = 0; i < w->ntops; i++)
                if (stack_push(&stack, &n, &cap, strdup(w->tops[i])) < 0)
                        break;
        while (n > 0) {
                sbx_autofree char *rel = stack[--n];
                sbx_autofree char *full = full_path(w, rel);
                struct dir_list l = { 0 };
                if (!full || dir_list_read(full, &l) < 0) {
                        dir_list_done(&l);
                        continue;
                }
                count++;
                for (size_t i = 0; i < l.n; i++) {
                        char *child =
                                l.items[i].is_dir ? sbx_watch_join(rel, l.items[i].name) : NULL;
                        if (child && watch_dir_pruned(w, child))
                                free(sbx_steal_ptr(child));
                        if (child && stack_push(&stack, &n, &cap, child) < 0)
                                break;
                }
                dir_list_done(&l);
        }
        stack_free(stack, n);
        return count;
}

struct scan {
        struct sbx_watcher *w;
        const char *top;
        bool is_top;
        bool report;
        const char *old_prefix;
        uint64_t now;
        char **stack;
        size_t n;
        size_t cap;
        int count;
};

/* Add the watch of `rel`. *ret_dir is NULL when there is nothing to scan:
 * the directory is gone (below the top) or this scan has been there. */
static int scan_add_watch(struct scan *s, const char *rel, bool first, struct watch_dir **ret_dir,
                          sbx_error **err)
{
        struct sbx_watcher *w = s->w;
        sbx_autofree char *full = full_path(w, rel);
        if (!full)
                return sbx_error_errno(err, ENOMEM, "watch %s", rel);
        int wd = w->add(w->fd, full, WATCH_MASK, w->userdata);
        if (wd < 0) {
                int e = errno;
                if (e == ENOSPC)
                        return sbx_watch_limit_error(
                                err, full, sbx_watch_read_limit(SBX_WATCH_LIMIT_FILE),
                                sbx_watch_read_limit(SBX_WATCH_NS_LIMIT_FILE), count_dirs(w));
                if (!(first && s->is_top) && (e == ENOENT || e == ENOTDIR)) {
                        *ret_dir = NULL;
                        return 0;
                }
                return sbx_error_errno(err, e, "watch %s", full);
        }
        struct watch_dir *d = watch_dir_find(w, wd);
        if (d && d->gen == w->gen) { /* reached twice: overlapping paths, bind mounts */
                *ret_dir = NULL;
                return 0;
        }
        d = dir_put(w, wd, rel);
        if (!d)
                return sbx_error_errno(err, ENOMEM, "watch %s", full);
        d->gen = w->gen;
        if (first && s->is_top)
                d->top = true;
        *ret_dir = d;
        return 0;
}

static int scan_report_file(struct scan *s, const char *child, sbx_error **err)
{
        int r = watch_record(s->w, child, CHANGE_CREATED, s->now, err);
        if (r < 0 || !s->old_prefix)
                return r;
        sbx_autofree char *old = NULL;
        if (asprintf(&old, "%s%s", s->old_prefix, child + strlen(s->top)) < 0)
                return sbx_error_errno(err, ENOMEM, "watch %s", child);
        int r2 = watch_record(s->w, old, CHANGE_REMOVED, s->now, err);
        return r2 < 0 ? r2 : r + r2;
}

static int scan_entries(struct scan *s, const char *rel, const struct dir_list *l, sbx_error **err)
{
        for (size_t i = 0; i < l->n; i++) {
                char *child = sbx_watch_join(rel, l->items[i].name);
                if (!child)
                        return sbx_error_errno(err, ENOMEM, "watch %s", rel);
                if (!l->items[i].is_dir) {
                        int r = s->report ? scan_report_file(s, child, err) : 0;
                        free(child);
                        if (r < 0)
                                return r;
                        s->count += r;
                } else if (watch_dir_pruned(s->w, child)) {
                        free(child);
                } else if (stack_push(&s->stack, &s->n, &s->cap, child) < 0) {
                        return sbx_error_errno(err, ENOMEM, "watch %s", rel);
                }
        }
        return 0;
}

static int scan_one(struct scan *s, const char *rel, bool first, sbx_error **err)
{
        struct sbx_watcher *w = s->w;
        struct watch_dir *d = NULL;
        int r = scan_add_watch(s, rel, first, &d, err);
        if (r < 0 || !d)
                return r;
        sbx_autofree char *full = full_path(w, rel);
        struct dir_list l = { 0 };
        r = full ? dir_list_read(full, &l) : -ENOMEM;
        if (r == -ENOENT || r == -ENOTDIR) {
                dir_list_done(&l);
                return 0; /* removed while we looked: its events follow */
        }
        if (r < 0) {
                dir_list_done(&l);
                return sbx_error_errno(err, -r, "read directory %s", full ? full : rel);
        }
        if (w->gi)
                r = l.has_gitignore ? sbx_gitignore_load(w->gi, w->root, rel, err) :
                                      sbx_gitignore_set(w->gi, rel, NULL, err);
        if (r >= 0)
                r = scan_entries(s, rel, &l, err);
        dir_list_done(&l);
        return r < 0 ? r : 0;
}

int watch_scan(struct sbx_watcher *w, const char *top, bool is_top, bool report,
               const char *old_prefix, uint64_t now_ms, sbx_error **err)
{
        struct scan s = {
                .w = w,
                .top = top,
                .is_top = is_top,
                .report = report,
                .old_prefix = old_prefix,
                .now = now_ms,
        };
        int r = scan_one(&s, top, true, err);
        while (r >= 0 && s.n > 0) {
                sbx_autofree char *rel = s.stack[--s.n];
                r = scan_one(&s, rel, false, err);
        }
        stack_free(s.stack, s.n);
        return r < 0 ? r : s.count;
}

int watch_rescan(struct sbx_watcher *w, uint64_t now_ms, sbx_error **err)
{
        w->gen++;
        for (size_t i = 0; i < w->ntops; i++) {
                int r = watch_scan(w, w->tops[i], false, false, NULL, now_ms, err);
                if (r < 0)
                        return sbx_error_prefix(err, r, "rescan after inotify queue overflow");
        }
        for (size_t i = 0; i < w->cap; i++) {
                struct watch_dir *d = &w->dirs[i];
                if (d->wd > 0 && d->gen != w->gen) {
                        inotify_rm_watch(w->fd, d->wd);
                        watch_dir_drop(w, d);
                }
        }
        w->pending_rescan = true;
        sbx_debounce_change(&w->debounce, now_ms);
        return 1;
}
