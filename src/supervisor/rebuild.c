/* rebuild: the build child. A fork of the supervisor that runs the profile's
 * rebuild command with sbx_run() in a build sandbox (the same spec, the same
 * workspace, its own cgroup with the spec's limits, the rebuild timeout as
 * its wall-clock limit) and reports how it went on a pipe. The loop follows
 * it through its pidfd and keeps its output in build.log. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sandboxctl/events.h"
#include "sandboxctl/runtime.h"
#include "sandboxctl/util.h"
#include "src/lib/run-internal.h"
#include "sv_internal.h"
#include "watch_loop.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

static void child_report(int fd, const struct sbx_run_result *res, const sbx_error *e)
{
        struct sv_build_result out = { .exit_code = SBX_EXIT_SETUP };

        if (res) {
                out.exit_code = res->exit_code;
                out.signal = res->signal;
                out.timed_out = res->timed_out;
                if (res->cgroup_usage.have & SBX_CGROUP_HAVE_OOM)
                        out.oom_kills = res->cgroup_usage.oom_kills;
                if (res->failed_step)
                        snprintf(out.failure, sizeof(out.failure), "%s: %s", res->failed_step,
                                 res->failure ? res->failure : "failed");
        } else {
                out.setup_failed = 1;
                snprintf(out.failure, sizeof(out.failure), "%s",
                         e && e->message ? e->message : "build sandbox set-up failed");
        }
        ssize_t n = write(fd, &out, sizeof(out));
        (void)n;
}

/* The build child: stdin /dev/null, stdout and stderr the output pipe. */
static _Noreturn void build_child(struct sv *s, int out_w, int res_w)
{
        char *argv[] = { (char *)"/bin/sh", (char *)"-c", s->spec->watch.rebuild, NULL };
        int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
        struct sbx_run_result res;
        sbx_error *e = NULL;

        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (null < 0 || dup2(null, 0) < 0 || dup2(out_w, 1) < 0 || dup2(out_w, 2) < 0 ||
            dup2(res_w, 3) < 0)
                _exit(SBX_EXIT_SETUP);
        sbx_close_fds_except(3);
        s->spec->limits.timeout_ms = s->spec->watch.rebuild_timeout_ms;
        struct sbx_run_config cfg = {
                .spec = s->spec,
                .argv = argv,
                .workspace = s->sb->workspace,
                .state_dir = s->state_dir,
                .profile = s->sb->profile,
                .term = s->sb->term,
                .cgroup_parent = s->sb->cgroup_parent,
        };
        if (sbx_run(&cfg, &res, &e) < 0) {
                child_report(3, NULL, e);
                _exit(SBX_EXIT_SETUP);
        }
        child_report(3, &res, NULL);
        _exit(res.exit_code & 0xff);
}

static void write_log(struct sv *s, const char *text)
{
        sbx_append_rotating(s->watch->log_path, text, strlen(text), s->sb->log_max, NULL);
}

static void log_header(struct sv *s)
{
        char line[512], when[64];
        struct timespec now;

        clock_gettime(CLOCK_REALTIME, &now);
        sbx_format_iso8601(&now, when, sizeof(when));
        snprintf(line, sizeof(line), "=== build %u: %s (%s)\n", s->watch->build.number,
                 s->spec->watch.rebuild, when);
        write_log(s, line);
}

static int fork_build(struct sv *s, int out[2], int res[2], sbx_error **err)
{
        struct sv_build *b = &s->watch->build;
        pid_t pid = fork();

        if (pid < 0)
                return sbx_error_errno(err, errno, "fork the build");
        if (pid == 0)
                build_child(s, out[1], res[1]);
        b->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (b->pidfd < 0) {
                int e = errno;
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
                return sbx_error_errno(err, e, "pidfd_open of the build");
        }
        b->pid = pid;
        b->out_fd = sbx_steal_fd(out[0]);
        b->res_fd = sbx_steal_fd(res[0]);
        fcntl(b->out_fd, F_SETFL, O_NONBLOCK);
        fcntl(b->res_fd, F_SETFL, O_NONBLOCK);
        return 0;
}

int sv_build_start(struct sv *s, sbx_error **err)
{
        struct sv_watch *wl = s->watch;
        int out[2] = { -1, -1 }, res[2] = { -1, -1 };
        int r = 0;

        if (pipe2(out, O_CLOEXEC) < 0 || pipe2(res, O_CLOEXEC) < 0)
                r = sbx_error_errno(err, errno, "pipe");
        wl->build.number = ++wl->builds;
        wl->build.tail_len = 0;
        wl->build.started_ms = sbx_watch_now_ms();
        if (r >= 0) {
                log_header(s);
                r = fork_build(s, out, res, err);
        }
        for (int i = 0; i < 2; i++) {
                sbx_closep(&out[i]);
                sbx_closep(&res[i]);
        }
        if (r < 0)
                return sbx_error_prefix(err, r, "rebuild");
        sv_watch(s, wl->build.pidfd, SV_SRC_BUILD_EXIT);
        sv_watch(s, wl->build.out_fd, SV_SRC_BUILD_OUT);
        sv_watch_event(s, "rebuild_started",
                       json_pack("{s:s, s:I, s:i}", "command", s->spec->watch.rebuild, "build",
                                 (json_int_t)wl->build.number, "pid", (int)wl->build.pid));
        return 0;
}

static void keep_tail(struct sv_build *b, const char *buf, size_t n)
{
        if (n >= sizeof(b->tail)) {
                memcpy(b->tail, buf + n - sizeof(b->tail), sizeof(b->tail));
                b->tail_len = sizeof(b->tail);
                return;
        }
        if (b->tail_len + n > sizeof(b->tail)) {
                size_t drop = b->tail_len + n - sizeof(b->tail);
                memmove(b->tail, b->tail + drop, b->tail_len - drop);
                b->tail_len -= drop;
        }
        memcpy(b->tail + b->tail_len, buf, n);
        b->tail_len += n;
}

void sv_build_on_output(struct sv *s)
{
        struct sv_build *b = &s->watch->build;
        char buf[16384];

        while (b->out_fd >= 0) {
                ssize_t n = read(b->out_fd, buf, sizeof(buf));
                if (n > 0) {
                        sbx_append_rotating(s->watch->log_path, buf, (size_t)n, s->sb->log_max,
                                            NULL);
                        keep_tail(b, buf, (size_t)n);
                        continue;
                }
                if (n < 0 && (errno == EAGAIN || errno == EINTR))
                        return;
                sv_unwatch(s, b->out_fd);
                sbx_closep(&b->out_fd);
                b->out_fd = -1;
        }
}

/* The last SV_BUILD_TAIL_LINES lines of the output, malloc'd. */
static char *tail_lines(const struct sv_build *b)
{
        size_t end = b->tail_len, start;
        unsigned lines = 0;

        while (end > 0 && b->tail[end - 1] == '\n')
                end--;
        for (start = end; start > 0; start--)
                if (b->tail[start - 1] == '\n' && ++lines == SV_BUILD_TAIL_LINES)
                        break;
        return strndup(b->tail + start, end - start);
}

static void describe(const struct sv_build_result *r, char *buf, size_t len)
{
        if (r->setup_failed)
                snprintf(buf, len, "build sandbox: %s", r->failure);
        else if (r->timed_out)
                snprintf(buf, len, "killed: rebuild timeout reached");
        else if (r->oom_kills)
                snprintf(buf, len, "exit %d, memory limit reached (OOM kill)", r->exit_code);
        else if (r->signal)
                snprintf(buf, len, "killed by signal %d", r->signal);
        else if (r->failure[0])
                snprintf(buf, len, "exit %d: %s", r->exit_code, r->failure);
        else
                snprintf(buf, len, "exit %d", r->exit_code);
}

static void report_failure(struct sv *s, const struct sv_build_result *res, uint64_t ms)
{
        struct sv_watch *wl = s->watch;
        sbx_autofree char *tail = tail_lines(&wl->build);
        char how[640];

        describe(res, how, sizeof(how));
        wl->failures++;
        sv_watch_event(s, "rebuild_failed",
                       json_pack("{s:I, s:i, s:I, s:b, s:I, s:s, s:s}", "build",
                                 (json_int_t)wl->build.number, "exit_code", res->exit_code,
                                 "duration_ms", (json_int_t)ms, "timed_out", res->timed_out,
                                 "oom_kills", (json_int_t)res->oom_kills, "reason", how,
                                 "output", tail ? tail : ""));
        sv_watch_status(s, "%s changed → rebuild (%s) ✗ %s, %.1f s%s%s", wl->batch && wl->batch->n
                        ? wl->batch->paths[0] : "change", s->spec->watch.rebuild, how,
                        (double)ms / 1000.0, tail && *tail ? "\n" : "", tail ? tail : "");
}

static void read_result(struct sv_build *b, const siginfo_t *si, struct sv_build_result *r)
{
        if (b->res_fd >= 0 && read(b->res_fd, r, sizeof(*r)) == (ssize_t)sizeof(*r)) {
                r->failure[sizeof(r->failure) - 1] = '\0';
                return;
        }
        memset(r, 0, sizeof(*r));
        r->setup_failed = 1;
        if (si->si_code == CLD_EXITED)
                snprintf(r->failure, sizeof(r->failure), "the build ended with %d unreported",
                         si->si_status);
        else
                snprintf(r->failure, sizeof(r->failure), "the build was killed by signal %d",
                         si->si_status);
        r->exit_code = SBX_EXIT_SETUP;
}

static void close_build(struct sv *s)
{
        struct sv_build *b = &s->watch->build;

        sv_build_on_output(s);
        sv_unwatch(s, b->pidfd);
        sv_unwatch(s, b->out_fd);
        sbx_closep(&b->pidfd);
        sbx_closep(&b->out_fd);
        sbx_closep(&b->res_fd);
        b->pidfd = b->out_fd = b->res_fd = -1;
        b->pid = 0;
}

void sv_build_on_exit(struct sv *s)
{
        struct sv_watch *wl = s->watch;
        struct sv_build_result res;
        siginfo_t si = { 0 };
        char foot[128];

        if (wl->build.pidfd < 0 ||
            waitid((idtype_t)P_PIDFD, (id_t)wl->build.pidfd, &si, WEXITED | WNOHANG) < 0 ||
            si.si_pid == 0)
                return;
        read_result(&wl->build, &si, &res);
        close_build(s);
        uint64_t ms = sbx_watch_now_ms() - wl->build.started_ms;
        wl->last_exit = res.exit_code;
        wl->last_duration_ms = ms;
        snprintf(foot, sizeof(foot), "=== build %u: exit %d in %llu ms\n", wl->build.number,
                 res.exit_code, (unsigned long long)ms);
        sbx_append_rotating(wl->log_path, foot, strlen(foot), s->sb->log_max, NULL);
        if (wl->w)
                sbx_watcher_rebuild_finished(wl->w, sbx_watch_now_ms(), NULL);
        if (res.exit_code != 0 || res.setup_failed) {
                report_failure(s, &res, ms);
                return;
        }
        sv_watch_event(s, "rebuild_succeeded",
                       json_pack("{s:I, s:I}", "build", (json_int_t)wl->build.number,
                                 "duration_ms", (json_int_t)ms));
        if (wl->enabled)
                sv_reload_after_build(s);
}

/* Kill the build's sandbox: its init is the build child's child (sbx_run
 * clones it). The build child then ends as after any sandbox death: it
 * removes the sandbox's cgroup and its state dir. */
static void kill_build_sandbox(pid_t build)
{
        char path[64];
        int pid;

        snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)build, (int)build);
        FILE *f = fopen(path, "re");
        while (f && fscanf(f, "%d", &pid) == 1)
                kill(pid, SIGKILL);
        if (f)
                fclose(f);
}

static int wait_build(struct sv_build *b, int timeout_ms)
{
        struct pollfd p = { .fd = b->pidfd, .events = POLLIN };
        int n;

        do
                n = poll(&p, 1, timeout_ms);
        while (n < 0 && errno == EINTR);
        return n;
}

void sv_build_stop(struct sv *s, int timeout_ms)
{
        struct sv_build *b = s->watch ? &s->watch->build : NULL;

        if (!b || !b->pid)
                return;
        /* sbx_run() forwards SIGTERM to the build and cleans its sandbox up. */
        kill(b->pid, SIGTERM);
        /* A SIGKILL of the build child itself would leave its sandbox's
         * (empty) cgroup and state dir behind: kill the sandbox first. */
        if (wait_build(b, timeout_ms) == 0) {
                kill_build_sandbox(b->pid);
                if (wait_build(b, timeout_ms) == 0)
                        kill(b->pid, SIGKILL);
        }
        siginfo_t si;
        waitid((idtype_t)P_PIDFD, (id_t)b->pidfd, &si, WEXITED);
        if (s->watch->w)
                sbx_watcher_rebuild_finished(s->watch->w, sbx_watch_now_ms(), NULL);
        close_build(s);
}
