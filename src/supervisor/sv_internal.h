/* sv_internal: what the supervisor's files share. */
#ifndef SBX_SV_INTERNAL_H
#define SBX_SV_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "sandboxctl/cgroup.h"
#include "sandboxctl/error.h"
#include "sandboxctl/evloop.h"
#include "sandboxctl/spec.h"
#include "sandboxctl/state.h"
#include "src/lib/supervise.h"

#define SV_MAX_PENDING 32
#define SV_MAX_CONNS 16
#define SV_REQUEST_MS 2000 /* a client has this long to send its request */
#define SV_RESTART_BASE_MS 100
#define SV_RESTART_CAP_MS 30000
#define SV_SAMPLE_MS 5000
#define SV_LOG_MAX_DEFAULT (1024 * 1024)

/* The supervisor's event sources (sv_watch()). */
enum sv_source {
        SV_SRC_SIGNAL = 1,
        SV_SRC_CONTROL,
        SV_SRC_PIDFD,
        SV_SRC_LOG,
        SV_SRC_TIMEOUT,
        SV_SRC_GRACE,
        SV_SRC_RESTART,
        SV_SRC_SAMPLE,
        SV_SRC_CONN_DEADLINE,
        /* watch, rebuild and reload (watch_loop.h) */
        SV_SRC_WATCH_FIRST = 32,
        SV_SRC_WATCH_INOTIFY = SV_SRC_WATCH_FIRST,
        SV_SRC_WATCH_TIMER,
        SV_SRC_BUILD_EXIT,
        SV_SRC_BUILD_OUT,
        SV_SRC_HEALTH,
        SV_SRC_COUNT,
};

struct sv;

/* The callback data of a source: which sv, which source. */
struct sv_tag {
        struct sv *s;
        enum sv_source src;
};

/* An accepted control connection whose request has not arrived yet. */
struct sv_conn {
        int fd;
        uid_t uid;
        uint64_t deadline_ms; /* CLOCK_MONOTONIC */
};

/* A client whose reply waits for the sandbox to stop (stop, restart, destroy). */
struct sv_pending {
        int fd;
        int op; /* enum sv_op */
};

enum sv_op {
        SV_OP_STOP = 1,
        SV_OP_RESTART,
        SV_OP_DESTROY,
};

struct sv {
        const char *state_dir;
        char *dir; /* state_dir/id */
        struct sbx_sandbox *sb;
        struct sbx_spec *spec;
        struct sbx_cgroup *cg;
        struct sbx_evloop *loop;
        struct sv_tag tags[SV_SRC_COUNT];
        int listenfd;
        int pidfd, msg_fd, log_fd, log_out;
        pid_t init_pid;
        int timeout_tfd, grace_tfd, restart_tfd, sample_tfd; /* the loop's timers */
        struct sv_conn conns[SV_MAX_CONNS];
        size_t n_conns;
        int conn_tfd; /* the earliest deadline of conns */
        bool stopping, restart_after_stop, destroy_after_stop, keep_data;
        bool timed_out, done, quit;
        unsigned attempts; /* restarts since the last start by hand */
        struct sv_pending pending[SV_MAX_PENDING];
        size_t n_pending;
        uint64_t seen_oom, seen_pids_hits;
        char *log_path;
        /* What the sandbox reported (its status, a setup failure). */
        struct sbx_sandbox_msgs msgs;
        /* watch, rebuild and reload (watch_loop.h); NULL: not watching */
        struct sv_watch *watch;
        bool foreground; /* `run --watch`: in the CLI's process, ends destroyed */
};

/* sv_main.c */
int sv_save(struct sv *s);
void sv_event(struct sv *s, const char *type, void *fields);
/* Dispatch fd's readability to the handler of tag; sv_unwatch before closing. */
int sv_watch(struct sv *s, int fd, enum sv_source tag);
void sv_unwatch(struct sv *s, int fd);
int sv_timer_arm(int tfd, uint64_t ms, uint64_t interval_ms);
/* Answer the clients waiting for a stop: the state, or e. */
void sv_reply_pending(struct sv *s, const sbx_error *e);

/* sv_sandbox.c */
int sv_start(struct sv *s, sbx_error **err);
/* Start by restoring (sv_checkpoint.c): `restore` gets the cgroup and the
 * scratch dir ready and sets init_pid, pidfd, msg_fd and log_fd. */
typedef int (*sv_restore_fn)(struct sv *s, const char *scratch, void *arg, sbx_error **err);
int sv_start_restored(struct sv *s, sv_restore_fn restore, void *arg, sbx_error **err);
void sv_on_init_exit(struct sv *s);
void sv_on_log(struct sv *s);
void sv_on_grace(struct sv *s);
void sv_on_timeout(struct sv *s);
void sv_on_restart_timer(struct sv *s);
void sv_on_sample(struct sv *s);
/* Begin stopping: stop signal now, cgroup kill after grace_ms. */
void sv_stop(struct sv *s, uint64_t grace_ms);
int sv_kill(struct sv *s, int sig, sbx_error **err);
/* Remove cgroup and state; the loop ends. */
void sv_destroy(struct sv *s);

#endif
