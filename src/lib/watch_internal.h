/* watch_internal: what the watch*.c, glob.c, gitignore.c files share, and the
 * hooks the tests use to reach paths that a test cannot make the kernel take
 * (a queue overflow, a watch limit). Not installed. */
#ifndef SANDBOXCTL_WATCH_INTERNAL_H
#define SANDBOXCTL_WATCH_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/inotify.h>

#include "sandboxctl/error.h"
#include "sandboxctl/watch.h"

/* A string-keyed hash table (open addressing, no removal). The keys are
 * copies owned by the table; entry pointers are valid until the next insert. */
struct sbx_strmap_entry {
        char *key;
        void *value;
        unsigned flags;
};

struct sbx_strmap {
        struct sbx_strmap_entry *slots;
        size_t cap;
        size_t n;
};

struct sbx_strmap_entry *sbx_strmap_find(const struct sbx_strmap *m, const char *key);
/* The entry of `key`, made (value NULL, flags 0) if missing; *ret_new says
 * which. NULL when out of memory. */
struct sbx_strmap_entry *sbx_strmap_insert(struct sbx_strmap *m, const char *key, bool *ret_new);
/* Free every key (and every value with free_value, if not NULL). */
void sbx_strmap_clear(struct sbx_strmap *m, void (*free_value)(void *));

/* "dir/name", or "name" when dir is "" (the root). NULL when out of memory. */
char *sbx_watch_join(const char *dir, const char *name);

/* Adds an inotify watch: inotify_add_watch() by default. Returns a wd or -1
 * with errno set. */
typedef int (*sbx_watch_add_fn)(int fd, const char *path, uint32_t mask, void *userdata);

/* sbx_watcher_new() with another add-watch function (tests: a fake limit). */
int sbx_watcher_new_with(const struct sbx_watch *cfg, const char *root, sbx_watch_add_fn add,
                         void *userdata, struct sbx_watcher **ret, sbx_error **err);
/* Handle one event as if it had been read from the inotify fd (tests: a
 * synthetic IN_Q_OVERFLOW). Returns the number of changes it counted. */
int sbx_watcher_inject(struct sbx_watcher *w, const struct inotify_event *ev, uint64_t now_ms,
                       sbx_error **err);

/* The watch limits: the host's, and that of the caller's user namespace
 * (the same value in the initial one; a lower one in a child namespace
 * binds too). */
#define SBX_WATCH_LIMIT_FILE "/proc/sys/fs/inotify/max_user_watches"
#define SBX_WATCH_NS_LIMIT_FILE "/proc/sys/user/max_inotify_watches"

/* The ENOSPC message: a limit < 0 could not be read. */
int sbx_watch_limit_error(sbx_error **err, const char *path, long limit, long ns_limit,
                          size_t needed);
/* The number in a /proc/sys file, or -1. */
long sbx_watch_read_limit(const char *file);

/* ---- the watcher's insides, shared by watch.c and watch_scan.c ---- */

/* One watched directory. wd 0 marks a free slot, -1 a removed one. */
struct watch_dir {
        int wd;
        char *path; /* relative to the root, "" = the root */
        unsigned gen; /* the scan that last reached it */
        bool top; /* one of watch.paths */
};

/* Flags of a pending change (struct sbx_strmap_entry.flags). */
enum {
        CHANGE_SEEN = 1u << 0, /* always set */
        CHANGE_BORN = 1u << 1, /* its first event made it (create, moved to) */
        CHANGE_GONE = 1u << 2, /* its last event removed it (delete, moved from) */
};

enum change_kind {
        CHANGE_MODIFIED,
        CHANGE_CREATED,
        CHANGE_REMOVED,
};

struct sbx_watcher {
        int fd;
        char *root;
        char **tops; /* watch.paths, normalized; "" = the root */
        size_t ntops;
        struct sbx_globset include;
        struct sbx_globset exclude;
        struct sbx_gitignore *gi; /* NULL with watch.gitignore: false */
        struct watch_dir *dirs; /* hash table on wd */
        size_t cap;
        size_t ndirs;
        size_t used; /* slots not free: live + removed */
        unsigned gen;
        struct sbx_strmap pending; /* path -> CHANGE_* flags */
        bool pending_rescan;
        struct sbx_debounce debounce;
        bool move_pending; /* an IN_MOVED_FROM waiting for its IN_MOVED_TO */
        uint32_t move_cookie;
        bool move_isdir;
        char *move_path;
        sbx_watch_add_fn add;
        void *userdata;
};

#define WATCH_MASK                                                                        \
        (IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB | IN_MOVED_FROM | \
         IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW |      \
         IN_EXCL_UNLINK)

/* watch_scan.c */
struct watch_dir *watch_dir_find(const struct sbx_watcher *w, int wd);
void watch_dir_drop(struct sbx_watcher *w, struct watch_dir *d);
/* Stop watching `path` and every directory below it. */
void watch_drop_subtree(struct sbx_watcher *w, const char *path);
/* Rename `from` and every directory below it to `to`. */
int watch_rename_subtree(struct sbx_watcher *w, const char *from, const char *to);
/* Has `path` a component named .git? */
bool watch_has_git(const char *path);
/* Is directory `path` left out of watching (.git, exclude, .gitignore)? */
bool watch_dir_pruned(const struct sbx_watcher *w, const char *path);
/* Watch `top` and the directories below it. With report, every file found
 * counts as created (and, with old_prefix, the same file under old_prefix as
 * removed: a moved directory). Returns the changes counted. */
int watch_scan(struct sbx_watcher *w, const char *top, bool is_top, bool report,
               const char *old_prefix, uint64_t now_ms, sbx_error **err);
/* Scan every watch path again, drop what is gone: after IN_Q_OVERFLOW. */
int watch_rescan(struct sbx_watcher *w, uint64_t now_ms, sbx_error **err);

/* watch.c */
int watch_record(struct sbx_watcher *w, const char *path, enum change_kind kind, uint64_t now_ms,
                 sbx_error **err);

#endif
