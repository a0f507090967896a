/* watch: the watcher: set-up, inotify events, filters, pending changes and
 * batches. The directory table and the scans are in watch_scan.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include "sandboxctl/util.h"
#include "sandboxctl/watch.h"
#include "src/lib/watch_internal.h"

uint64_t sbx_watch_now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int default_add_watch(int fd, const char *path, uint32_t mask, void *userdata)
{
        (void)userdata;
        return inotify_add_watch(fd, path, mask);
}

bool sbx_watcher_wants(const struct sbx_watcher *w, const char *path, bool is_dir)
{
        if (watch_has_git(path))
                return false;
        if (sbx_globset_match(&w->exclude, path, is_dir))
                return false;
        if (w->gi && sbx_gitignore_ignored(w->gi, path, is_dir))
                return false;
        if (!is_dir && w->include.n > 0 && !sbx_globset_match(&w->include, path, false))
                return false;
        return true;
}

/* Count a change of `path` into the pending batch, if the filters let it. */
int watch_record(struct sbx_watcher *w, const char *path, enum change_kind kind, uint64_t now_ms,
                 sbx_error **err)
{
        if (!sbx_watcher_wants(w, path, false))
                return 0;
        bool made;
        struct sbx_strmap_entry *e = sbx_strmap_insert(&w->pending, path, &made);
        if (!e)
                return sbx_error_errno(err, ENOMEM, "record change of %s", path);
        if (made)
                e->flags = CHANGE_SEEN | (kind == CHANGE_CREATED ? CHANGE_BORN : 0);
        if (kind == CHANGE_REMOVED)
                e->flags |= CHANGE_GONE;
        else
                e->flags &= ~(unsigned)CHANGE_GONE;
        sbx_debounce_change(&w->debounce, now_ms);
        return 1;
}

/* A directory that left the tree: its files had no events of their own, so
 * the directory itself counts (include globs aside, which name files). */
static int record_dir_gone(struct sbx_watcher *w, const char *path, uint64_t now_ms,
                           sbx_error **err)
{
        if (watch_dir_pruned(w, path))
                return 0;
        bool made;
        struct sbx_strmap_entry *e = sbx_strmap_insert(&w->pending, path, &made);
        if (!e)
                return sbx_error_errno(err, ENOMEM, "record change of %s", path);
        e->flags |= CHANGE_SEEN | CHANGE_GONE;
        sbx_debounce_change(&w->debounce, now_ms);
        return 1;
}

/* Watch a directory that appeared (made, or moved in from `old`) and count
 * the files already in it: they may predate its watch. */
static int watch_new_dir(struct sbx_watcher *w, const char *path, const char *old, uint64_t now_ms,
                         sbx_error **err)
{
        if (watch_dir_pruned(w, path))
                return 0;
        w->gen++;
        return watch_scan(w, path, false, true, old, now_ms, err);
}

static void move_forget(struct sbx_watcher *w)
{
        w->move_pending = false;
        free(w->move_path);
        w->move_path = NULL;
}

/* The IN_MOVED_FROM with no IN_MOVED_TO: it left the tree. */
static int move_flush(struct sbx_watcher *w, uint64_t now_ms, sbx_error **err)
{
        int r = 0;
        if (!w->move_pending)
                return 0;
        if (w->move_isdir) {
                watch_drop_subtree(w, w->move_path);
                r = record_dir_gone(w, w->move_path, now_ms, err);
        }
        move_forget(w);
        return r;
}

static int on_moved_from(struct sbx_watcher *w, char *path, bool is_dir, uint32_t cookie,
                         uint64_t now_ms, sbx_error **err)
{
        int r = is_dir ? 0 : watch_record(w, path, CHANGE_REMOVED, now_ms, err);
        if (r < 0) {
                free(path);
                return r;
        }
        w->move_pending = true;
        w->move_cookie = cookie;
        w->move_isdir = is_dir;
        w->move_path = sbx_steal_ptr(path);
        return r;
}

static int on_moved_dir(struct sbx_watcher *w, const char *path, const char *old, uint64_t now_ms,
                        sbx_error **err)
{
        if (!old)
                return watch_new_dir(w, path, NULL, now_ms, err);
        if (watch_dir_pruned(w, path)) {
                watch_drop_subtree(w, old);
                return record_dir_gone(w, old, now_ms, err);
        }
        if (watch_rename_subtree(w, old, path) < 0)
                return sbx_error_errno(err, ENOMEM, "rename %s", old);
        return watch_new_dir(w, path, old, now_ms, err);
}

static int on_moved_to(struct sbx_watcher *w, const char *path, bool is_dir, uint32_t cookie,
                       uint64_t now_ms, sbx_error **err)
{
        bool paired = w->move_pending && w->move_cookie == cookie;
        sbx_autofree char *old = paired ? sbx_steal_ptr(w->move_path) : NULL;
        int r;

        if (paired)
                move_forget(w);
        if (is_dir)
                return on_moved_dir(w, path, old, now_ms, err);
        r = watch_record(w, path, CHANGE_CREATED, now_ms, err);
        return r;
}

/* A .gitignore changed: its rules change, and directories it no longer
 * ignores are watched now. */
static int on_gitignore(struct sbx_watcher *w, const char *dir, uint64_t now_ms, sbx_error **err)
{
        int r = sbx_gitignore_load(w->gi, w->root, dir, err);
        if (r < 0)
                return r;
        w->gen++;
        r = watch_scan(w, dir, false, false, NULL, now_ms, err);
        return r < 0 ? r : 0;
}

/* The watched directory itself was removed or moved away. Below a watch
 * path, its parent's event tells; a watch path itself has no watched parent. */
static int on_self(struct sbx_watcher *w, struct watch_dir *d, uint32_t mask, uint64_t now_ms,
                   sbx_error **err)
{
        if (!d->top)
                return 0;
        sbx_autofree char *path = strdup(d->path);
        if (!path)
                return sbx_error_errno(err, ENOMEM, "watch");
        if (mask & IN_MOVE_SELF)
                watch_drop_subtree(w, path);
        return record_dir_gone(w, path, now_ms, err);
}

static int on_path(struct sbx_watcher *w, const char *dir, const char *path,
                   const struct inotify_event *ev, uint64_t now_ms, sbx_error **err)
{
        bool is_dir = ev->mask & IN_ISDIR;
        if (ev->mask & IN_MOVED_TO)
                return on_moved_to(w, path, is_dir, ev->cookie, now_ms, err);
        if (is_dir)
                return ev->mask & IN_CREATE ? watch_new_dir(w, path, NULL, now_ms, err) : 0;
        if (w->gi && strcmp(ev->name, ".gitignore") == 0) {
                int r = on_gitignore(w, dir, now_ms, err);
                if (r < 0)
                        return r;
        }
        enum change_kind kind = ev->mask & IN_CREATE ? CHANGE_CREATED :
                                ev->mask & IN_DELETE ? CHANGE_REMOVED :
                                                       CHANGE_MODIFIED;
        return watch_record(w, path, kind, now_ms, err);
}

static int on_entry(struct sbx_watcher *w, const char *dir, const struct inotify_event *ev,
                    uint64_t now_ms, sbx_error **err)
{
        char *path = sbx_watch_join(dir, ev->name);
        if (!path)
                return sbx_error_errno(err, ENOMEM, "watch %s", dir);
        if (ev->mask & IN_MOVED_FROM) /* keeps path until its IN_MOVED_TO */
                return on_moved_from(w, path, ev->mask & IN_ISDIR, ev->cookie, now_ms, err);
        int r = on_path(w, dir, path, ev, now_ms, err);
        free(path);
        return r;
}

static int handle_event(struct sbx_watcher *w, const struct inotify_event *ev, uint64_t now_ms,
                        sbx_error **err)
{
        if (ev->mask & IN_Q_OVERFLOW) {
                move_forget(w);
                return watch_rescan(w, now_ms, err);
        }
        struct watch_dir *d = watch_dir_find(w, ev->wd);
        if (!d)
                return 0; /* a watch we dropped: its last events */
        if (ev->mask & IN_IGNORED) {
                watch_dir_drop(w, d);
                return 0;
        }
        bool pairs = (ev->mask & IN_MOVED_TO) && ev->cookie == w->move_cookie;
        int flushed = w->move_pending && !pairs ? move_flush(w, now_ms, err) : 0;
        if (flushed < 0)
                return flushed;
        d = watch_dir_find(w, ev->wd); /* the flush may have dropped it */
        if (!d)
                return flushed;
        if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF)) {
                int r = on_self(w, d, ev->mask, now_ms, err);
                return r < 0 ? r : flushed + r;
        }
        if (ev->len == 0 || ev->name[0] == '\0')
                return flushed;
        sbx_autofree char *dir = strdup(d->path); /* d moves when the table grows */
        if (!dir)
                return sbx_error_errno(err, ENOMEM, "watch");
        int r = on_entry(w, dir, ev, now_ms, err);
        return r < 0 ? r : flushed + r;
}

int sbx_watcher_inject(struct sbx_watcher *w, const struct inotify_event *ev, uint64_t now_ms,
                       sbx_error **err)
{
        return handle_event(w, ev, now_ms, err);
}

int sbx_watcher_process(struct sbx_watcher *w, uint64_t now_ms, sbx_error **err)
{
        char buf[64 * 1024] __attribute__((aligned(__alignof__(struct inotify_event))));
        int count = 0;

        for (;;) {
                ssize_t n = read(w->fd, buf, sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        break;
                if (n < 0)
                        return sbx_error_errno(err, errno, "read inotify events");
                for (char *p = buf; p < buf + n;) {
                        const struct inotify_event *ev = (const struct inotify_event *)p;
                        int r = handle_event(w, ev, now_ms, err);
                        if (r < 0)
                                return r;
                        count += r;
                        p += sizeof(*ev) + ev->len;
                }
        }
        /* One rename(2) queues both halves back to back: an IN_MOVED_FROM
         * still unpaired once the queue is empty left the tree. (Were the
         * reader ever to run between the two, the move would count as a
         * removal and an arrival: more reported, nothing lost.) */
        int r = move_flush(w, now_ms, err);
        return r < 0 ? r : count + r;
}

/* A watch path made relative, without "." or empty components. */
static int normalize_top(const char *path, char **ret, sbx_error **err)
{
        if (path[0] == '/')
                return sbx_error_set(err, EINVAL,
                                     "watch.paths: \"%s\" must be relative to the workspace", path);
        sbx_autofree char *copy = strdup(path);
        sbx_autofree char *out = calloc(1, strlen(path) + 1);
        if (!copy || !out)
                return sbx_error_errno(err, ENOMEM, "watch.paths");
        char *save = NULL;
        for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
                if (strcmp(c, ".") == 0)
                        continue;
                if (strcmp(c, "..") == 0)
                        return sbx_error_set(err, EINVAL,
                                             "watch.paths: \"%s\" leaves the workspace", path);
                if (*out)
                        strcat(out, "/");
                strcat(out, c);
        }
        *ret = sbx_steal_ptr(out);
        return 0;
}

static int setup_tops(struct sbx_watcher *w, const struct sbx_strv *paths, sbx_error **err)
{
        size_t n = paths->n ? paths->n : 1;
        w->tops = calloc(n, sizeof(*w->tops));
        if (!w->tops)
                return sbx_error_errno(err, ENOMEM, "watch.paths");
        for (size_t i = 0; i < n; i++) {
                int r = normalize_top(paths->n ? paths->items[i] : "", &w->tops[i], err);
                if (r < 0)
                        return r;
                w->ntops++;
        }
        return 0;
}

/* The .gitignore files above a watch path apply to it too. */
static int load_parent_gitignores(struct sbx_watcher *w, const char *top, sbx_error **err)
{
        if (!*top)
                return 0;
        int r = sbx_gitignore_load(w->gi, w->root, "", err);
        sbx_autofree char *dir = strdup(top);
        if (!dir)
                return sbx_error_errno(err, ENOMEM, "watch");
        for (char *slash = strchr(dir, '/'); r >= 0 && slash; slash = strchr(slash + 1, '/')) {
                *slash = '\0';
                r = sbx_gitignore_load(w->gi, w->root, dir, err);
                *slash = '/';
        }
        return r;
}

static int open_inotify(struct sbx_watcher *w, sbx_error **err)
{
        w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (w->fd >= 0)
                return 0;
        if (errno == EMFILE)
                return sbx_error_errno(
                        err, EMFILE, "inotify_init1 (the limit is fs.inotify.max_user_instances)");
        return sbx_error_errno(err, errno, "inotify_init1");
}

static int watcher_setup(struct sbx_watcher *w, const struct sbx_watch *cfg, sbx_error **err)
{
        int r = sbx_globset_init(&w->include, "watch.include", &cfg->include, err);
        if (r >= 0)
                r = sbx_globset_init(&w->exclude, "watch.exclude", &cfg->exclude, err);
        if (r >= 0 && cfg->gitignore)
                r = sbx_gitignore_new(&w->gi, err);
        if (r >= 0)
                r = setup_tops(w, &cfg->paths, err);
        if (r >= 0)
                r = open_inotify(w, err);
        sbx_debounce_init(&w->debounce, cfg->debounce_ms);
        w->gen++;
        for (size_t i = 0; r >= 0 && i < w->ntops; i++) {
                if (w->gi)
                        r = load_parent_gitignores(w, w->tops[i], err);
                if (r >= 0)
                        r = watch_scan(w, w->tops[i], true, false, NULL, 0, err);
        }
        return r < 0 ? r : 0;
}

int sbx_watcher_new_with(const struct sbx_watch *cfg, const char *root, sbx_watch_add_fn add,
                         void *userdata, struct sbx_watcher **ret, sbx_error **err)
{
        struct sbx_watcher *w = calloc(1, sizeof(*w));
        if (!w)
                return sbx_error_errno(err, ENOMEM, "watch %s", root);
        w->fd = -1;
        w->add = add;
        w->userdata = userdata;
        w->root = strdup(root);
        size_t len = w->root ? strlen(w->root) : 0;
        while (len > 1 && w->root[len - 1] == '/')
                w->root[--len] = '\0';
        int r = w->root ? watcher_setup(w, cfg, err) :
                          sbx_error_errno(err, ENOMEM, "watch %s", root);
        if (r < 0) {
                sbx_watcher_free(w);
                return r;
        }
        *ret = w;
        return 0;
}

int sbx_watcher_new(const struct sbx_watch *cfg, const char *root, struct sbx_watcher **ret,
                    sbx_error **err)
{
        return sbx_watcher_new_with(cfg, root, default_add_watch, NULL, ret, err);
}

void sbx_watcher_free(struct sbx_watcher *w)
{
        if (!w)
                return;
        if (w->fd >= 0)
                close(w->fd); /* drops every watch */
        for (size_t i = 0; i < w->cap; i++)
                free(w->dirs[i].path);
        free(w->dirs);
        for (size_t i = 0; i < w->ntops; i++)
                free(w->tops[i]);
        free(w->tops);
        sbx_globset_done(&w->include);
        sbx_globset_done(&w->exclude);
        sbx_gitignore_free(w->gi);
        sbx_strmap_clear(&w->pending, NULL);
        free(w->move_path);
        free(w->root);
        free(w);
}

int sbx_watcher_fd(const struct sbx_watcher *w)
{
        return w->fd;
}

uint64_t sbx_watcher_deadline(const struct sbx_watcher *w)
{
        return sbx_debounce_deadline(&w->debounce);
}

static int compare_paths(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

void sbx_watch_batch_free(struct sbx_watch_batch *b)
{
        if (!b)
                return;
        for (size_t i = 0; i < b->n; i++)
                free(b->paths[i]);
        free(b->paths);
        free(b);
}

/* Move the pending changes into b, leaving out the files that came and went
 * inside the batch (temporary files of an atomic save). */
static void take_pending(struct sbx_watcher *w, struct sbx_watch_batch *b)
{
        for (size_t i = 0; i < w->pending.cap; i++) {
                struct sbx_strmap_entry *e = &w->pending.slots[i];
                bool transient = (e->flags & CHANGE_BORN) && (e->flags & CHANGE_GONE);
                if (e->key && !transient)
                        b->paths[b->n++] = sbx_steal_ptr(e->key);
        }
        sbx_strmap_clear(&w->pending, NULL);
        qsort(b->paths, b->n, sizeof(*b->paths), compare_paths);
        b->rescan = w->pending_rescan;
        w->pending_rescan = false;
}

int sbx_watcher_take_batch(struct sbx_watcher *w, uint64_t now_ms,
                           struct sbx_watch_batch **ret_batch, sbx_error **err)
{
        if (sbx_watcher_deadline(w) > now_ms)
                return 0;
        struct sbx_watch_batch *b = calloc(1, sizeof(*b));
        char **paths = calloc(w->pending.n + 1, sizeof(*paths));
        if (!b || !paths) {
                free(b);
                free(paths);
                return sbx_error_errno(err, ENOMEM, "watch batch");
        }
        b->paths = paths;
        if (!sbx_debounce_poll(&w->debounce, now_ms)) {
                sbx_watch_batch_free(b);
                return 0;
        }
        take_pending(w, b);
        if (b->n == 0 && !b->rescan) {
                sbx_watch_batch_free(b);
                return 0;
        }
        *ret_batch = b;
        return 1;
}

int sbx_watcher_rebuild_started(struct sbx_watcher *w, sbx_error **err)
{
        return sbx_debounce_rebuild_started(&w->debounce, err);
}

int sbx_watcher_rebuild_finished(struct sbx_watcher *w, uint64_t now_ms, sbx_error **err)
{
        return sbx_debounce_rebuild_finished(&w->debounce, now_ms, err);
}

enum sbx_debounce_state sbx_watcher_state(const struct sbx_watcher *w)
{
        return w->debounce.state;
}

size_t sbx_watcher_count(const struct sbx_watcher *w)
{
        return w->ndirs;
}

bool sbx_watcher_is_watched(const struct sbx_watcher *w, const char *dir)
{
        for (size_t i = 0; i < w->cap; i++)
                if (w->dirs[i].wd > 0 && strcmp(w->dirs[i].path, dir) == 0)
                        return true;
        return false;
}
