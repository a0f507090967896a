/* reload: after a good build, reload the program (restart it in the same
 * sandbox, or send it a signal); keep the artifacts of the last good build
 * in <state-dir>/<id>/watch/good and put them back when a reloaded program
 * fails inside watch.healthy_after (rolled_back). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sandboxctl/util.h"
#include "src/lib/run-internal.h"
#include "sv_internal.h"
#include "watch_loop.h"

static int copy_tree_at(int sfd, int dfd, const char *name, sbx_error **err);

static int copy_file_at(int sfd, int dfd, const char *name, const struct stat *st,
                        sbx_error **err)
{
        sbx_autoclose int in = openat(sfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        sbx_autoclose int out = -1;
        char buf[65536];
        ssize_t n;

        if (in < 0)
                return sbx_error_errno(err, errno, "open %s", name);
        out = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
                     st->st_mode & 07777);
        if (out < 0)
                return sbx_error_errno(err, errno, "create %s", name);
        while ((n = read(in, buf, sizeof(buf))) > 0)
                if (write(out, buf, (size_t)n) != n)
                        return sbx_error_errno(err, errno ? errno : EIO, "write %s", name);
        if (n < 0)
                return sbx_error_errno(err, errno, "read %s", name);
        fchmod(out, st->st_mode & 07777);
        return 0;
}

static int copy_dir_at(int sfd, int dfd, const char *name, const struct stat *st,
                       sbx_error **err)
{
        if (mkdirat(dfd, name, st->st_mode & 07777) < 0 && errno != EEXIST)
                return sbx_error_errno(err, errno, "mkdir %s", name);
        sbx_autoclose int s2 = openat(sfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        sbx_autoclose int d2 = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (s2 < 0 || d2 < 0)
                return sbx_error_errno(err, errno, "open %s", name);
        DIR *d = fdopendir(dup(s2));
        if (!d)
                return sbx_error_errno(err, errno, "opendir %s", name);
        struct dirent *de;
        int r = 0;
        while (r >= 0 && (de = readdir(d)))
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                        r = copy_tree_at(s2, d2, de->d_name, err);
        closedir(d);
        return r < 0 ? sbx_error_prefix(err, r, "%s", name) : 0;
}

/* Copy sfd/name to dfd/name: files, directories and symlinks. */
static int copy_tree_at(int sfd, int dfd, const char *name, sbx_error **err)
{
        struct stat st;
        char target[4096];

        if (fstatat(sfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return sbx_error_errno(err, errno, "stat %s", name);
        if (S_ISDIR(st.st_mode))
                return copy_dir_at(sfd, dfd, name, &st, err);
        if (S_ISREG(st.st_mode))
                return copy_file_at(sfd, dfd, name, &st, err);
        if (S_ISLNK(st.st_mode)) {
                ssize_t n = readlinkat(sfd, name, target, sizeof(target) - 1);
                if (n < 0)
                        return sbx_error_errno(err, errno, "readlink %s", name);
                target[n] = '\0';
                if (symlinkat(target, dfd, name) < 0)
                        return sbx_error_errno(err, errno, "symlink %s", name);
        }
        return 0; /* devices, fifos, sockets: not build outputs */
}

/* Open the parent directory of rel under root (made when `make`) and
 * return the last component in *ret_name. */
static int open_parent(const char *root, const char *rel, bool make, const char **ret_name,
                       sbx_error **err)
{
        sbx_autofree char *path = NULL;

        if (asprintf(&path, "%s/%s", root, rel) < 0)
                return sbx_error_errno(err, ENOMEM, "%s", rel);
        char *slash = strrchr(path, '/');
        const char *last = strrchr(rel, '/');
        *ret_name = last ? last + 1 : rel;
        *slash = '\0';
        for (char *p = path + strlen(root) + 1; make && p <= slash; p++) {
                if (*p != '/' && *p != '\0')
                        continue;
                char c = *p;
                *p = '\0';
                if (mkdir(path, 0755) < 0 && errno != EEXIST)
                        return sbx_error_errno(err, errno, "mkdir %s", path);
                *p = c;
        }
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return fd < 0 ? sbx_error_errno(err, errno, "open %s", path) : fd;
}

/* Replace to/rel with a copy of from/rel (or nothing, if from has none). */
static int replace_path(const char *from, const char *to, const char *rel, sbx_error **err)
{
        const char *name;
        sbx_autoclose int sfd = open_parent(from, rel, false, &name, NULL);
        sbx_autoclose int dfd = open_parent(to, rel, true, &name, err);
        struct stat st;

        if (dfd < 0)
                return dfd;
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
                int r = S_ISDIR(st.st_mode) ? sbx_remove_tree_at(dfd, name, err)
                                            : (unlinkat(dfd, name, 0) < 0 ? -errno : 0);
                if (r < 0)
                        return sbx_error_errno(err, -r, "remove %s/%s", to, rel);
        }
        if (sfd < 0 || fstatat(sfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return 0;
        return copy_tree_at(sfd, dfd, name, err);
}

static bool artifact_ok(const char *a)
{
        return a[0] && a[0] != '/' && !strstr(a, "..");
}

static int copy_artifacts(struct sv *s, const char *from, const char *to, sbx_error **err)
{
        const struct sbx_strv *a = &s->spec->watch.artifacts;

        for (size_t i = 0; i < a->n; i++) {
                const char *rel = a->items[i];
                while (rel[0] == '.' && rel[1] == '/')
                        rel += 2;
                if (!artifact_ok(rel))
                        return sbx_error_set(err, EINVAL, "artifact %s: not a relative path "
                                             "inside the workspace", a->items[i]);
                int r = replace_path(from, to, rel, err);
                if (r < 0)
                        return sbx_error_prefix(err, r, "artifact %s", rel);
        }
        return 0;
}

int sv_artifacts_save(struct sv *s, const char *which, sbx_error **err)
{
        sbx_autofree char *dir = NULL;

        if (asprintf(&dir, "%s/%s", s->watch->dir, which) < 0)
                return sbx_error_errno(err, ENOMEM, "artifacts");
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                return sbx_error_errno(err, errno, "mkdir %s", dir);
        return copy_artifacts(s, s->sb->workspace, dir, err);
}

static int artifacts_restore(struct sv *s, sbx_error **err)
{
        sbx_autofree char *dir = NULL;

        if (asprintf(&dir, "%s/good", s->watch->dir) < 0)
                return sbx_error_errno(err, ENOMEM, "artifacts");
        return copy_artifacts(s, dir, s->sb->workspace, err);
}

/* The candidate (the build just reloaded) becomes the good build. */
static void promote(struct sv *s)
{
        struct sv_watch *wl = s->watch;
        sbx_autoerror e = NULL;

        wl->health_armed = false;
        sv_timer_arm(wl->health_fd, 0, 0);
        if (sv_artifacts_save(s, "good", &e) < 0)
                sv_watch_event(s, "error", json_pack("{s:s}", "reason", e->message));
        else
                wl->have_good = true;
}

static void arm_health(struct sv *s)
{
        struct sv_watch *wl = s->watch;

        if (!s->spec->watch.healthy_after_ms) {
                promote(s);
                return;
        }
        wl->health_armed = true;
        sv_timer_arm(wl->health_fd, s->spec->watch.healthy_after_ms, 0);
}

static void reloaded(struct sv *s, const char *mode)
{
        struct sv_watch *wl = s->watch;

        wl->reloads++;
        sv_watch_event(s, "reloaded",
                       json_pack("{s:s, s:I, s:i}", "mode", mode, "restarts",
                                 (json_int_t)s->sb->restarts, "init_pid", (int)s->init_pid));
        if (s->spec->watch.rebuild)
                sv_watch_status(s, "%s changed → rebuild (%s) ✓ %.1f s → reloaded",
                                wl->batch && wl->batch->n ? wl->batch->paths[0] : "a file",
                                s->spec->watch.rebuild, (double)wl->last_duration_ms / 1000.0);
        else
                sv_watch_status(s, "%s changed → reloaded",
                                wl->batch && wl->batch->n ? wl->batch->paths[0] : "a file");
        arm_health(s);
}

/* Start the program again (it is not running), restart counter +1. */
static int restart_program(struct sv *s, sbx_error **err)
{
        sv_timer_arm(s->restart_tfd, 0, 0);
        s->sb->restarts++;
        return sv_start(s, err);
}

static void reload_failed(struct sv *s, const char *why)
{
        sv_watch_event(s, "reload_failed", json_pack("{s:s}", "reason", why));
        sv_watch_status(s, "reload failed: %s", why);
}

void sv_reload_after_build(struct sv *s)
{
        struct sv_watch *wl = s->watch;
        const struct sbx_watch *cfg = &s->spec->watch;
        sbx_autoerror e = NULL;

        wl->health_armed = false;
        sv_timer_arm(wl->health_fd, 0, 0);
        if (cfg->reload == SBX_RELOAD_NONE || s->destroy_after_stop || s->quit) {
                promote(s);
                sv_watch_status(s, "rebuild (%s) ✓ %.1f s", cfg->rebuild ? cfg->rebuild : "-",
                                (double)wl->last_duration_ms / 1000.0);
                return;
        }
        if (cfg->reload == SBX_RELOAD_SIGNAL) {
                if (sv_kill(s, cfg->reload_signal, &e) < 0)
                        return reload_failed(s, e ? e->message : "signal");
                return reloaded(s, "signal");
        }
        if (s->pidfd >= 0) {
                if (s->stopping)
                        return; /* a stop by hand wins */
                wl->reloading = true;
                s->sb->status = SBX_STATUS_RELOADING;
                sv_stop(s, s->spec->lifecycle.stop_timeout_ms);
                return;
        }
        if (restart_program(s, &e) < 0)
                return reload_failed(s, e ? e->message : "start");
        reloaded(s, "restart");
}

static void describe_exit(const struct sbx_sandbox *sb, char *buf, size_t len)
{
        if (sb->exit_signal)
                snprintf(buf, len, "killed by signal %d", sb->exit_signal);
        else
                snprintf(buf, len, "exited with code %d", sb->exit_code);
}

/* The reloaded program failed inside healthy_after: the good build back. */
static bool roll_back(struct sv *s)
{
        struct sv_watch *wl = s->watch;
        sbx_autoerror e = NULL;
        char how[64], why[160];

        describe_exit(s->sb, how, sizeof(how));
        snprintf(why, sizeof(why), "the reloaded program %s within %llu ms", how,
                 (unsigned long long)s->spec->watch.healthy_after_ms);
        wl->health_armed = false;
        sv_timer_arm(wl->health_fd, 0, 0);
        if (!wl->have_good || artifacts_restore(s, &e) < 0 || restart_program(s, &e) < 0) {
                char msg[1200];
                snprintf(msg, sizeof(msg), "%s; roll back: %s", why,
                         e ? e->message : "no good build kept");
                reload_failed(s, msg);
                return false;
        }
        wl->rollbacks++;
        sv_watch_event(s, "rolled_back", json_pack("{s:s, s:i, s:i, s:I}", "reason", why,
                                                   "code", s->sb->exit_code, "signal",
                                                   s->sb->exit_signal, "restarts",
                                                   (json_int_t)s->sb->restarts));
        sv_watch_status(s, "%s → rolled back", why);
        return true;
}

bool sv_reload_on_exit(struct sv *s)
{
        struct sv_watch *wl = s->watch;
        sbx_autoerror e = NULL;

        if (!wl)
                return false;
        if (wl->reloading) {
                wl->reloading = false;
                /* A stop, restart or destroy asked for meanwhile wins. */
                if (s->restart_after_stop || s->destroy_after_stop || s->n_pending || s->quit)
                        return false;
                s->stopping = false;
                if (restart_program(s, &e) < 0) {
                        reload_failed(s, e ? e->message : "start");
                        return roll_back(s);
                }
                reloaded(s, "restart");
                return true;
        }
        if (!wl->health_armed || s->stopping || s->quit)
                return false;
        if (s->sb->exit_code == 0 && s->sb->exit_signal == 0) {
                wl->health_armed = false;
                return false;
        }
        return roll_back(s);
}

void sv_reload_on_health(struct sv *s)
{
        uint64_t ticks = 0;

        if (read(s->watch->health_fd, &ticks, sizeof(ticks)) != (ssize_t)sizeof(ticks))
                return;
        if (s->watch->health_armed)
                promote(s);
}
