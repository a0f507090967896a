/* watch_loop: the rebuild-and-reload loop of a sandbox's supervisor (issue 7).
 *
 * The watcher (include/sandboxctl/watch.h) lives in the supervisor's epoll
 * set: its inotify fd, a debounce timerfd armed from sbx_watcher_deadline(),
 * the pidfd and output pipe of a running build, and a timerfd for the
 * healthy_after window of a reload. Nothing here blocks the loop:
 *
 *   change ──debounce──► batch ──► rebuild (a child running sbx_run() in a
 *   build sandbox: same profile, same workspace, its own cgroup, the
 *   rebuild timeout) ──exit 0──► keep the artifacts ──► reload (restart the
 *   program, send it a signal, or nothing) ──healthy_after──► the artifacts
 *   become the good build.  A reloaded program that fails inside the window
 *   gets the good build's artifacts back and is restarted (rolled_back).
 *
 * watch_loop.c: set-up, the fds, batches, the control request, events and
 * status lines; rebuild.c: the build child; reload.c: reload, artifacts,
 * rollback. */
#ifndef SBX_WATCH_LOOP_H
#define SBX_WATCH_LOOP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "sandboxctl/error.h"
#include "sandboxctl/spec.h"
#include "sandboxctl/watch.h"

struct sv;

#define SV_BUILD_LOG "build.log"
#define SV_WATCH_DIR "watch"
#define SV_BUILD_TAIL_MAX 4096
#define SV_BUILD_TAIL_LINES 10
#define SV_BUILD_STOP_MS 5000

/* What the build child reports when sbx_run() returns. */
struct sv_build_result {
        int32_t exit_code; /* sbx_run's mapped code */
        int32_t signal;
        uint8_t timed_out;
        uint8_t setup_failed;
        uint64_t oom_kills;
        char failure[512];
};

struct sv_build {
        pid_t pid;
        int pidfd, out_fd, res_fd;
        uint64_t started_ms;
        unsigned number;
        char tail[SV_BUILD_TAIL_MAX]; /* the last bytes of output */
        size_t tail_len;
};

struct sv_watch {
        struct sbx_watch cfg; /* the spec's, with the artifacts excluded */
        struct sbx_watcher *w;
        bool enabled;
        int timer_fd, health_fd;
        struct sv_build build; /* pid 0: none running */
        struct sbx_watch_batch *batch; /* what the running (or last) cycle is for */
        uint64_t change_wall_ms; /* CLOCK_REALTIME of the change, for status lines */
        unsigned builds, failures, reloads, rollbacks;
        int last_exit;
        uint64_t last_duration_ms;
        bool reloading;    /* the program is being stopped for a reload */
        bool health_armed; /* a reloaded program is inside healthy_after */
        bool have_good, have_candidate;
        char *dir;      /* <state-dir>/<id>/watch */
        char *log_path; /* <state-dir>/<id>/build.log */
};

/* watch_loop.c */
/* Start watching when the spec has a watch section (and a workspace). */
int sv_watch_setup(struct sv *s, sbx_error **err);
/* Stop a running build (bounded wait), free everything. */
void sv_watch_free(struct sv *s);
/* epoll sources at or above SV_SRC_WATCH_FIRST. */
void sv_watch_dispatch(struct sv *s, int src);
/* The "watch" control request ({"on": bool} optional); replies itself and
 * returns 1. */
int sv_watch_control(struct sv *s, int fd, void *req, sbx_error **err);
/* An event for the log (and, in the foreground, the terminal). Takes fields. */
void sv_watch_event(struct sv *s, const char *type, void *fields);
/* A status line on stderr in the foreground ("[12:01:03] ..."). */
void sv_watch_status(struct sv *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The foreground's SIGINT/SIGTERM: stop, destroy, leave. */
void sv_foreground_signal(struct sv *s, int sig);
/* The foreground's set-up failed: say why on stderr, remove everything. */
void sv_foreground_failed(struct sv *s, const sbx_error *e);
/* The foreground writes events as JSON lines instead of status lines. */
void sv_foreground_json(bool on);
/* The foreground copies the program's output to stdout. */
void sv_foreground_output(struct sv *s, const char *buf, size_t len);

/* rebuild.c */
int sv_build_start(struct sv *s, sbx_error **err);
void sv_build_on_output(struct sv *s);
void sv_build_on_exit(struct sv *s);
/* SIGTERM the build, wait up to timeout_ms, then SIGKILL it. */
void sv_build_stop(struct sv *s, int timeout_ms);

/* reload.c */
/* A build succeeded (or there is no rebuild command): keep its artifacts,
 * reload. */
void sv_reload_after_build(struct sv *s);
/* The program's init exited: true when reload or rollback took it over. */
bool sv_reload_on_exit(struct sv *s);
void sv_reload_on_health(struct sv *s);
/* Copy the workspace's artifacts to <watch>/<which> ("good"). */
int sv_artifacts_save(struct sv *s, const char *which, sbx_error **err);

#endif
