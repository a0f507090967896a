/* runtime: the `run` pipeline and its supervisor loop.
 *
 *   create state dir -> block forwarded signals -> create cgroup (limits) ->
 *   clone init (namespaces, pidfd, into the cgroup on v2) -> attach it (v1)
 *   -> write id maps -> release init -> poll(pidfd, signalfd, timeout
 *   timerfd, sample timerfd) -> waitid(P_PIDFD, rusage) -> read the
 *   sandbox's messages -> sample the cgroup -> destroy the cgroup -> remove
 *   state dir.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "run-internal.h"
#include "sandboxctl/util.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Everything the supervisor holds while the sandbox runs. */
struct supervisor {
        pid_t pid;
        int pidfd;
        int sigfd;
        int timerfd;
        int sample_fd; /* periodic timerfd for peaks the kernel does not keep, or -1 */
        int msg_fd; /* read end, non-blocking */
        struct sbx_cgroup *cg;
        bool timed_out;
        siginfo_t info;
        struct rusage usage;
};

static uint64_t elapsed_ms(const struct timespec *a, const struct timespec *b)
{
        int64_t ns = (int64_t)(b->tv_sec - a->tv_sec) * 1000000000LL + (b->tv_nsec - a->tv_nsec);
        return ns > 0 ? (uint64_t)ns / 1000000u : 0;
}

static uint64_t timeval_ms(const struct timeval *tv)
{
        return (uint64_t)tv->tv_sec * 1000u + (uint64_t)tv->tv_usec / 1000u;
}

int sbx_env_set(struct sbx_strv *env, const char *assignment, sbx_error **err)
{
        const char *eq = strchr(assignment, '=');
        if (!eq || eq == assignment)
                return sbx_error_set(err, EINVAL, "invalid environment assignment '%s': expected KEY=VALUE",
                                     assignment);
        size_t klen = (size_t)(eq - assignment) + 1;
        for (size_t i = 0; i < env->n; i++) {
                if (strncmp(env->items[i], assignment, klen) == 0) {
                        char *copy = strdup(assignment);
                        if (!copy)
                                return sbx_error_errno(err, ENOMEM, "set %s", assignment);
                        free(env->items[i]);
                        env->items[i] = copy;
                        return 0;
                }
        }
        int r = sbx_strv_push(env, assignment);
        if (r < 0)
                return sbx_error_errno(err, -r, "set %s", assignment);
        return 0;
}

static bool env_has(const struct sbx_strv *env, const char *key)
{
        size_t klen = strlen(key);

        for (size_t i = 0; i < env->n; i++)
                if (strncmp(env->items[i], key, klen) == 0 && env->items[i][klen] == '=')
                        return true;
        return false;
}

static int env_default(struct sbx_strv *env, const char *key, const char *value, sbx_error **err)
{
        sbx_autofree char *kv = NULL;

        if (env_has(env, key))
                return 0;
        if (asprintf(&kv, "%s=%s", key, value) < 0) {
                kv = NULL;
                return sbx_error_errno(err, ENOMEM, "environment %s", key);
        }
        return sbx_env_set(env, kv, err);
}

int sbx_run_environment(const struct sbx_spec *spec, const char *home, const char *term,
                        struct sbx_strv *ret_env, sbx_error **err)
{
        struct sbx_strv env = { 0 };
        int r = 0;

        for (size_t i = 0; r >= 0 && i < spec->env.n; i++)
                r = sbx_env_set(&env, spec->env.items[i], err);
        if (r >= 0)
                r = env_default(&env, "PATH", DEFAULT_PATH, err);
        if (r >= 0)
                r = env_default(&env, "HOME", home, err);
        if (r >= 0)
                r = env_default(&env, "TERM", term && *term ? term : "dumb", err);
        if (r >= 0)
                r = env_default(&env, "LANG", "C.UTF-8", err);
        if (r >= 0 && !env.items)
                r = sbx_error_set(err, EINVAL, "empty environment");
        if (r < 0) {
                sbx_strv_clear(&env);
                return r;
        }
        *ret_env = env;
        return 0;
}

void sbx_run_result_clear(struct sbx_run_result *r)
{
        if (!r)
                return;
        free(r->failed_step);
        free(r->failure);
        free(r->cleanup_error);
        free(r->cgroup_path);
        for (size_t i = 0; r->cgroup_warnings && r->cgroup_warnings[i]; i++)
                free(r->cgroup_warnings[i]);
        free(r->cgroup_warnings);
        memset(r, 0, sizeof(*r));
}

static void supervisor_close(struct supervisor *s)
{
        sbx_closep(&s->pidfd);
        sbx_closep(&s->sigfd);
        sbx_closep(&s->timerfd);
        sbx_closep(&s->sample_fd);
        sbx_closep(&s->msg_fd);
}

static int pidfd_signal(int pidfd, int sig)
{
        return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

/* A timerfd that fires after ms, and every ms again when periodic. */
static int open_timer(uint64_t ms, bool periodic, sbx_error **err)
{
        int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        if (fd < 0)
                return sbx_error_errno(err, errno, "timerfd_create");
        struct timespec ts = { .tv_sec = (time_t)(ms / 1000),
                               .tv_nsec = (long)(ms % 1000) * 1000000L };
        struct itimerspec its = { .it_value = ts };
        if (periodic)
                its.it_interval = ts;
        if (timerfd_settime(fd, 0, &its, NULL) < 0) {
                int e = errno;
                close(fd);
                return sbx_error_errno(err, e, "timerfd_settime");
        }
        return fd;
}

static int open_supervisor_fds(struct supervisor *s, uint64_t timeout_ms, const sigset_t *fwd,
                               sbx_error **err)
{
        s->sigfd = signalfd(-1, fwd, SFD_CLOEXEC | SFD_NONBLOCK);
        if (s->sigfd < 0)
                return sbx_error_errno(err, errno, "signalfd");
        /* Only reads of pids.current / memory.current, and only when the
         * kernel keeps no peak of its own. */
        if (s->cg && sbx_cgroup_unkept_peaks(s->cg)) {
                s->sample_fd = open_timer(SBX_RUN_SAMPLE_MS, true, err);
                if (s->sample_fd < 0)
                        return s->sample_fd;
        }
        if (timeout_ms == 0)
                return 0;
        s->timerfd = open_timer(timeout_ms, false, err);
        return s->timerfd < 0 ? s->timerfd : 0;
}

static int reap_init(struct supervisor *s, sbx_error **err)
{
        long r;

        memset(&s->info, 0, sizeof(s->info));
        /* The raw waitid() also returns the rusage of init and of every
         * process it reaped. */
        do
                r = syscall(SYS_waitid, P_PIDFD, s->pidfd, &s->info, WEXITED | __WALL, &s->usage);
        while (r < 0 && errno == EINTR);
        if (r < 0)
                return sbx_error_errno(err, errno, "wait for sandbox init %d", (int)s->pid);
        return 0;
}

/* SIGKILL init (the kernel then kills its pid namespace) and everything
 * in the cgroup, at once. */
static void kill_sandbox(struct supervisor *s)
{
        pidfd_signal(s->pidfd, SIGKILL);
        if (s->cg)
                sbx_cgroup_kill(s->cg, NULL);
}

static void kill_and_reap(struct supervisor *s)
{
        kill_sandbox(s);
        reap_init(s, NULL);
}

static void send_all(int fd, const void *buf, size_t len)
{
        const char *p = buf;

        while (len > 0) {
                ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return; /* init is gone: its exit tells why */
                p += n;
                len -= (size_t)n;
        }
}

/* Build the seccomp program while init sets up the sandbox, and hand it
 * over. A failure here is not reported: the command's child then builds
 * the filter itself and reports the error as before. */
static void send_seccomp_prog(const struct sbx_sandbox_ctx *ctx, int fd)
{
        struct sbx_seccomp_prog prog = { 0 };
        uint32_t n = UINT32_MAX;

        if (sbx_seccomp_prepare(ctx->spec, &prog, NULL) >= 0)
                n = (uint32_t)prog.len;
        send_all(fd, &n, sizeof(n));
        if (n != UINT32_MAX && n > 0)
                send_all(fd, prog.insns, prog.len * 8);
        sbx_seccomp_prog_clear(&prog);
}

/* Clone init and release it once its id maps are written. */
static int start_sandbox(struct sbx_sandbox_ctx *ctx, struct supervisor *s, sbx_error **err)
{
        int sync[2], msg[2], cgroup_fd;
        int r = sbx_run_cgroup_place_prepare(s->cg, &cgroup_fd, &ctx->self_attach, err);

        if (r < 0)
                return r;
        /* A socket, not a pipe: a send to an init that died early must
         * fail with EPIPE, not kill us with SIGPIPE. */
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sync) < 0)
                return sbx_error_errno(err, errno, "socketpair");
        if (pipe2(msg, O_CLOEXEC) < 0) {
                int e = errno;
                close(sync[0]);
                close(sync[1]);
                return sbx_error_errno(err, e, "pipe");
        }
        ctx->sync_fd = sync[0];
        ctx->msg_fd = msg[1];
        ctx->prog_follows = true;
        bool placed = false;
        pid_t pid = sbx_ns_clone(ctx->namespaces, cgroup_fd, &s->pidfd, &placed, err);
        if (pid == 0) {
                close(sync[1]);
                close(msg[0]);
                sbx_init_main(ctx);
        }
        close(sync[0]);
        close(msg[1]);
        r = sbx_run_cgroup_place_finish(s->cg, ctx->self_attach != NULL, pid, placed, err);
        sbx_autoclose int release_fd = sync[1];
        s->msg_fd = msg[0];
        if (pid < 0)
                return pid;
        s->pid = pid;
        fcntl(s->msg_fd, F_SETFL, O_NONBLOCK);
        if (r < 0) {
                kill_and_reap(s);
                return r;
        }
        if (ctx->namespaces & SBX_NS_USER)
                r = sbx_ns_write_id_maps(pid, err);
        if (r >= 0 && send(release_fd, "g", 1, MSG_NOSIGNAL) != 1)
                r = sbx_error_errno(err, errno, "release sandbox init");
        if (r < 0) {
                kill_and_reap(s);
                return sbx_error_prefix(err, r, "set up user namespace");
        }
        send_seccomp_prog(ctx, release_fd);
        return 0;
}

static void forward_signals(struct supervisor *s)
{
        struct signalfd_siginfo si;

        while (read(s->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
                pidfd_signal(s->pidfd, (int)si.ssi_signo);
}

static void expire_timer(struct supervisor *s)
{
        uint64_t ticks;

        if (read(s->timerfd, &ticks, sizeof(ticks)) != (ssize_t)sizeof(ticks))
                return;
        s->timed_out = true;
        kill_sandbox(s);
}

static void sample_peaks(struct supervisor *s)
{
        uint64_t ticks;

        if (read(s->sample_fd, &ticks, sizeof(ticks)) != (ssize_t)sizeof(ticks))
                return;
        /* A failed read here only costs precision: the final sample says
         * what is wrong. */
        sbx_cgroup_sample_peaks(s->cg, NULL);
}

static int wait_sandbox(struct supervisor *s, sbx_error **err)
{
        struct pollfd p[4] = {
                { .fd = s->pidfd, .events = POLLIN },
                { .fd = s->sigfd, .events = POLLIN },
                { .fd = s->timerfd, .events = POLLIN },
                { .fd = s->sample_fd, .events = POLLIN },
        };

        for (;;) {
                if (poll(p, SBX_ARRAY_SIZE(p), -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        int r = sbx_error_errno(err, errno, "poll");
                        kill_and_reap(s);
                        return r;
                }
                if (p[1].revents)
                        forward_signals(s);
                if (p[2].revents)
                        expire_timer(s);
                if (p[3].revents)
                        sample_peaks(s);
                if (p[0].revents)
                        return reap_init(s, err);
        }
}

struct sandbox_report {
        bool have_status;
        int status;   /* the command's wait status */
        int fail_exit; /* SBX_EXIT_SETUP/NOEXEC/NOTFOUND, or 0 */
};

static int read_messages(struct supervisor *s, struct sbx_run_result *res,
                         struct sandbox_report *rep, sbx_error **err)
{
        struct sbx_child_msg msg;

        while (read(s->msg_fd, &msg, sizeof(msg)) == (ssize_t)sizeof(msg)) {
                msg.step[sizeof(msg.step) - 1] = '\0';
                msg.message[sizeof(msg.message) - 1] = '\0';
                if (msg.kind == SBX_MSG_COMMAND_STATUS) {
                        rep->have_status = true;
                        rep->status = msg.code;
                        continue;
                }
                if (rep->fail_exit || (msg.kind != SBX_MSG_SETUP_FAILED &&
                                       msg.kind != SBX_MSG_EXEC_FAILED))
                        continue;
                res->failed_step = strdup(msg.step);
                res->failure = strdup(msg.message);
                if (!res->failed_step || !res->failure)
                        return sbx_error_errno(err, ENOMEM, "read sandbox messages");
                if (msg.kind == SBX_MSG_SETUP_FAILED)
                        rep->fail_exit = SBX_EXIT_SETUP;
                else if (msg.code == ENOENT || msg.code == ENOTDIR)
                        rep->fail_exit = SBX_EXIT_NOTFOUND;
                else
                        rep->fail_exit = SBX_EXIT_NOEXEC;
        }
        return 0;
}

static void map_exit_code(const struct supervisor *s, const struct sandbox_report *rep,
                          struct sbx_run_result *res)
{
        const siginfo_t *si = &s->info;
        bool init_killed = si->si_code == CLD_KILLED || si->si_code == CLD_DUMPED;

        if (s->timed_out && init_killed && si->si_status == SIGKILL) {
                res->timed_out = true;
                res->exit_code = SBX_EXIT_TIMEOUT;
        } else if (rep->fail_exit) {
                res->exit_code = rep->fail_exit;
        } else if (rep->have_status && WIFEXITED(rep->status)) {
                res->exit_code = WEXITSTATUS(rep->status);
        } else if (rep->have_status && WIFSIGNALED(rep->status)) {
                res->signal = WTERMSIG(rep->status);
                res->exit_code = 128 + res->signal;
        } else if (init_killed) {
                /* init itself was killed from outside before it could report. */
                res->signal = si->si_status;
                res->exit_code = 128 + res->signal;
        } else {
                res->exit_code = si->si_status;
        }
}

static void fill_usage(const struct supervisor *s, const struct timespec *t0,
                       struct sbx_run_result *res)
{
        struct timespec t1;

        clock_gettime(CLOCK_MONOTONIC, &t1);
        res->wall_time_ms = elapsed_ms(t0, &t1);
        res->user_cpu_ms = timeval_ms(&s->usage.ru_utime);
        res->system_cpu_ms = timeval_ms(&s->usage.ru_stime);
        res->max_rss_bytes = (uint64_t)s->usage.ru_maxrss * 1024u;
}

/* Start, supervise and reap the sandbox in cgroup cg (may be NULL); fill
 * res. */
static int run_sandbox(struct sbx_sandbox_ctx *ctx, struct sbx_cgroup *cg, uint64_t timeout_ms,
                       struct sbx_run_result *res, sbx_error **err)
{
        struct supervisor s = { .pidfd = -1, .sigfd = -1, .timerfd = -1, .sample_fd = -1,
                                .msg_fd = -1, .cg = cg };
        struct sandbox_report rep = { 0 };
        struct timespec t0;
        sigset_t fwd;
        int r;

        sbx_forwarded_signals(&fwd);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        r = open_supervisor_fds(&s, timeout_ms, &fwd, err);
        if (r >= 0)
                r = start_sandbox(ctx, &s, err);
        if (r >= 0)
                r = wait_sandbox(&s, err);
        if (r >= 0)
                r = read_messages(&s, res, &rep, err);
        if (r >= 0) {
                fill_usage(&s, &t0, res);
                map_exit_code(&s, &rep, res);
                if (cg)
                        sbx_run_cgroup_sample(cg, res);
        }
        supervisor_close(&s);
        return r;
}

/* The cgroup, then the sandbox in it; the cgroup is destroyed on every
 * path, before the state dir goes (so gc still finds it after a crash). */
static int run_in_cgroup(const struct sbx_run_config *cfg, struct sbx_sandbox_ctx *ctx,
                         struct sbx_run_result *res, sbx_error **err)
{
        struct sbx_cgroup *cg = NULL;
        int r = sbx_run_cgroup_create(cfg, res->id, &cg, err);

        if (r >= 0)
                r = run_sandbox(ctx, cg, cfg->spec->limits.timeout_ms, res, err);
        sbx_run_cgroup_finish(cg, res);
        return r;
}

int sbx_run(const struct sbx_run_config *cfg, struct sbx_run_result *ret, sbx_error **err)
{
        struct sbx_run_result res = { 0 };
        const struct sbx_spec *spec = cfg->spec;
        struct sbx_strv env = { 0 };
        struct sbx_state *st = NULL;
        int r;

        clock_gettime(CLOCK_REALTIME, &res.started_at);
        r = sbx_sandbox_id_new(res.id, err);
        if (r < 0)
                return r;
        const char *home = cfg->workspace ? spec->filesystem.workspace_path : "/";
        r = sbx_run_environment(spec, home, cfg->term, &env, err);
        if (r < 0)
                return sbx_error_prefix(err, r, "environment");
        /* The forwarded signals stay blocked (and go to the sandbox) until
         * its state dir is gone; init inherits the mask. */
        sigset_t fwd, old;
        sbx_forwarded_signals(&fwd);
        sigprocmask(SIG_BLOCK, &fwd, &old);
        r = sbx_state_create(cfg->state_dir ? cfg->state_dir : sbx_state_dir_default(), cfg,
                             res.id, &res.started_at, &st, err);
        if (r >= 0) {
                struct sbx_sandbox_ctx ctx = {
                        .spec = spec,
                        .argv = cfg->argv,
                        .envp = env.items,
                        .home = home,
                        .workspace = cfg->workspace,
                        .scratch_dir = st->scratch,
                        .namespaces = sbx_ns_for_spec(spec),
                };
                r = run_in_cgroup(cfg, &ctx, &res, err);
                /* A failure to clean up is reported, but the run itself
                 * happened: keep its result. */
                sbx_autoerror e = NULL;
                if (sbx_state_remove(st, &e) < 0 && e)
                        sbx_run_add_cleanup_error(&res, e->message ? e->message : "remove state");
        }
        sigprocmask(SIG_SETMASK, &old, NULL);
        sbx_strv_clear(&env);
        if (r < 0) {
                sbx_run_result_clear(&res);
                return r;
        }
        *ret = res;
        return 0;
}
