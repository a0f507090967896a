/* watch_loop: the watcher in the supervisor's epoll loop, batches, the
 * "watch" control request, events and status lines (see watch_loop.h). */
#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "sandboxctl/control.h"
#include "sandboxctl/util.h"
#include "sv_internal.h"
#include "watch_loop.h"

#define CHANGE_PATHS_MAX 20

static bool json_events;

void sv_foreground_json(bool on)
{
        json_events = on;
}

void sv_foreground_failed(struct sv *s, const sbx_error *e)
{
        fprintf(stderr, "sandboxctl: sandbox setup failed: %s\n",
                e && e->message ? e->message : "unknown error");
        s->quit = true;
        if (s->sb && s->listenfd >= 0)
                sv_destroy(s);
}

void sv_watch_event(struct sv *s, const char *type, void *fields)
{
        if (s->foreground && json_events && fields) {
                json_t *o = json_deep_copy(fields);
                json_object_set_new(o, "type", json_string(type));
                json_object_set_new(o, "id", json_string(s->sb->id));
                char *text = json_dumps(o, JSON_COMPACT);
                if (text)
                        fprintf(stderr, "%s\n", text);
                free(text);
                json_decref(o);
        }
        sv_event(s, type, fields);
}

void sv_watch_status(struct sv *s, const char *fmt, ...)
{
        char when[16] = "--:--:--";
        struct tm tm;
        va_list ap;

        if (!s->foreground || !s->watch || json_events)
                return;
        time_t t = (time_t)(s->watch->change_wall_ms / 1000);
        if (!t)
                t = time(NULL);
        if (localtime_r(&t, &tm))
                strftime(when, sizeof(when), "%H:%M:%S", &tm);
        fprintf(stderr, "[%s] ", when);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
}

void sv_foreground_output(struct sv *s, const char *buf, size_t len)
{
        if (!s->foreground)
                return;
        while (len > 0) {
                ssize_t n = write(STDOUT_FILENO, buf, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return;
                buf += n;
                len -= (size_t)n;
        }
}

void sv_foreground_signal(struct sv *s, int sig)
{
        if (sig != SIGINT && sig != SIGTERM && sig != SIGHUP)
                return;
        s->quit = true;
        s->destroy_after_stop = true;
        if (s->watch)
                sv_build_stop(s, SV_BUILD_STOP_MS);
        if (s->pidfd >= 0 && !s->stopping)
                sv_stop(s, s->spec->lifecycle.stop_timeout_ms);
        else if (s->pidfd < 0)
                sv_destroy(s);
}

static uint64_t realtime_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Arm the debounce timer at the watcher's deadline (absolute, monotonic). */
static void arm_debounce(struct sv_watch *wl)
{
        uint64_t due = wl->w ? sbx_watcher_deadline(wl->w) : SBX_WATCH_NEVER;
        struct itimerspec its = { 0 };

        if (due != SBX_WATCH_NEVER) {
                if (due == 0)
                        due = 1;
                its.it_value.tv_sec = (time_t)(due / 1000);
                its.it_value.tv_nsec = (long)(due % 1000) * 1000000L;
        }
        timerfd_settime(wl->timer_fd, TFD_TIMER_ABSTIME, &its, NULL);
}

static json_t *batch_json(const struct sbx_watch_batch *b)
{
        json_t *paths = json_array();

        for (size_t i = 0; i < b->n && i < CHANGE_PATHS_MAX; i++)
                json_array_append_new(paths, json_string(b->paths[i]));
        return json_pack("{s:o, s:I, s:b}", "paths", paths, "count", (json_int_t)b->n, "rescan",
                         b->rescan);
}

/* Start one cycle for batch b (owned). */
static void start_cycle(struct sv *s, struct sbx_watch_batch *b)
{
        struct sv_watch *wl = s->watch;
        sbx_autoerror e = NULL;

        sbx_watch_batch_free(wl->batch);
        wl->batch = b;
        wl->change_wall_ms = realtime_ms();
        sv_watch_event(s, "change_detected", batch_json(b));
        if (sbx_watcher_rebuild_started(wl->w, &e) < 0)
                return;
        if (!s->spec->watch.rebuild) {
                sbx_watcher_rebuild_finished(wl->w, sbx_watch_now_ms(), NULL);
                sv_reload_after_build(s);
                return;
        }
        if (sv_build_start(s, &e) < 0) {
                wl->failures++;
                sv_watch_event(s, "rebuild_failed",
                               json_pack("{s:s, s:s}", "command", s->spec->watch.rebuild,
                                         "reason", e ? e->message : "cannot start"));
                sbx_watcher_rebuild_finished(wl->w, sbx_watch_now_ms(), NULL);
        }
}

static void take_batches(struct sv *s)
{
        struct sv_watch *wl = s->watch;
        struct sbx_watch_batch *b = NULL;

        while (wl->enabled && wl->w && !wl->build.pid &&
               sbx_watcher_take_batch(wl->w, sbx_watch_now_ms(), &b, NULL) > 0) {
                start_cycle(s, b);
                b = NULL;
                if (wl->build.pid)
                        break;
        }
        arm_debounce(wl);
}

static void on_inotify(struct sv *s)
{
        struct sv_watch *wl = s->watch;
        sbx_autoerror e = NULL;

        if (!wl->w)
                return;
        if (sbx_watcher_process(wl->w, sbx_watch_now_ms(), &e) < 0 && e)
                sv_watch_event(s, "error", json_pack("{s:s}", "reason", e->message));
        take_batches(s);
}

static void on_timer(struct sv *s)
{
        uint64_t ticks = 0;

        if (read(s->watch->timer_fd, &ticks, sizeof(ticks)) != (ssize_t)sizeof(ticks))
                return; /* stale: re-armed in this round */
        take_batches(s);
}

void sv_watch_dispatch(struct sv *s, int src)
{
        if (!s->watch)
                return;
        switch (src) {
        case SV_SRC_WATCH_INOTIFY: on_inotify(s); break;
        case SV_SRC_WATCH_TIMER: on_timer(s); break;
        case SV_SRC_BUILD_OUT: sv_build_on_output(s); break;
        case SV_SRC_BUILD_EXIT:
                sv_build_on_exit(s);
                take_batches(s);
                break;
        case SV_SRC_HEALTH: sv_reload_on_health(s); break;
        default: break;
        }
}

/* The spec's watch settings, with every artifact excluded (anchored): the
 * outputs of a build never trigger the next one. */
static int copy_cfg(const struct sbx_watch *src, struct sbx_watch *dst)
{
        *dst = *src;
        dst->paths = (struct sbx_strv){ 0 };
        dst->include = (struct sbx_strv){ 0 };
        dst->exclude = (struct sbx_strv){ 0 };
        dst->artifacts = (struct sbx_strv){ 0 };
        dst->rebuild = NULL;
        const struct sbx_strv *lists[] = { &src->paths, &src->include, &src->exclude };
        struct sbx_strv *out[] = { &dst->paths, &dst->include, &dst->exclude };
        for (size_t l = 0; l < SBX_ARRAY_SIZE(lists); l++)
                for (size_t i = 0; i < lists[l]->n; i++)
                        if (sbx_strv_push(out[l], lists[l]->items[i]) < 0)
                                return -ENOMEM;
        for (size_t i = 0; i < src->artifacts.n; i++) {
                sbx_autofree char *p = NULL;
                const char *a = src->artifacts.items[i];
                while (a[0] == '.' && a[1] == '/')
                        a += 2;
                if (asprintf(&p, "/%s", a) < 0 || sbx_strv_push(&dst->exclude, p) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static int start_watcher(struct sv *s, sbx_error **err)
{
        struct sv_watch *wl = s->watch;
        int r;

        if (!s->sb->workspace)
                return sbx_error_set(err, EINVAL, "watch: sandbox %s has no workspace",
                                     s->sb->id);
        r = sbx_watcher_new(&wl->cfg, s->sb->workspace, &wl->w, err);
        if (r < 0)
                return sbx_error_prefix(err, r, "watch");
        if (sv_watch(s, sbx_watcher_fd(wl->w), SV_SRC_WATCH_INOTIFY) < 0) {
                sbx_watcher_free(wl->w);
                wl->w = NULL;
                return sbx_error_errno(err, errno, "watch: epoll_ctl");
        }
        wl->enabled = true;
        return 0;
}

static void stop_watcher(struct sv *s)
{
        struct sv_watch *wl = s->watch;

        if (wl->w)
                sv_unwatch(s, sbx_watcher_fd(wl->w));
        sbx_watcher_free(wl->w);
        wl->w = NULL;
        wl->enabled = false;
        arm_debounce(wl);
}

static int alloc_watch(struct sv *s, sbx_error **err)
{
        struct sv_watch *wl = calloc(1, sizeof(*wl));

        if (!wl)
                return sbx_error_errno(err, ENOMEM, "watch");
        s->watch = wl;
        wl->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        wl->health_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        wl->build.pidfd = wl->build.out_fd = wl->build.res_fd = -1;
        wl->dir = sbx_registry_path(s->state_dir, s->sb->id, SV_WATCH_DIR);
        wl->log_path = sbx_registry_path(s->state_dir, s->sb->id, SV_BUILD_LOG);
        if (wl->timer_fd < 0 || wl->health_fd < 0)
                return sbx_error_errno(err, errno, "watch: timerfd");
        if (!wl->dir || !wl->log_path || copy_cfg(&s->spec->watch, &wl->cfg) < 0)
                return sbx_error_errno(err, ENOMEM, "watch");
        if (mkdir(wl->dir, 0700) < 0 && errno != EEXIST)
                return sbx_error_errno(err, errno, "mkdir %s", wl->dir);
        if (sv_watch(s, wl->timer_fd, SV_SRC_WATCH_TIMER) < 0 ||
            sv_watch(s, wl->health_fd, SV_SRC_HEALTH) < 0)
                return sbx_error_errno(err, errno, "watch: epoll_ctl");
        return 0;
}

int sv_watch_setup(struct sv *s, sbx_error **err)
{
        if (!s->spec->has_watch)
                return 0;
        int r = alloc_watch(s, err);
        if (r >= 0)
                r = start_watcher(s, err);
        if (r < 0)
                return r;
        /* What runs now is the first good build. */
        r = sv_artifacts_save(s, "good", err);
        if (r < 0)
                return sbx_error_prefix(err, r, "watch: keep the artifacts");
        s->watch->have_good = true;
        return 0;
}

static void strv_done(struct sbx_watch *c)
{
        sbx_strv_clear(&c->paths);
        sbx_strv_clear(&c->include);
        sbx_strv_clear(&c->exclude);
}

void sv_watch_free(struct sv *s)
{
        struct sv_watch *wl = s->watch;

        if (!wl)
                return;
        sv_build_stop(s, SV_BUILD_STOP_MS);
        sbx_watcher_free(wl->w);
        sbx_watch_batch_free(wl->batch);
        sbx_closep(&wl->timer_fd);
        sbx_closep(&wl->health_fd);
        strv_done(&wl->cfg);
        free(wl->dir);
        free(wl->log_path);
        free(wl);
        s->watch = NULL;
}

static json_t *watch_status_json(const struct sv *s)
{
        const struct sv_watch *wl = s->watch;
        const char *state = wl && wl->w ? sbx_debounce_state_name(sbx_watcher_state(wl->w))
                                        : "off";

        if (!wl)
                return json_pack("{s:b, s:s}", "enabled", 0, "state", "off");
        json_t *o = json_pack("{s:b, s:s, s:I, s:b, s:I, s:I, s:I, s:I, s:s?}", "enabled",
                              wl->enabled, "state", state, "watches",
                              (json_int_t)(wl->w ? sbx_watcher_count(wl->w) : 0), "building",
                              wl->build.pid != 0, "builds", (json_int_t)wl->builds, "failures",
                              (json_int_t)wl->failures, "reloads", (json_int_t)wl->reloads,
                              "rollbacks", (json_int_t)wl->rollbacks, "rebuild",
                              s->spec->watch.rebuild);
        if (o && wl->builds)
                json_object_set_new(o, "last_build",
                                    json_pack("{s:i, s:I}", "exit_code", wl->last_exit,
                                              "duration_ms", (json_int_t)wl->last_duration_ms));
        return o;
}

static int switch_watch(struct sv *s, bool on, sbx_error **err)
{
        if (!s->watch) {
                if (!on)
                        return 0;
                if (!s->spec->has_watch)
                        return sbx_error_set(err, EINVAL,
                                             "sandbox %s has no watch configuration (a profile "
                                             "watch section or create --watch PATH)",
                                             s->sb->id);
                return sv_watch_setup(s, err);
        }
        if (on && !s->watch->w)
                return start_watcher(s, err);
        if (!on && s->watch->w) {
                sv_build_stop(s, SV_BUILD_STOP_MS);
                stop_watcher(s);
        }
        return 0;
}

int sv_watch_control(struct sv *s, int fd, void *req, sbx_error **err)
{
        json_t *on = json_object_get(req, "on");
        int r = 0;

        if (on && !json_is_boolean(on))
                return sbx_error_set(err, EINVAL, "watch: \"on\" must be true or false");
        if (on)
                r = switch_watch(s, json_is_true(on), err);
        if (r < 0)
                return r;
        json_t *o = json_pack("{s:b, s:o}", "ok", 1, "watch", watch_status_json(s));
        if (o)
                sbx_control_send(fd, o, NULL);
        json_decref(o);
        close(fd);
        return 1;
}
