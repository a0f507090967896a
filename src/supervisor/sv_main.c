/* sv_main: the supervisor's set-up, event loop and control requests. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sandboxctl/control.h"
#include "sandboxctl/events.h"
#include "sandboxctl/evloop.h"
#include "sandboxctl/profile.h"
#include "sandboxctl/runtime.h"
#include "sandboxctl/util.h"
#include "src/lib/run-internal.h"
#include "supervisor.h"
#include "sv_checkpoint.h"
#include "sv_internal.h"
#include "watch_loop.h"

int sv_save(struct sv *s)
{
        sbx_autoerror e = NULL;
        sbx_autoclose int lock = sbx_registry_lock(s->state_dir, s->sb->id, 10000, &e);
        int r = lock < 0 ? lock : sbx_registry_write(s->state_dir, s->sb, &e);

        if (r < 0)
                sv_event(s, "error", json_pack("{s:s}", "reason", e ? e->message : "save state"));
        return r;
}

static bool event_wanted(const struct sv *s, const char *type)
{
        if (strcmp(type, "error") == 0)
                return true;
        if (s->spec && s->spec->audit == SBX_AUDIT_NONE)
                return false;
        if (strcmp(type, "control") == 0 || strcmp(type, "exec") == 0)
                return !s->spec || s->spec->audit == SBX_AUDIT_FULL;
        return true;
}

/* Takes the reference of fields. */
void sv_event(struct sv *s, const char *type, void *fields)
{
        if (event_wanted(s, type))
                sbx_event_append(s->state_dir, s->sb->id, type, fields, NULL);
        json_decref(fields);
}

static void dispatch_event(struct sv *s, enum sv_source src);

static void loop_check_done(struct sv *s)
{
        if (s->done)
                sbx_evloop_quit(s->loop, 0);
}

static void on_source(struct sbx_evloop *loop, int fd, uint32_t events, void *data)
{
        const struct sv_tag *t = data;

        (void)loop;
        (void)fd;
        (void)events;
        /* The log pipe first: read what the command wrote before it died. */
        if (t->src == SV_SRC_PIDFD && t->s->log_fd >= 0)
                sv_on_log(t->s);
        dispatch_event(t->s, t->src);
        loop_check_done(t->s);
}

int sv_watch(struct sv *s, int fd, enum sv_source tag)
{
        int r = s->loop && tag > 0 && tag < SV_SRC_COUNT
                        ? sbx_evloop_add(s->loop, fd, EPOLLIN, on_source, &s->tags[tag], NULL)
                        : -EINVAL;

        if (r < 0)
                errno = -r;
        return r;
}

void sv_unwatch(struct sv *s, int fd)
{
        sbx_evloop_remove(s->loop, fd);
}

int sv_timer_arm(int tfd, uint64_t ms, uint64_t interval_ms)
{
        return sbx_timer_arm(tfd, ms, interval_ms);
}

static void reply(int fd, json_t *o)
{
        if (o)
                sbx_control_send(fd, o, NULL);
        json_decref(o);
}

static json_t *state_reply(struct sv *s)
{
        json_t *o = json_pack("{s:b}", "ok", 1);

        if (o)
                json_object_set_new(o, "state", sbx_sandbox_to_json(s->sb, false));
        return o;
}

/* Answer every client waiting for the sandbox to stop. */
void sv_reply_pending(struct sv *s, const sbx_error *e)
{
        for (size_t i = 0; i < s->n_pending; i++) {
                if (e)
                        sbx_control_send_error(s->pending[i].fd, e);
                else
                        reply(s->pending[i].fd, state_reply(s));
                close(s->pending[i].fd);
        }
        s->n_pending = 0;
}

static int add_pending(struct sv *s, int fd, enum sv_op op)
{
        if (s->n_pending >= SV_MAX_PENDING)
                return -EBUSY;
        s->pending[s->n_pending++] = (struct sv_pending){ .fd = fd, .op = op };
        return 0;
}

/* --time, else the profile's lifecycle.stop_timeout. */
static uint64_t grace_of(const struct sv *s, json_t *req)
{
        json_t *t = json_object_get(req, "time_ms");

        return json_is_integer(t) && json_integer_value(t) >= 0 ? (uint64_t)json_integer_value(t)
                                                                : s->spec->lifecycle.stop_timeout_ms;
}

static int op_start(struct sv *s, sbx_error **err)
{
        if (s->pidfd >= 0 || s->stopping)
                return sbx_error_set(err, EALREADY, "sandbox %s is already running", s->sb->id);
        s->attempts = 0;
        sv_timer_arm(s->restart_tfd, 0, 0);
        return sv_start(s, err);
}

/* stop, restart and destroy: reply now when nothing runs, else once stopped.
 * Returns 1 when the reply is deferred (fd kept). */
static int op_stopping(struct sv *s, int fd, enum sv_op op, json_t *req, sbx_error **err)
{
        if (op == SV_OP_DESTROY)
                s->keep_data = json_is_true(json_object_get(req, "keep_data"));
        if (s->pidfd < 0) {
                sv_timer_arm(s->restart_tfd, 0, 0);
                if (op == SV_OP_RESTART)
                        return op_start(s, err);
                if (op == SV_OP_DESTROY) {
                        sv_destroy(s);
                        return 0;
                }
                if (s->sb->status != SBX_STATUS_ERROR && s->sb->status != SBX_STATUS_STOPPED) {
                        s->sb->status = SBX_STATUS_STOPPED;
                        sv_save(s);
                }
                return 0;
        }
        if (add_pending(s, fd, op) < 0)
                return sbx_error_set(err, EBUSY, "too many waiting requests");
        s->restart_after_stop |= op == SV_OP_RESTART;
        s->destroy_after_stop |= op == SV_OP_DESTROY;
        if (!s->stopping)
                sv_stop(s, grace_of(s, req));
        return 1;
}

static int dispatch(struct sv *s, int fd, json_t *req, sbx_error **err)
{
        const char *op = json_string_value(json_object_get(req, "op"));

        if (!op)
                return sbx_error_set(err, EINVAL, "control request without \"op\"");
        if (strcmp(op, "status") == 0)
                return 0;
        if (strcmp(op, "start") == 0)
                return op_start(s, err);
        if (strcmp(op, "stop") == 0)
                return op_stopping(s, fd, SV_OP_STOP, req, err);
        if (strcmp(op, "restart") == 0)
                return op_stopping(s, fd, SV_OP_RESTART, req, err);
        if (strcmp(op, "destroy") == 0)
                return op_stopping(s, fd, SV_OP_DESTROY, req, err);
        if (strcmp(op, "kill") == 0) {
                json_int_t sig = json_integer_value(json_object_get(req, "signal"));
                return sv_kill(s, sig > 0 && sig < 65 ? (int)sig : SIGKILL, err);
        }
        if (strcmp(op, "watch") == 0)
                return sv_watch_control(s, fd, req, err);
        if (strcmp(op, "checkpoint") == 0)
                return sv_checkpoint_control(s, fd, req, err);
        if (strcmp(op, "restore") == 0)
                return sv_restore_control(s, fd, req, err);
        return sbx_error_set(err, EOPNOTSUPP, "unknown control request '%s'", op);
}

/* Serve the request req of the client on fd (closed, unless its reply
 * waits for the sandbox to stop). */
static void serve(struct sv *s, int fd, uid_t uid, json_t *req)
{
        sbx_autoerror e = NULL;
        const char *op = json_string_value(json_object_get(req, "op"));

        if (op && strcmp(op, "status") != 0)
                sv_event(s, "control", json_pack("{s:I, s:s}", "uid", (json_int_t)uid, "op", op));
        int r = dispatch(s, fd, req, &e);
        if (r == 1)
                return; /* deferred */
        if (r < 0)
                sbx_control_send_error(fd, e);
        else
                reply(fd, state_reply(s));
        close(fd);
}

static uint64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The deadline timer follows the earliest waiting connection. */
static void arm_conn_deadline(struct sv *s)
{
        uint64_t first = UINT64_MAX, now = now_ms();

        for (size_t i = 0; i < s->n_conns; i++)
                if (s->conns[i].deadline_ms < first)
                        first = s->conns[i].deadline_ms;
        if (first == UINT64_MAX)
                sv_timer_arm(s->conn_tfd, 0, 0);
        else
                sv_timer_arm(s->conn_tfd, first > now ? first - now : 1, 0);
}

/* Forget connection i (its fd stays open). */
static void conn_drop(struct sv *s, size_t i)
{
        sv_unwatch(s, s->conns[i].fd);
        s->conns[i] = s->conns[--s->n_conns];
        arm_conn_deadline(s);
}

/* A waiting client's request arrived (or it hung up): serve it. */
static void on_conn(struct sbx_evloop *loop, int fd, uint32_t events, void *data)
{
        struct sv *s = data;
        __attribute__((cleanup(json_decrefp))) json_t *req = NULL;
        size_t i = 0;

        (void)loop;
        (void)events;
        while (i < s->n_conns && s->conns[i].fd != fd)
                i++;
        if (i == s->n_conns)
                return;
        uid_t uid = s->conns[i].uid;
        conn_drop(s, i);
        if (sbx_control_recv(fd, 0, (void **)&req, NULL) < 0) {
                close(fd);
                return;
        }
        serve(s, fd, uid, req);
        loop_check_done(s);
}

/* Clients that sent nothing within SV_REQUEST_MS are dropped. */
static void on_conn_deadline(struct sv *s)
{
        uint64_t now = now_ms();

        for (size_t i = s->n_conns; i-- > 0;) {
                if (s->conns[i].deadline_ms > now)
                        continue;
                int fd = s->conns[i].fd;
                conn_drop(s, i);
                close(fd);
        }
        arm_conn_deadline(s);
}

/* Accept a client; its request is read when it arrives, by the loop: a slow
 * or silent client never stalls the sandbox's supervision. */
static void on_control(struct sv *s)
{
        sbx_autoerror e = NULL;
        uid_t uid;
        int fd;

        if (sbx_control_accept(s->listenfd, s->sb->uid, &fd, &uid, &e) < 0) {
                if (e && e->code == EACCES)
                        sv_event(s, "error", json_pack("{s:s}", "reason", e->message));
                return;
        }
        int r = s->n_conns < SV_MAX_CONNS
                        ? sbx_evloop_add(s->loop, fd, EPOLLIN, on_conn, s, &e)
                        : sbx_error_set(&e, EBUSY, "too many control connections waiting (%d)",
                                        SV_MAX_CONNS);
        if (r < 0) {
                sbx_control_send_error(fd, e);
                close(fd);
                return;
        }
        s->conns[s->n_conns++] = (struct sv_conn){ .fd = fd, .uid = uid,
                                                   .deadline_ms = now_ms() + SV_REQUEST_MS };
        arm_conn_deadline(s);
}

static void on_signal(struct sbx_evloop *loop, int fd, uint32_t signo, void *data)
{
        struct sv *s = data;

        (void)loop;
        (void)fd;
        if (s->foreground) {
                sv_foreground_signal(s, (int)signo);
        } else if (signo == SIGTERM && !s->destroy_after_stop) {
                /* SIGTERM: stop the sandbox, keep the state, and leave. */
                s->quit = true;
                if (s->pidfd >= 0 && !s->stopping)
                        sv_stop(s, s->spec->lifecycle.stop_timeout_ms);
                else if (s->pidfd < 0)
                        s->done = true;
        }
        loop_check_done(s);
}

static void dispatch_event(struct sv *s, enum sv_source src)
{
        switch (src) {
        case SV_SRC_CONTROL: on_control(s); break;
        case SV_SRC_PIDFD: sv_on_init_exit(s); break;
        case SV_SRC_LOG: sv_on_log(s); break;
        case SV_SRC_TIMEOUT: sv_on_timeout(s); break;
        case SV_SRC_GRACE: sv_on_grace(s); break;
        case SV_SRC_RESTART: sv_on_restart_timer(s); break;
        case SV_SRC_SAMPLE: sv_on_sample(s); break;
        case SV_SRC_CONN_DEADLINE: on_conn_deadline(s); break;
        default: sv_watch_dispatch(s, (int)src); break;
        }
}

static int sv_loop(struct sv *s)
{
        return s->done ? 0 : sbx_evloop_run(s->loop);
}

/* The loop's timers: timeout, stop grace, restart backoff, usage sampling and
 * the control connections' deadline. */
static int open_timers(struct sv *s, sbx_error **err)
{
        struct {
                int *fd;
                enum sv_source src;
        } t[] = { { &s->timeout_tfd, SV_SRC_TIMEOUT }, { &s->grace_tfd, SV_SRC_GRACE },
                  { &s->restart_tfd, SV_SRC_RESTART }, { &s->sample_tfd, SV_SRC_SAMPLE },
                  { &s->conn_tfd, SV_SRC_CONN_DEADLINE } };

        for (size_t i = 0; i < SBX_ARRAY_SIZE(t); i++) {
                int fd = sbx_evloop_timer(s->loop, on_source, &s->tags[t[i].src], err);
                if (fd < 0)
                        return fd;
                *t[i].fd = fd;
        }
        return 0;
}

static int open_fds(struct sv *s, sbx_error **err)
{
        sigset_t set;

        for (int i = 0; i < SV_SRC_COUNT; i++)
                s->tags[i] = (struct sv_tag){ .s = s, .src = (enum sv_source)i };
        sbx_forwarded_signals(&set);
        sigaddset(&set, SIGCHLD);
        sigaddset(&set, SIGPIPE);
        sigprocmask(SIG_BLOCK, &set, NULL);
        int r = sbx_evloop_new(&s->loop, err);
        if (r >= 0)
                r = sbx_evloop_signals(s->loop, &set, on_signal, s, err);
        if (r >= 0)
                r = open_timers(s, err);
        if (r < 0)
                return sbx_error_prefix(err, r, "supervisor");
        sbx_autofree char *sock = sbx_registry_path(s->state_dir, s->sb->id, SBX_CONTROL_SOCKET);
        if (!sock)
                return sbx_error_errno(err, ENOMEM, "control socket");
        r = sbx_control_listen(sock, &s->listenfd, err);
        if (r < 0)
                return r;
        if (sv_watch(s, s->listenfd, SV_SRC_CONTROL) < 0)
                return sbx_error_errno(err, errno, "watch %s", sock);
        return 0;
}

static int load(struct sv *s, const char *id, sbx_error **err)
{
        int r = sbx_registry_read(s->state_dir, id, &s->sb, err);

        if (r < 0)
                return r;
        if (!s->sb->long_lived || !s->sb->spec_json || s->sb->argv.n == 0)
                return sbx_error_set(err, EINVAL, "sandbox %s has no configuration", id);
        r = sbx_profile_load_string(s->sb->spec_json, strlen(s->sb->spec_json), "state.json",
                                    &s->spec, err);
        if (r < 0)
                return sbx_error_prefix(err, r, "load the spec of %s", id);
        s->dir = sbx_registry_path(s->state_dir, id, NULL);
        s->log_path = sbx_registry_path(s->state_dir, id, "logs");
        if (!s->dir || !s->log_path)
                return sbx_error_errno(err, ENOMEM, "supervisor");
        if (!s->sb->log_max)
                s->sb->log_max = SV_LOG_MAX_DEFAULT;
        s->sb->supervisor_pid = getpid();
        free(s->sb->reason);
        s->sb->reason = NULL;
        s->sb->supervisor_dead = false;
        s->sb->status = SBX_STATUS_STOPPED;
        return sbx_pid_start_time(getpid(), &s->sb->supervisor_start, err);
}

static int setup(struct sv *s, const char *id, bool start, sbx_error **err)
{
        int r = load(s, id, err);

        if (r >= 0)
                r = open_fds(s, err);
        if (r >= 0)
                r = sv_save(s);
        if (r >= 0)
                r = sv_watch_setup(s, err);
        if (r >= 0 && start)
                r = sv_start(s, err);
        if (r >= 0)
                sv_timer_arm(s->sample_tfd, SV_SAMPLE_MS, SV_SAMPLE_MS);
        return r;
}

static void report_ready(int fd, int r, const sbx_error *e)
{
        char msg[1100];

        if (fd < 0)
                return;
        snprintf(msg, sizeof(msg), "%s%s", r >= 0 ? "ok" : "error: ",
                 r >= 0 ? "" : (e && e->message ? e->message : "supervisor failed"));
        ssize_t n = write(fd, msg, strlen(msg));
        (void)n;
        close(fd);
}

static void sv_close(struct sv *s)
{
        int *fds[] = { &s->listenfd, &s->pidfd, &s->msg_fd, &s->log_fd, &s->log_out };
        sv_watch_free(s);
        while (s->n_conns > 0) {
                int fd = s->conns[0].fd;
                conn_drop(s, 0);
                close(fd);
        }
        sbx_evloop_free(s->loop); /* and its signalfd and timers */
        s->loop = NULL;
        for (size_t i = 0; i < SBX_ARRAY_SIZE(fds); i++)
                sbx_closep(fds[i]);
        sbx_cgroup_free(s->cg);
        sbx_spec_free(s->spec);
        sbx_sandbox_free(s->sb);
        free(s->dir);
        free(s->log_path);
}

int sbx_supervisor_main(int argc, char **argv)
{
        struct sv s = { .listenfd = -1, .pidfd = -1, .msg_fd = -1, .log_fd = -1, .log_out = -1,
                        .timeout_tfd = -1, .grace_tfd = -1, .restart_tfd = -1, .sample_tfd = -1,
                        .conn_tfd = -1 };
        sbx_autoerror e = NULL;

        if (argc < 4)
                return 2;
        s.state_dir = argv[1];
        int ready = atoi(argv[3]);
        bool start = false;
        for (int i = 4; i < argc; i++) {
                start |= strcmp(argv[i], "--start") == 0;
                s.foreground |= strcmp(argv[i], "--foreground") == 0;
                if (strcmp(argv[i], "--json") == 0)
                        sv_foreground_json(true);
        }
        umask(022);
        if (chdir("/") < 0)
                return 1;
        int r = setup(&s, argv[2], start, &e);
        if (r < 0 && s.sb && s.listenfd >= 0) {
                /* Keep the sandbox visible, in error, until it is destroyed. */
                s.sb->status = SBX_STATUS_ERROR;
                free(s.sb->reason);
                s.sb->reason = strdup(e && e->message ? e->message : "start failed");
                sv_save(&s);
                sv_event(&s, "error", json_pack("{s:s?}", "reason", s.sb->reason));
        }
        report_ready(ready, r, e);
        if (r < 0 && s.foreground)
                sv_foreground_failed(&s, e);
        if (r >= 0 || (s.sb && s.listenfd >= 0))
                r = sv_loop(&s);
        sv_close(&s);
        return r < 0 ? 1 : 0;
}
