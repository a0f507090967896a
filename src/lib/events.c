/* events: append-only JSON-lines files with rotation, and their readers. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "run-internal.h"
#include "sandboxctl/events.h"
#include "sandboxctl/state.h"
#include "sandboxctl/util.h"

/* Open path for appending, locked, and still the file that path names
 * (a concurrent writer may have rotated it while we waited for the lock). */
static int open_locked(const char *path, sbx_error **err)
{
        for (int tries = 0; tries < 100; tries++) {
                struct stat a, b;
                sbx_autoclose int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW |
                                                          O_CLOEXEC, 0600);
                if (fd < 0)
                        return sbx_error_errno(err, errno, "open %s", path);
                if (flock(fd, LOCK_EX) < 0)
                        return sbx_error_errno(err, errno, "lock %s", path);
                if (fstat(fd, &a) < 0)
                        return sbx_error_errno(err, errno, "stat %s", path);
                if (stat(path, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev)
                        return sbx_steal_fd(fd);
        }
        return sbx_error_set(err, EAGAIN, "open %s: it keeps being rotated", path);
}

static int rotate(const char *path, sbx_error **err)
{
        sbx_autofree char *old = NULL;

        if (asprintf(&old, "%s.1", path) < 0)
                return sbx_error_errno(err, ENOMEM, "rotate %s", path);
        if (rename(path, old) < 0)
                return sbx_error_errno(err, errno, "rotate %s to %s", path, old);
        return 0;
}

int sbx_append_rotating(const char *path, const char *data, size_t len, uint64_t max_bytes,
                        sbx_error **err)
{
        struct stat st;
        int fd = open_locked(path, err);

        if (fd < 0)
                return fd;
        if (max_bytes && fstat(fd, &st) == 0 && st.st_size > 0 &&
            (uint64_t)st.st_size + len > max_bytes) {
                int r = rotate(path, err);
                /* Writers waiting on the old file's lock see the rename and reopen. */
                close(fd);
                if (r < 0)
                        return r;
                fd = open_locked(path, err);
                if (fd < 0)
                        return fd;
        }
        int r = 0;
        while (len > 0) {
                ssize_t n = write(fd, data, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        r = sbx_error_errno(err, n < 0 ? errno : EIO, "write %s", path);
                        break;
                }
                data += n;
                len -= (size_t)n;
        }
        close(fd);
        return r;
}

static char *event_line(const char *id, const char *type, json_t *fields)
{
        struct timespec now;
        char ts[64];

        clock_gettime(CLOCK_REALTIME, &now);
        sbx_format_iso8601(&now, ts, sizeof(ts));
        __attribute__((cleanup(json_decrefp))) json_t *o =
                json_pack("{s:s, s:s?, s:s}", "time", ts, "id", id, "type", type);
        if (!o)
                return NULL;
        if (fields)
                json_object_update_missing(o, fields);
        char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (!text)
                return NULL;
        size_t len = strlen(text);
        char *line = realloc(text, len + 2);
        if (!line) {
                free(text);
                return NULL;
        }
        line[len] = '\n';
        line[len + 1] = '\0';
        return line;
}

int sbx_event_append_registry(const char *state_dir, const char *id, const char *type,
                              void *fields, sbx_error **err)
{
        sbx_autofree char *line = event_line(id, type, fields);
        sbx_autofree char *global = sbx_registry_path(state_dir, NULL, SBX_EVENTS_FILE);

        if (!line || !global)
                return sbx_error_errno(err, ENOMEM, "event %s", type);
        int r = sbx_append_rotating(global, line, strlen(line), SBX_EVENTS_MAX_BYTES, err);
        return r < 0 ? sbx_error_prefix(err, r, "event %s", type) : 0;
}

int sbx_event_append(const char *state_dir, const char *id, const char *type, void *fields,
                     sbx_error **err)
{
        sbx_autofree char *line = event_line(id, type, fields);
        sbx_autofree char *global = sbx_registry_path(state_dir, NULL, SBX_EVENTS_FILE);
        sbx_autofree char *own = id ? sbx_registry_path(state_dir, id, SBX_EVENTS_FILE) : NULL;
        int r;

        if (!line || !global || (id && !own))
                return sbx_error_errno(err, ENOMEM, "event %s", type);
        size_t len = strlen(line);
        if (own) {
                r = sbx_append_rotating(own, line, len, SBX_EVENTS_MAX_BYTES, err);
                if (r < 0)
                        return sbx_error_prefix(err, r, "event %s", type);
        }
        r = sbx_append_rotating(global, line, len, SBX_EVENTS_MAX_BYTES, err);
        if (r < 0)
                return sbx_error_prefix(err, r, "event %s", type);
        return 0;
}

struct sbx_follow {
        char *path;
        int fd;       /* -1 while path does not exist */
        int inotify;  /* -1 until sbx_follow_wait() */
        ino_t ino;
        bool rotated_pending; /* read path.1 first */
};

void sbx_follow_free(struct sbx_follow *f)
{
        if (!f)
                return;
        sbx_closep(&f->fd);
        sbx_closep(&f->inotify);
        free(f->path);
        free(f);
}

static void follow_reopen(struct sbx_follow *f)
{
        struct stat st;

        sbx_closep(&f->fd);
        f->fd = open(f->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (f->fd >= 0 && fstat(f->fd, &st) == 0)
                f->ino = st.st_ino;
}

int sbx_follow_open(const char *path, bool from_rotated, struct sbx_follow **ret, sbx_error **err)
{
        struct sbx_follow *f = calloc(1, sizeof(*f));

        if (!f || !(f->path = strdup(path))) {
                free(f);
                return sbx_error_errno(err, ENOMEM, "open %s", path);
        }
        f->fd = -1;
        f->inotify = -1;
        if (from_rotated) {
                sbx_autofree char *old = NULL;
                if (asprintf(&old, "%s.1", path) >= 0)
                        f->fd = open(old, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
                f->rotated_pending = f->fd >= 0;
        }
        if (!f->rotated_pending)
                follow_reopen(f);
        *ret = f;
        return 0;
}

/* At the end of the open file: move on when path now names another file. */
static bool follow_switch(struct sbx_follow *f)
{
        struct stat st;

        if (f->rotated_pending) {
                f->rotated_pending = false;
                follow_reopen(f);
                return f->fd >= 0;
        }
        if (stat(f->path, &st) < 0)
                return false;
        if (f->fd >= 0 && st.st_ino == f->ino)
                return false;
        follow_reopen(f);
        return f->fd >= 0;
}

ssize_t sbx_follow_read(struct sbx_follow *f, char *buf, size_t len, sbx_error **err)
{
        for (int i = 0; i < 3; i++) {
                if (f->fd >= 0) {
                        ssize_t n = read(f->fd, buf, len);
                        if (n < 0)
                                return sbx_error_errno(err, errno, "read %s", f->path);
                        if (n > 0)
                                return n;
                }
                if (!follow_switch(f))
                        return 0;
        }
        return 0;
}

int sbx_follow_wait(struct sbx_follow *f, int timeout_ms, sbx_error **err)
{
        if (f->inotify < 0) {
                sbx_autofree char *copy = strdup(f->path);
                if (!copy)
                        return sbx_error_errno(err, ENOMEM, "watch %s", f->path);
                f->inotify = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
                if (f->inotify < 0)
                        return sbx_error_errno(err, errno, "inotify_init1");
                const char *dir = dirname(copy);
                if (inotify_add_watch(f->inotify, dir, IN_MODIFY | IN_CREATE | IN_MOVED_TO |
                                                               IN_CLOSE_WRITE | IN_DELETE_SELF) < 0)
                        return sbx_error_errno(err, errno, "watch %s", dir);
                /* Something may have been written before the watch existed. */
                return 1;
        }
        struct pollfd p = { .fd = f->inotify, .events = POLLIN };
        int n = poll(&p, 1, timeout_ms);
        if (n < 0)
                return errno == EINTR ? 0 : sbx_error_errno(err, errno, "poll");
        if (n == 0)
                return 0;
        char ev[4096];
        while (read(f->inotify, ev, sizeof(ev)) > 0)
                ;
        return 1;
}
