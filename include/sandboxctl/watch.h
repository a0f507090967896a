/* watch: recursive inotify over a workspace, include/exclude globs,
 * .gitignore files, and a debounce state machine, for the rebuild-and-reload
 * loop (issue 7).
 *
 * Paths are relative to the watched root (the workspace): `watch.paths` name
 * the directories to watch under it (none = the whole root), and every glob,
 * every .gitignore rule and every reported path is relative to it, with '/'
 * separators and no leading "./".
 *
 * The watcher is driven by the caller's event loop (the supervisor's epoll):
 *
 *     sbx_watcher_new(&spec->watch, workspace, &w, err);
 *     epoll_ctl(ADD, sbx_watcher_fd(w));                 // readable = events
 *     loop:
 *         on fd readable:  sbx_watcher_process(w, sbx_watch_now_ms(), err);
 *         after any input: arm the timerfd at sbx_watcher_deadline(w)
 *                          (SBX_WATCH_NEVER = disarm);
 *         on timer / any:  while (sbx_watcher_take_batch(w, now, &b, err) > 0)
 *                                  start the rebuild for b;
 *                                  sbx_watcher_rebuild_started(w, err);
 *         rebuild exited:  sbx_watcher_rebuild_finished(w, now, err);
 *
 * Nothing here blocks, sleeps, prints, or starts a thread. Times are
 * CLOCK_MONOTONIC milliseconds passed in by the caller, so the logic can be
 * tested with injected time. */
#ifndef SANDBOXCTL_WATCH_H
#define SANDBOXCTL_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sandboxctl/error.h"
#include "sandboxctl/spec.h"

#define SBX_WATCH_NEVER UINT64_MAX

/* CLOCK_MONOTONIC now, in milliseconds. */
uint64_t sbx_watch_now_ms(void);

/* ---- globs ----
 * gitignore-style patterns matched against root-relative paths:
 *   `*`       any run of characters but '/'
 *   `?`       one character but '/'
 *   `[a-z]`   a class; `[!a-z]` or `[^a-z]` its complement
 *   `\x`      a literal x
 *   `**`      as a whole segment: any number of whole directories
 *             (leading, as in "**" "/foo"; trailing, as in "build/" "**";
 *             or between two slashes); elsewhere it is a plain `*`
 * A pattern without a '/' (other than a trailing one) matches the last path
 * component at any depth (`*.o`); one with a '/' is anchored at the root
 * (`src/` + `*.c`, `/x`). A trailing '/' matches directories only. */
struct sbx_glob {
        char *pattern; /* the part that is matched: no leading '/' or '!', no trailing '/' */
        bool anchored; /* matched against the whole relative path */
        bool dir_only; /* written with a trailing '/' */
        bool negate; /* written with a leading '!' (gitignore only) */
};

/* Compile `text`. With allow_negate, a leading '!' sets g->negate (a
 * leading "\!" stays a literal '!'). EINVAL for an empty pattern, an
 * unterminated `[...]` or a trailing backslash. */
int sbx_glob_init(struct sbx_glob *g, const char *text, bool allow_negate, sbx_error **err);
void sbx_glob_done(struct sbx_glob *g);
/* Does the glob match `path` (a file, or a directory when is_dir) itself? */
bool sbx_glob_match(const struct sbx_glob *g, const char *path, bool is_dir);
/* Does the glob match everything below directory `dir` (the directory
 * itself matches, or the pattern is the directory followed by a trailing
 * whole-segment `**`)? Used to prune a whole directory from watching. */
bool sbx_glob_covers_dir(const struct sbx_glob *g, const char *dir);

/* A list of globs, such as watch.include or watch.exclude. */
struct sbx_globset {
        struct sbx_glob *items;
        size_t n;
};

/* Errors name the list and index: `exclude[2]: "[a-": unterminated [...]`. */
int sbx_globset_init(struct sbx_globset *s, const char *what, const struct sbx_strv *patterns,
                     sbx_error **err);
void sbx_globset_done(struct sbx_globset *s);
/* Does some glob match `path`, or one of the directories that contain it? */
bool sbx_globset_match(const struct sbx_globset *s, const char *path, bool is_dir);

/* ---- .gitignore ----
 * The rules of the .gitignore files of a tree, each applying to the
 * directory it is in and below, deeper files before shallower ones, later
 * lines before earlier ones, `!` re-including, and nothing re-included below
 * an ignored directory (as git does). */
struct sbx_gitignore;

int sbx_gitignore_new(struct sbx_gitignore **ret, sbx_error **err);
void sbx_gitignore_free(struct sbx_gitignore *gi);
/* Set the rules of directory `dir` ("" = the root) from the text of its
 * .gitignore file (NULL = it has none). Malformed lines are skipped, as git
 * does. */
int sbx_gitignore_set(struct sbx_gitignore *gi, const char *dir, const char *text, sbx_error **err);
/* Read `root`/`dir`/.gitignore into the rules of `dir`; a missing file
 * clears them. Returns 1 if a file was read, 0 if there was none. */
int sbx_gitignore_load(struct sbx_gitignore *gi, const char *root, const char *dir,
                       sbx_error **err);
bool sbx_gitignore_ignored(const struct sbx_gitignore *gi, const char *path, bool is_dir);

/* ---- debounce ----
 * A burst of changes closer together than the window is one batch, due one
 * window after the last change. While a rebuild runs nothing is due; changes
 * that arrive meanwhile (any number) make exactly one more batch, due when
 * the rebuild has finished and the window after the last of them has
 * passed.
 *
 *   IDLE     --change-->            PENDING  (deadline = now + window)
 *   PENDING  --change-->            PENDING  (deadline = now + window)
 *   PENDING  --poll, now>=deadline--> IDLE   (poll returns true: a batch)
 *   IDLE     --rebuild_started-->   BUILDING
 *   PENDING  --rebuild_started-->   QUEUED   (changes after the batch wait)
 *   BUILDING --change-->            QUEUED
 *   QUEUED   --change-->            QUEUED
 *   BUILDING --rebuild_finished-->  IDLE
 *   QUEUED   --rebuild_finished-->  PENDING  (deadline = last change + window)
 */
enum sbx_debounce_state {
        SBX_DEBOUNCE_IDLE,
        SBX_DEBOUNCE_PENDING,
        SBX_DEBOUNCE_BUILDING,
        SBX_DEBOUNCE_QUEUED,
};

struct sbx_debounce {
        enum sbx_debounce_state state;
        uint64_t window_ms;
        uint64_t last_change_ms;
};

void sbx_debounce_init(struct sbx_debounce *d, uint64_t window_ms);
void sbx_debounce_change(struct sbx_debounce *d, uint64_t now_ms);
/* When the next batch is due, or SBX_WATCH_NEVER. */
uint64_t sbx_debounce_deadline(const struct sbx_debounce *d);
/* True once per batch, when it is due. */
bool sbx_debounce_poll(struct sbx_debounce *d, uint64_t now_ms);
/* -EALREADY if a rebuild is already running. */
int sbx_debounce_rebuild_started(struct sbx_debounce *d, sbx_error **err);
/* -EINVAL if no rebuild is running. */
int sbx_debounce_rebuild_finished(struct sbx_debounce *d, uint64_t now_ms, sbx_error **err);
const char *sbx_debounce_state_name(enum sbx_debounce_state s);

/* ---- the watcher ---- */
struct sbx_watcher;

/* One batch of changes: the root-relative paths that changed (created,
 * written, removed, moved from or to), sorted and without duplicates. A
 * temporary file created and removed or renamed away inside one batch (an
 * editor's atomic save) is not in it; the final name is. `rescan` is set
 * when the kernel's event queue overflowed: events were lost, the whole tree
 * was scanned again, and anything may have changed. */
struct sbx_watch_batch {
        char **paths;
        size_t n;
        bool rescan;
};

void sbx_watch_batch_free(struct sbx_watch_batch *b);
static inline void sbx_watch_batch_freep(struct sbx_watch_batch **b)
{
        sbx_watch_batch_free(*b);
}

/* Watch cfg->paths (relative to `root`; none = `root` itself) recursively,
 * with cfg->include, cfg->exclude, cfg->gitignore and cfg->debounce_ms.
 * Directories named `.git` are never watched. Hitting the inotify watch limit
 * is ENOSPC with a message naming fs.inotify.max_user_watches, its value and
 * the number of directories to watch. */
int sbx_watcher_new(const struct sbx_watch *cfg, const char *root, struct sbx_watcher **ret,
                    sbx_error **err);
void sbx_watcher_free(struct sbx_watcher *w);
static inline void sbx_watcher_freep(struct sbx_watcher **w)
{
        sbx_watcher_free(*w);
}

/* The inotify fd (non-blocking, close-on-exec) to poll for reading. */
int sbx_watcher_fd(const struct sbx_watcher *w);
/* Read and handle every queued event without blocking. Returns the number of
 * events that passed the filters (0 if none). New directories are watched
 * (and their files reported), removed ones dropped. */
int sbx_watcher_process(struct sbx_watcher *w, uint64_t now_ms, sbx_error **err);
/* When a batch is due (for a timerfd), or SBX_WATCH_NEVER. */
uint64_t sbx_watcher_deadline(const struct sbx_watcher *w);
/* 1 and *ret_batch if a batch is due at now_ms, 0 if none. */
int sbx_watcher_take_batch(struct sbx_watcher *w, uint64_t now_ms,
                           struct sbx_watch_batch **ret_batch, sbx_error **err);
int sbx_watcher_rebuild_started(struct sbx_watcher *w, sbx_error **err);
int sbx_watcher_rebuild_finished(struct sbx_watcher *w, uint64_t now_ms, sbx_error **err);
enum sbx_debounce_state sbx_watcher_state(const struct sbx_watcher *w);
/* Directories watched now (inotify watches used). */
size_t sbx_watcher_count(const struct sbx_watcher *w);
/* Is the directory `dir` (relative to the root) watched now? */
bool sbx_watcher_is_watched(const struct sbx_watcher *w, const char *dir);
/* Would a change of `path` count (include, exclude, .gitignore, .git)? */
bool sbx_watcher_wants(const struct sbx_watcher *w, const char *path, bool is_dir);

#endif
