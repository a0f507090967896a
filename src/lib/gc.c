/* gc: find the state dirs of dead sandboxes and remove them. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "run-internal.h"
#include "sandboxctl/cgroup.h"
#include "sandboxctl/control.h"
#include "sandboxctl/events.h"
#include "sandboxctl/gc.h"
#include "sandboxctl/util.h"

SBX_DEFINE_CLEANUP(DIR *, closedir)

static void free_entry(struct sbx_gc_entry *e)
{
        free(e->id);
        free(e->reason);
        free(e->error);
}

void sbx_gc_entries_free(struct sbx_gc_entry *entries, size_t n)
{
        for (size_t i = 0; entries && i < n; i++)
                free_entry(&entries[i]);
        free(entries);
}

static json_t *load_state(int dfd, const char *id)
{
        char path[NAME_MAX + 16];

        snprintf(path, sizeof(path), "%s/state.json", id);
        sbx_autoclose int fd = openat(dfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return NULL;
        return json_loadfd(fd, 0, NULL);
}

/* Does a live supervisor answer on <id>/control.sock? (Who is alive
 * when state.json cannot tell.) */
static bool control_socket_live(int dfd, const char *id)
{
        char path[NAME_MAX + 32];

        snprintf(path, sizeof(path), "%s/" SBX_CONTROL_SOCKET, id);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int n = snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/%s", dfd, path);
        if (n < 0 || (size_t)n >= sizeof(sa.sun_path))
                return false;
        sbx_autoclose int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        return fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
}

/* No usable state.json, or one without a supervisor yet: dead once older
 * than the grace period (or at once with force), unless a supervisor still
 * answers on its control socket. */
static bool unknown_is_dead(int dfd, const char *id, bool force, const char *what,
                            char **ret_reason)
{
        struct stat st;
        bool old = fstatat(dfd, id, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                   st.st_mtime + SBX_GC_GRACE_SECONDS < time(NULL);
        bool live = control_socket_live(dfd, id);
        bool dead = !live && (force || old);

        if (asprintf(ret_reason, "%s%s", what,
                     live ? ", but its supervisor answers"
                     : dead ? (force && !old ? " (--force)" : "")
                            : " yet (being created? --force removes it)") < 0)
                *ret_reason = NULL;
        return dead;
}

/* Decide whether the sandbox `id` is dead; *ret_reason says why (or why not). */
static bool sandbox_is_dead(int dfd, const char *id, json_t *state, bool force, char **ret_reason)
{
        json_int_t pid = 0, start = 0;
        char *reason = NULL;

        if (!state || json_unpack(state, "{s:I, s:I}", "pid", &pid, "pid_start_time", &start) < 0)
                return unknown_is_dead(dfd, id, force, "no valid state.json", ret_reason);
        if (pid <= 0)
                return unknown_is_dead(dfd, id, force, "no supervisor recorded", ret_reason);
        uint64_t now_start;
        int r = sbx_pid_start_time((pid_t)pid, &now_start, NULL);
        bool dead = r == -ESRCH || (r >= 0 && now_start != (uint64_t)start);
        if (asprintf(&reason, "supervisor pid %lld %s", (long long)pid,
                     r == -ESRCH ? "is gone"
                     : dead      ? "was reused by another process"
                                 : "is running") < 0)
                reason = NULL;
        *ret_reason = reason;
        return dead;
}

static int entries_push(struct sbx_gc_entry **v, size_t *n, struct sbx_gc_entry *e, sbx_error **err)
{
        struct sbx_gc_entry *p = realloc(*v, (*n + 1) * sizeof(**v));

        if (!p)
                return sbx_error_errno(err, ENOMEM, "gc");
        *v = p;
        p[(*n)++] = *e;
        return 0;
}

/* Kill and remove the dead sandbox's cgroup, under the parent its
 * state.json names (else the default one), and then its state dir. The
 * state dir goes last: it is how a later gc finds the cgroup again. */
static void remove_leftovers(const char *state_dir, int dfd, const char *id, json_t *state,
                             struct sbx_gc_entry *e)
{
        sbx_autoerror err = NULL;
        const char *parent = NULL;

        if (state)
                json_unpack(state, "{s?s}", "cgroup_parent", &parent);
        if (sbx_cgroup_collect(parent, id, true, &err) < 0) {
                e->error = strdup(err && err->message ? err->message : "remove cgroup failed");
                return;
        }
        if (sbx_remove_tree_at(dfd, id, &err) < 0) {
                e->error = strdup(err && err->message ? err->message : "remove failed");
                return;
        }
        e->removed = true;
        /* The registry log is the long-lived sandboxes' (a `run` leaves nothing). */
        if (!state || !json_is_true(json_object_get(state, "long_lived")))
                return;
        __attribute__((cleanup(json_decrefp))) json_t *ev =
                json_pack("{s:s, s:s?}", "by", "gc", "reason", e->reason);
        sbx_event_append_registry(state_dir, id, "destroyed", ev, NULL);
}

static int gc_one(const char *state_dir, int dfd, const char *id, unsigned flags,
                  struct sbx_gc_entry *ret)
{
        __attribute__((cleanup(json_decrefp))) json_t *state = load_state(dfd, id);
        struct sbx_gc_entry e = { .id = strdup(id) };

        if (!e.id)
                return -ENOMEM;
        e.dead = sandbox_is_dead(dfd, id, state, flags & SBX_GC_FORCE, &e.reason);
        if (e.dead && !(flags & SBX_GC_DRY_RUN))
                remove_leftovers(state_dir, dfd, id, state, &e);
        *ret = e;
        return 0;
}

/* Empty sandbox cgroups under the parent in use that no state dir names
 * (left by a process killed between making its cgroup and removing it):
 * removed once older than the grace period (at once with force). One that
 * has processes belongs to someone alive (another state dir): left alone. */
static int gc_orphan_cgroups(int dfd, unsigned flags, struct sbx_gc_entry **v, size_t *n,
                             sbx_error **err)
{
        sbx_autoerror e = NULL;
        char **ids = NULL;
        int r = 0;

        if (sbx_cgroup_list_ids(NULL, (flags & SBX_GC_FORCE) ? 0 : SBX_GC_GRACE_SECONDS, &ids,
                                &e) < 0)
                return 0; /* no cgroup hierarchy of ours: nothing to collect */
        for (size_t i = 0; r >= 0 && ids[i]; i++) {
                struct stat st;
                if (fstatat(dfd, ids[i], &st, AT_SYMLINK_NOFOLLOW) == 0)
                        continue; /* a sandbox's: judged by its state above */
                struct sbx_gc_entry en = { .id = strdup(ids[i]), .dead = true,
                                           .reason = strdup("cgroup without a sandbox") };
                sbx_autoerror ce = NULL;
                if (!(flags & SBX_GC_DRY_RUN)) {
                        int c = sbx_cgroup_collect(NULL, ids[i], false, &ce);
                        if (c == -EBUSY) {
                                free_entry(&en);
                                continue;
                        }
                        en.removed = c > 0;
                        if (c < 0)
                                en.error = strdup(ce && ce->message ? ce->message : "remove failed");
                }
                if (!en.id || !en.reason)
                        r = sbx_error_errno(err, ENOMEM, "gc");
                if (r < 0 || (r = entries_push(v, n, &en, err)) < 0)
                        free_entry(&en);
        }
        for (size_t i = 0; ids[i]; i++)
                free(ids[i]);
        free(ids);
        return r;
}

int sbx_gc(const char *state_dir, bool dry_run, struct sbx_gc_entry **ret_entries, size_t *ret_n,
           sbx_error **err)
{
        return sbx_gc_flags(state_dir, dry_run ? SBX_GC_DRY_RUN : 0, ret_entries, ret_n, err);
}

int sbx_gc_flags(const char *state_dir, unsigned flags, struct sbx_gc_entry **ret_entries,
                 size_t *ret_n, sbx_error **err)
{
        const char *base = state_dir ? state_dir : sbx_state_dir_default();
        struct sbx_gc_entry *v = NULL;
        size_t n = 0;
        int r = 0;

        int dfd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0 && errno == ENOENT) {
                *ret_entries = NULL;
                *ret_n = 0;
                return 0;
        }
        if (dfd < 0)
                return sbx_error_errno(err, errno, "open state dir %s", base);
        __attribute__((cleanup(closedirp))) DIR *d = fdopendir(dfd);
        if (!d) {
                close(dfd);
                return sbx_error_errno(err, errno, "open state dir %s", base);
        }
        struct dirent *de;
        while (r >= 0 && (de = readdir(d))) {
                /* Only sandbox dirs: never anything else that lives there. */
                if (!sbx_sandbox_id_valid(de->d_name))
                        continue;
                struct sbx_gc_entry e;
                r = gc_one(base, dirfd(d), de->d_name, flags, &e);
                if (r < 0)
                        r = sbx_error_errno(err, -r, "gc %s", de->d_name);
                else if ((r = entries_push(&v, &n, &e, err)) < 0)
                        free_entry(&e);
        }
        if (r >= 0)
                r = gc_orphan_cgroups(dirfd(d), flags, &v, &n, err);
        if (r < 0) {
                sbx_gc_entries_free(v, n);
                return r;
        }
        /* `run` keeps the default cgroup parent; gc removes it once empty
         * (a sandbox that starts meanwhile makes it again). */
        if (!(flags & SBX_GC_DRY_RUN))
                sbx_cgroup_parent_remove_if_empty(NULL, NULL);
        *ret_entries = v;
        *ret_n = n;
        return 0;
}
