/* sv_sandbox: start, watch, stop and restart the sandbox's init; its logs. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandboxctl/events.h"
#include "sandboxctl/util.h"
#include "src/lib/run-internal.h"
#include "src/lib/supervise.h"
#include "sv_internal.h"
#include "watch_loop.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif

static int pidfd_signal(int pidfd, int sig)
{
        return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

static int ensure_cgroup(struct sv *s, sbx_error **err)
{
        if (s->cg)
                return 0;
        int r = sbx_cgroup_create(s->sb->cgroup_parent, s->sb->id, s->spec, &s->cg, err);
        if (r == -EEXIST) {
                /* Left by an earlier supervisor of this sandbox. */
                sbx_cgroup_remove_stale(s->sb->cgroup_parent, s->sb->id, NULL);
                if (err && *err) {
                        sbx_error_free(*err);
                        *err = NULL;
                }
                r = sbx_cgroup_create(s->sb->cgroup_parent, s->sb->id, s->spec, &s->cg, err);
        }
        if (r < 0)
                return sbx_error_prefix(err, r, "cgroup");
        free(s->sb->cgroup);
        s->sb->cgroup = strdup(sbx_cgroup_path(s->cg));
        return 0;
}

static _Noreturn void init_child(struct sbx_sandbox_ctx *ctx, int log_w)
{
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);

        if (null < 0 || dup2(null, 0) < 0 || dup2(log_w, 1) < 0 || dup2(log_w, 2) < 0)
                _exit(SBX_EXIT_SETUP);
        sbx_init_main(ctx);
}

/* Let init go once it has its id maps (it is in its cgroup: see spawn_init). */
static int release_init(struct sv *s, const struct sbx_sandbox_ctx *ctx, int release_fd,
                        sbx_error **err)
{
        int r = 0;

        if (ctx->namespaces & SBX_NS_USER)
                r = sbx_ns_write_id_maps(s->init_pid, err);
        if (r >= 0 && write(release_fd, "g", 1) != 1)
                r = sbx_error_errno(err, errno, "release sandbox init");
        return r;
}

static void close_pipes(int p[3][2])
{
        for (int i = 0; i < 3; i++)
                for (int j = 0; j < 2; j++)
                        sbx_closep(&p[i][j]);
}

static int open_pipes(int p[3][2], sbx_error **err)
{
        for (int i = 0; i < 3; i++) {
                if (pipe2(p[i], O_CLOEXEC) < 0) {
                        int e = errno;
                        close_pipes(p);
                        return sbx_error_errno(err, e, "pipe");
                }
        }
        return 0;
}

static int spawn_init(struct sv *s, struct sbx_sandbox_ctx *ctx, sbx_error **err)
{
        int p[3][2] = { { -1, -1 }, { -1, -1 }, { -1, -1 } }; /* sync, msg, log */
        int cgroup_fd;
        bool placed = false;
        int r = sbx_run_cgroup_place_prepare(s->cg, &cgroup_fd, &ctx->self_attach, err);

        if (r >= 0)
                r = open_pipes(p, err);
        if (r < 0) {
                sbx_run_cgroup_place_finish(s->cg, true, -1, false, NULL);
                return r;
        }
        ctx->sync_fd = p[0][0];
        ctx->msg_fd = p[1][1];
        /* Placed as `run` places its init: born in the cgroup on v2, moves
         * itself in first thing on v1. */
        pid_t pid = sbx_ns_clone(ctx->namespaces, cgroup_fd, &s->pidfd, &placed, err);
        if (pid == 0)
                init_child(ctx, p[2][1]);
        r = sbx_run_cgroup_place_finish(s->cg, ctx->self_attach != NULL, pid, placed, err);
        if (pid < 0) {
                close_pipes(p);
                return pid;
        }
        s->init_pid = pid;
        s->msg_fd = sbx_steal_fd(p[1][0]);
        s->log_fd = sbx_steal_fd(p[2][0]);
        fcntl(s->msg_fd, F_SETFL, O_NONBLOCK);
        fcntl(s->log_fd, F_SETFL, O_NONBLOCK);
        if (r >= 0)
                r = release_init(s, ctx, p[0][1], err);
        close_pipes(p);
        if (r < 0) {
                pidfd_signal(s->pidfd, SIGKILL);
                siginfo_t si;
                waitid((idtype_t)P_PIDFD, (id_t)s->pidfd, &si, WEXITED);
                sbx_closep(&s->pidfd);
                sbx_closep(&s->msg_fd);
                sbx_closep(&s->log_fd);
                s->init_pid = 0;
                return sbx_error_prefix(err, r, "start sandbox init");
        }
        return 0;
}

static int prepare(struct sv *s, struct sbx_strv *env, char **scratch, sbx_error **err)
{
        const char *home = s->sb->workspace ? s->spec->filesystem.workspace_path : "/";
        int r = ensure_cgroup(s, err);

        if (r < 0)
                return r;
        r = sbx_run_environment(s->spec, home, s->sb->term, env, err);
        if (r < 0)
                return sbx_error_prefix(err, r, "environment");
        *scratch = sbx_registry_path(s->state_dir, s->sb->id, "scratch");
        if (!*scratch)
                return sbx_error_errno(err, ENOMEM, "scratch dir");
        if (mkdir(*scratch, 0700) < 0 && errno != EEXIST)
                return sbx_error_errno(err, errno, "mkdir %s", *scratch);
        return 0;
}

static void clear_report(struct sv *s)
{
        memset(&s->msgs, 0, sizeof(s->msgs));
        s->timed_out = false;
        s->stopping = false;
}

/* Init runs (s->init_pid, pidfd, msg_fd, log_fd set): watch it, arm the
 * timeout, record it. */
static void started(struct sv *s)
{
        sv_watch(s, s->pidfd, SV_SRC_PIDFD);
        sv_watch(s, s->log_fd, SV_SRC_LOG);
        if (s->spec->limits.timeout_ms)
                sv_timer_arm(s->timeout_tfd, s->spec->limits.timeout_ms, 0);
        s->sb->status = SBX_STATUS_RUNNING;
        s->sb->init_pid = s->init_pid;
        sbx_pid_start_time(s->init_pid, &s->sb->init_start, NULL);
        free(s->sb->reason);
        s->sb->reason = NULL;
        sv_save(s);
        sv_event(s, "started", json_pack("{s:i}", "init_pid", (int)s->init_pid));
}

int sv_start(struct sv *s, sbx_error **err)
{
        struct sbx_strv env = { 0 };
        sbx_autofree char *scratch = NULL;
        int r = prepare(s, &env, &scratch, err);

        if (r >= 0) {
                struct sbx_sandbox_ctx ctx = {
                        .spec = s->spec,
                        .argv = s->sb->argv.items,
                        .envp = env.items,
                        .home = s->sb->workspace ? s->spec->filesystem.workspace_path : "/",
                        .workspace = s->sb->workspace,
                        .scratch_dir = scratch,
                        .namespaces = sbx_ns_for_spec(s->spec),
                        /* Long-lived: pid 1 becomes sandboxctl-init, which
                         * CRIU can checkpoint. */
                        .init_exe = sbx_init_exe(),
                };
                clear_report(s);
                r = spawn_init(s, &ctx, err);
        }
        sbx_strv_clear(&env);
        if (r < 0)
                return r;
        started(s);
        return 0;
}

int sv_start_restored(struct sv *s, sv_restore_fn restore, void *arg, sbx_error **err)
{
        struct sbx_strv env = { 0 };
        sbx_autofree char *scratch = NULL;
        int r = prepare(s, &env, &scratch, err);

        sbx_strv_clear(&env);
        if (r < 0)
                return r;
        clear_report(s);
        r = restore(s, scratch, arg, err);
        if (r < 0)
                return r;
        started(s);
        return 0;
}

void sv_on_log(struct sv *s)
{
        char buf[65536];

        for (;;) {
                ssize_t n = read(s->log_fd, buf, sizeof(buf));
                if (n > 0) {
                        sv_foreground_output(s, buf, (size_t)n);
                        /* Pieces no larger than the cap keep every file under it. */
                        size_t step = s->sb->log_max < sizeof(buf) ? (size_t)s->sb->log_max
                                                                   : sizeof(buf);
                        for (size_t off = 0; off < (size_t)n; off += step) {
                                size_t len = (size_t)n - off < step ? (size_t)n - off : step;
                                sbx_append_rotating(s->log_path, buf + off, len, s->sb->log_max,
                                                    NULL);
                        }
                        continue;
                }
                if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                        sv_unwatch(s, s->log_fd);
                        sbx_closep(&s->log_fd);
                        s->log_fd = -1;
                }
                return;
        }
}

static void record_exit(struct sv *s, const siginfo_t *si)
{
        struct sbx_sandbox *sb = s->sb;

        sb->has_exit = true;
        sb->exit_code = sbx_sandbox_exit_code(&s->msgs, si, &sb->exit_signal);
        sb->init_pid = 0;
        sb->init_start = 0;
}

static void set_reason(struct sv *s, enum sbx_status st, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static void set_reason(struct sv *s, enum sbx_status st, const char *fmt, ...)
{
        va_list ap;
        char *r = NULL;

        va_start(ap, fmt);
        if (vasprintf(&r, fmt, ap) < 0)
                r = NULL;
        va_end(ap);
        free(s->sb->reason);
        s->sb->reason = r;
        s->sb->status = st;
}

static void describe_exit(const struct sbx_sandbox *sb, char *buf, size_t len)
{
        if (sb->exit_signal)
                snprintf(buf, len, "killed by signal %d", sb->exit_signal);
        else
                snprintf(buf, len, "exited with code %d", sb->exit_code);
}

static bool wants_restart(const struct sv *s)
{
        const struct sbx_sandbox *sb = s->sb;
        bool failed = sb->exit_code != 0 || sb->exit_signal != 0;

        switch (sb->restart.mode) {
        case SBX_RESTART_ALWAYS: return true;
        case SBX_RESTART_ON_FAILURE: return failed;
        case SBX_RESTART_NO:
        default: return false;
        }
}

static void schedule_restart(struct sv *s, const char *how)
{
        const struct sbx_restart_policy *p = &s->sb->restart;

        if (p->max && s->attempts >= p->max) {
                set_reason(s, SBX_STATUS_ERROR, "restart limit (%u) reached: %s", p->max, how);
                sv_event(s, "error", json_pack("{s:s}", "reason", s->sb->reason));
                return;
        }
        unsigned shift = s->attempts < 16 ? s->attempts : 16;
        uint64_t delay = (uint64_t)SV_RESTART_BASE_MS << shift;
        if (delay > SV_RESTART_CAP_MS)
                delay = SV_RESTART_CAP_MS;
        s->attempts++;
        set_reason(s, SBX_STATUS_STOPPED, "%s; restarting in %llu ms", how,
                   (unsigned long long)delay);
        sv_timer_arm(s->restart_tfd, delay, 0);
}

/* What follows the end of the init: stop, restart, error or rest. */
static void after_exit(struct sv *s)
{
        char how[64];

        describe_exit(s->sb, how, sizeof(how));
        if (s->stopping) {
                set_reason(s, SBX_STATUS_STOPPED, "stopped (%s)", how);
                sv_event(s, "stopped", NULL);
        } else if (s->msgs.fail_kind) {
                set_reason(s, SBX_STATUS_ERROR, "setup failed: %s: %s", s->msgs.step,
                           s->msgs.message[0] ? s->msgs.message : "unknown error");
                sv_event(s, "error", json_pack("{s:s}", "reason", s->sb->reason));
        } else if (s->timed_out) {
                set_reason(s, SBX_STATUS_STOPPED, "timeout reached");
        } else if (wants_restart(s)) {
                schedule_restart(s, how);
        } else {
                set_reason(s, SBX_STATUS_STOPPED, "%s", how);
        }
}

static void close_init(struct sv *s)
{
        sv_unwatch(s, s->pidfd);
        sbx_closep(&s->pidfd);
        sbx_closep(&s->msg_fd);
        s->pidfd = s->msg_fd = -1;
        s->init_pid = 0;
        if (s->log_fd >= 0)
                sv_on_log(s);
        sv_unwatch(s, s->log_fd);
        sbx_closep(&s->log_fd);
        s->log_fd = -1;
        sv_timer_arm(s->timeout_tfd, 0, 0);
        sv_timer_arm(s->grace_tfd, 0, 0);
}

void sv_on_init_exit(struct sv *s)
{
        siginfo_t si = { 0 };

        if (s->pidfd < 0)
                return;
        /* nohang: the event may be stale (the init it was for is gone and
         * a new one runs), and the loop must never block here. */
        if (sbx_sandbox_reap(s->pidfd, true, &si, NULL, NULL) == 0)
                return;
        sbx_sandbox_read_msgs(s->msg_fd, &s->msgs);
        /* Nothing of the sandbox outlives its init (processes that left the
         * pid namespace's reach, if any, are in the cgroup). */
        if (s->cg)
                sbx_cgroup_kill(s->cg, NULL);
        close_init(s);
        record_exit(s, &si);
        sv_event(s, "exited", json_pack("{s:i, s:i}", "code", s->sb->exit_code, "signal",
                                        s->sb->exit_signal));
        if (sv_reload_on_exit(s))
                return; /* a reload restarted it, or a rollback (watch_loop.h) */
        bool was_stopping = s->stopping;
        after_exit(s);
        s->stopping = false;
        sv_save(s);
        if (!was_stopping)
                return;
        if (s->destroy_after_stop) {
                sv_destroy(s);
                return;
        }
        if (s->restart_after_stop) {
                sbx_autoerror e = NULL;
                s->restart_after_stop = false;
                s->attempts = 0;
                if (sv_start(s, &e) < 0) {
                        set_reason(s, SBX_STATUS_ERROR, "restart: %s", e ? e->message : "failed");
                        sv_save(s);
                        sv_reply_pending(s, e);
                        return;
                }
        }
        sv_reply_pending(s, NULL);
        if (s->quit)
                s->done = true;
}

/* The grace period is over: kill everything. */
static void kill_all(struct sv *s)
{
        if (s->pidfd >= 0)
                sbx_sandbox_kill(s->pidfd, s->cg);
}

void sv_stop(struct sv *s, uint64_t grace_ms)
{
        s->stopping = true;
        s->sb->status = SBX_STATUS_STOPPING;
        sv_save(s);
        sv_timer_arm(s->restart_tfd, 0, 0);
        sbx_sandbox_signal_stop(s->pidfd, s->init_pid, s->cg, s->spec->lifecycle.stop_signal,
                                NULL);
        if (grace_ms == 0)
                kill_all(s);
        else
                sv_timer_arm(s->grace_tfd, grace_ms, 0);
}

/* The timer handlers run only when their timer really expired: the loop
 * drops an event of a timer that a handler earlier in the same batch re-armed
 * or disarmed (e.g. the grace timer beside the exit of the init it was for). */
void sv_on_grace(struct sv *s)
{
        kill_all(s);
}

void sv_on_timeout(struct sv *s)
{
        if (s->pidfd < 0)
                return;
        s->timed_out = true;
        sv_event(s, "timeout", json_pack("{s:I}", "timeout_ms",
                                         (json_int_t)s->spec->limits.timeout_ms));
        sbx_sandbox_kill(s->pidfd, s->cg);
}

void sv_on_restart_timer(struct sv *s)
{
        sbx_autoerror e = NULL;

        if (s->pidfd >= 0)
                return;
        s->sb->restarts++;
        sv_event(s, "restarted", json_pack("{s:I, s:I}", "restarts", (json_int_t)s->sb->restarts,
                                           "attempt", (json_int_t)s->attempts));
        if (sv_start(s, &e) < 0) {
                set_reason(s, SBX_STATUS_ERROR, "restart: %s", e ? e->message : "failed");
                sv_event(s, "error", json_pack("{s:s}", "reason", s->sb->reason));
                sv_save(s);
        }
}

void sv_on_sample(struct sv *s)
{
        struct sbx_cgroup_usage u;

        if (!s->cg || s->pidfd < 0 ||
            sbx_cgroup_sample(s->cg, &u, NULL) < 0)
                return;
        if ((u.have & SBX_CGROUP_HAVE_OOM) && u.oom_kills > s->seen_oom) {
                sv_event(s, "oom_kill", json_pack("{s:I}", "count", (json_int_t)u.oom_kills));
                s->seen_oom = u.oom_kills;
        }
        if ((u.have & SBX_CGROUP_HAVE_PIDS_HITS) && u.pids_limit_hits > s->seen_pids_hits) {
                sv_event(s, "limit_hit", json_pack("{s:s, s:I, s:I}", "which", "pids", "value",
                                                   (json_int_t)s->spec->limits.pids, "count",
                                                   (json_int_t)u.pids_limit_hits));
                s->seen_pids_hits = u.pids_limit_hits;
        }
}

int sv_kill(struct sv *s, int sig, sbx_error **err)
{
        if (s->pidfd < 0)
                return sbx_error_set(err, ESRCH, "sandbox %s is not running", s->sb->id);
        if (sig == SIGKILL) {
                if (pidfd_signal(s->pidfd, SIGKILL) < 0)
                        return sbx_error_errno(err, errno, "kill sandbox init");
                return 0;
        }
        /* Every process but init, which would drop it. */
        int r = sbx_cgroup_signal_except(s->cg, s->init_pid, sig, err);
        return r < 0 ? r : 0;
}

void sv_destroy(struct sv *s)
{
        sbx_autoerror e = NULL;

        if (s->cg && sbx_cgroup_destroy(s->cg, &e) < 0) {
                sv_reply_pending(s, e);
                sv_event(s, "error", json_pack("{s:s}", "reason", e->message));
                s->destroy_after_stop = false;
                return;
        }
        if (!s->cg)
                sbx_cgroup_remove_stale(s->sb->cgroup_parent, s->sb->id, NULL);
        sv_event(s, "destroyed", json_pack("{s:b}", "keep_data", s->keep_data));
        sv_unwatch(s, s->listenfd);
        sbx_closep(&s->listenfd);
        s->listenfd = -1;
        int r = sbx_registry_remove(s->state_dir, s->sb->id, &e);
        sv_reply_pending(s, r < 0 ? e : NULL);
        s->done = true;
}
