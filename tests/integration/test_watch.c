/* Integration tests: watch, rebuild and reload with real inotify, real
 * sandboxes and real processes. The program under watch prints the version
 * that the rebuild wrote into out/version; every wait looks at the event
 * log, the logs or the watch status again when the state dir changes (see
 * struct waiter), with a bound scaled by sbx_test_time_scale(). */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "sandboxctl/profile.h"
#include "sandboxctl/runtime.h"
#include "sandboxctl/spec.h"
#include "lifecycle_helpers.h"
#include "run_helpers.h"

/* Bound of each wait, scaled for emulated VMs; a passing run never waits
 * for it. */
#define WAIT_S (30.0 * sbx_test_time_scale())
/* The longest a wait sleeps without a change in the state dir before it
 * looks again (the watch's state changes without writing a file). */
#define IDLE_LOOK_MS 200

static char ws[256], prof[300];

/* The rebuild: "broken" fails like a compiler, "slow" outlives the rebuild
 * timeout, "hog" doubles a string until the profile's memory limit stops
 * it, a file gate/hold holds it until gate/open exists; it also writes
 * src/version.o, which the profile excludes. */
static const char build_sh[] =
        "set -e\n"
        "mkdir -p out\n"
        "v=$(cat src/version)\n"
        "case \"$v\" in broken*) echo \"src/version:1: syntax error\" >&2; exit 2;; esac\n"
        "[ \"$v\" = slow ] && sleep 120\n"
        "[ \"$v\" = hog ] && awk 'BEGIN { s = \"x\"; while (1) s = s s }'\n"
        "if [ -e gate/hold ]; then while [ ! -e gate/open ]; do sleep 0.02; done; fi\n"
        "echo \"$v\" > src/version.o\n"
        "echo \"$v\" > out/version.tmp && mv out/version.tmp out/version\n"
        "echo \"built $v\"\n";

/* The program: prints its version, fails at once on "crash". */
#define PROGRAM(sleep_arg)                                         \
        "v=$(cat out/version); echo \"serving $v\"; "               \
        "[ \"$v\" = crash ] && exit 3; exec sleep " sleep_arg
static const char program[] = PROGRAM("300");

static void put(const char *rel, const char *text)
{
        char path[512], tmp[520];
        snprintf(path, sizeof(path), "%s/%s", ws, rel);
        snprintf(tmp, sizeof(tmp), "%s.new", path);
        FILE *f = fopen(path, "w");
        cr_assert_not_null(f, "open %s: %s", path, strerror(errno));
        fputs(text, f);
        cr_assert_eq(fclose(f), 0);
        (void)tmp;
}

/* Limits of the test profile, below medium's: run --watch must keep them. */
#define PROFILE_MEMORY "96M"
#define PROFILE_PIDS 64

/* The test profile, with this rebuild timeout and stop grace. */
static void write_profile(const char *timeout, const char *stop_timeout)
{
        FILE *f = fopen(prof, "w");

        cr_assert_not_null(f);
        fprintf(f,
                "extends: medium\n"
                "limits:\n"
                "  memory: " PROFILE_MEMORY "\n"
                "  pids: %d\n"
                "lifecycle:\n"
                "  stop_timeout: %s\n"
                "watch:\n"
                "  exclude: [\"gate/\", \"*.o\"]\n"
                "  rebuild: sh build.sh\n"
                "  rebuild_timeout: %s\n"
                "  artifacts: [out]\n"
                "  debounce: 100ms\n"
                "  healthy_after: 10s\n",
                PROFILE_PIDS, stop_timeout, timeout);
        fclose(f);
}

static void setup(void)
{
        char cmd[700];

        lc_setup();
        snprintf(ws, sizeof(ws), "/tmp/sbx-watch-ws-XXXXXX");
        cr_assert_not_null(mkdtemp(ws));
        snprintf(prof, sizeof(prof), "%s.yaml", ws);
        write_profile("60s", "10s");
        snprintf(cmd, sizeof(cmd), "mkdir -p %s/src %s/gate", ws, ws);
        cr_assert_eq(system(cmd), 0);
        put("build.sh", build_sh);
        put("src/version", "v1\n");
        snprintf(cmd, sizeof(cmd), "cd %s && sh build.sh >/dev/null", ws);
        cr_assert_eq(system(cmd), 0);
}

static void teardown(void)
{
        char cmd[700];

        lc_teardown();
        snprintf(cmd, sizeof(cmd), "rm -rf %s %s", ws, prof);
        if (system(cmd) != 0)
                cr_log_warn("could not remove %s", ws);
}

TestSuite(watch, .init = setup, .fini = teardown, .timeout = 280);

static double now_s(void)
{
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* A wait wakes when the state dir or the sandbox's dir changes (events,
 * logs, state.json), so that it looks again only after a change: polling
 * the CLI in a tight loop takes the CPU that the sandbox, its build and
 * its supervisor need (under emulation most of all). */
struct waiter {
        int fd;
        int look_ms; /* doubles while nothing changes, up to IDLE_LOOK_MS */
        double end;
};

static void waiter_init(struct waiter *w, const char *id, double timeout_s)
{
        const uint32_t mask = IN_MODIFY | IN_CREATE | IN_MOVED_TO;
        char dir[300];

        w->fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        cr_assert_geq(w->fd, 0, "inotify_init1: %s", strerror(errno));
        snprintf(dir, sizeof(dir), "%s/%s", lc_state_dir(), id);
        cr_assert_geq(inotify_add_watch(w->fd, lc_state_dir(), mask), 0);
        inotify_add_watch(w->fd, dir, mask); /* gone once the sandbox is */
        w->look_ms = 5;
        w->end = now_s() + timeout_s;
}

/* Sleep until a change or the next look; false once the bound has passed. */
static bool waiter_next(struct waiter *w)
{
        char buf[4096];
        double left_ms = (w->end - now_s()) * 1000.0;
        struct pollfd p = { .fd = w->fd, .events = POLLIN };

        if (left_ms <= 0)
                return false;
        if (poll(&p, 1, left_ms < w->look_ms ? (int)left_ms + 1 : w->look_ms) > 0) {
                while (read(w->fd, buf, sizeof(buf)) > 0)
                        ;
                w->look_ms = 5;
        } else if ((w->look_ms *= 2) > IDLE_LOOK_MS) {
                w->look_ms = IDLE_LOOK_MS;
        }
        return true;
}

static void waiter_done(struct waiter *w)
{
        close(w->fd);
}

/* Wait until the event log has `type` n times for id. */
static void wait_events(const char *id, const char *type, int n, double timeout_s)
{
        struct waiter w;
        int got;

        waiter_init(&w, id, timeout_s);
        while ((got = lc_count_events(id, type)) < n && waiter_next(&w))
                ;
        waiter_done(&w);
        if (got < n) {
                char path[300];
                snprintf(path, sizeof(path), "%s/%s/events.jsonl", lc_state_dir(), id);
                char *evs = rt_read_file(path);
                cr_assert_fail("%d %s events within %.0f s, wanted %d; events:\n%s", got, type,
                               timeout_s, n, evs);
        }
}

static json_t *watch_status(const char *id)
{
        struct run_result r;
        json_t *o = NULL;

        if (lc_sbx(&r, "watch", "--json", id, NULL) == 0)
                o = json_loads(r.out, 0, NULL);
        sbx_test_result_free(&r);
        cr_assert_not_null(o, "watch --json %s", id);
        return o;
}

/* Wait until the watch is idle: no batch pending, no build running. */
static void wait_state(const char *id, const char *state, double timeout_s)
{
        struct waiter w;
        char last[32] = "";

        waiter_init(&w, id, timeout_s);
        do {
                json_t *o = watch_status(id);
                snprintf(last, sizeof(last), "%s", json_string_value(json_object_get(o, "state")));
                bool building = json_is_true(json_object_get(o, "building"));
                json_decref(o);
                if (strcmp(last, state) == 0 && (!building || strcmp(state, "idle") != 0)) {
                        waiter_done(&w);
                        return;
                }
        } while (waiter_next(&w));
        cr_assert_fail("watch state %s, wanted %s", last, state);
}

static char *logs(const char *id, bool build)
{
        struct run_result r;

        cr_assert_eq(lc_sbx(&r, "logs", build ? "--build" : id, build ? id : NULL, NULL), 0);
        char *out = strdup(r.out);
        sbx_test_result_free(&r);
        return out;
}

static void wait_logs(const char *id, const char *want, double timeout_s)
{
        struct waiter w;
        char *text = NULL;

        waiter_init(&w, id, timeout_s);
        do {
                free(text);
                text = logs(id, false);
                if (strstr(text, want)) {
                        free(text);
                        waiter_done(&w);
                        return;
                }
        } while (waiter_next(&w));
        cr_assert_fail("'%s' not in the logs: %s", want, text);
}

static void destroy(char *id)
{
        struct run_result r;

        cr_assert_eq(lc_sbx(&r, "destroy", "--time", "2", id, NULL), 0, "%s", r.err);
        sbx_test_result_free(&r);
        cr_assert_eq(lc_sandbox_dirs(), 0);
        free(id);
}

/* The last event of `type` for id, as JSON. */
static json_t *last_event(const char *id, const char *type)
{
        char path[300], line[8192];
        json_t *found = NULL;

        snprintf(path, sizeof(path), "%s/events.jsonl", lc_state_dir());
        FILE *f = fopen(path, "r");
        cr_assert_not_null(f);
        while (fgets(line, sizeof(line), f)) {
                json_t *o = json_loads(line, 0, NULL);
                const char *i = json_string_value(json_object_get(o, "id"));
                const char *t = json_string_value(json_object_get(o, "type"));
                if (i && t && !strcmp(i, id) && !strcmp(t, type)) {
                        json_decref(found);
                        found = o;
                } else {
                        json_decref(o);
                }
        }
        fclose(f);
        cr_assert_not_null(found, "no %s event", type);
        return found;
}

static int info_int(const char *id, const char *key)
{
        json_t *o = lc_info(id);
        int v = o ? (int)json_integer_value(json_object_get(o, key)) : -1;
        json_decref(o);
        return v;
}

static char *create_watched(void)
{
        return lc_create(program, "--profile", prof, "--workspace", ws, "--timeout", "0s", NULL);
}

Test(watch, edit_rebuild_reload_broken_build_keeps_old_program)
{
        char *id = create_watched();

        wait_logs(id, "serving v1", WAIT_S);
        int init1 = info_int(id, "init_pid");
        put("src/version", "v2\n");
        wait_events(id, "reloaded", 1, WAIT_S);
        wait_logs(id, "serving v2", WAIT_S);
        cr_assert_eq(info_int(id, "restarts"), 1);
        int init2 = info_int(id, "init_pid");
        cr_assert(init2 != init1 && lc_pid_alive(init2));

        /* A broken edit: the build fails, the program is not touched. */
        put("src/version", "broken\n");
        wait_events(id, "rebuild_failed", 1, WAIT_S);
        json_t *ev = last_event(id, "rebuild_failed");
        cr_assert_eq(json_integer_value(json_object_get(ev, "exit_code")), 2);
        cr_assert_str_eq(json_string_value(json_object_get(ev, "output")),
                         "src/version:1: syntax error");
        json_decref(ev);
        wait_state(id, "idle", WAIT_S);
        cr_assert_eq(info_int(id, "init_pid"), init2, "the old program still runs");
        cr_assert(lc_pid_alive(init2));
        cr_assert_eq(info_int(id, "restarts"), 1);
        char *s = lc_status(id);
        cr_assert_str_eq(s, "running");
        free(s);
        char *b = logs(id, true);
        cr_assert(strstr(b, "src/version:1: syntax error") && strstr(b, "built v2"), "%s", b);
        free(b);

        /* The fix reloads. */
        put("src/version", "v3\n");
        wait_events(id, "reloaded", 2, WAIT_S);
        wait_logs(id, "serving v3", WAIT_S);
        wait_state(id, "idle", WAIT_S);
        /* Three builds, no more: out/ and *.o written by them never retrigger. */
        cr_assert_eq(lc_count_events(id, "rebuild_started"), 3);
        cr_assert_eq(lc_count_events(id, "change_detected"), 3);
        json_t *w = watch_status(id);
        cr_assert_eq(json_integer_value(json_object_get(w, "builds")), 3);
        cr_assert_eq(json_integer_value(json_object_get(w, "failures")), 1);
        cr_assert_eq(json_integer_value(json_object_get(w, "reloads")), 2);
        json_decref(w);
        destroy(id);
}

Test(watch, atomic_save_and_burst_trigger_once)
{
        char *id = create_watched();
        char from[512], to[512];

        wait_logs(id, "serving v1", WAIT_S);
        /* An editor's save: a temp file renamed over the original. */
        put("src/.version.swp", "v2\n");
        snprintf(from, sizeof(from), "%s/src/.version.swp", ws);
        snprintf(to, sizeof(to), "%s/src/version", ws);
        cr_assert_eq(rename(from, to), 0);
        wait_events(id, "reloaded", 1, WAIT_S);
        wait_state(id, "idle", WAIT_S);
        cr_assert_eq(lc_count_events(id, "rebuild_started"), 1);
        json_t *ev = last_event(id, "change_detected");
        json_t *paths = json_object_get(ev, "paths");
        cr_assert_eq(json_array_size(paths), 1);
        cr_assert_str_eq(json_string_value(json_array_get(paths, 0)), "src/version");
        json_decref(ev);

        /* 50 writes in a row: one rebuild. */
        for (int i = 0; i < 50; i++) {
                char v[16];
                snprintf(v, sizeof(v), "b%d\n", i);
                put("src/version", v);
        }
        wait_events(id, "reloaded", 2, WAIT_S);
        wait_state(id, "idle", WAIT_S);
        cr_assert_eq(lc_count_events(id, "rebuild_started"), 2);
        wait_logs(id, "serving b49", WAIT_S);
        destroy(id);
}

Test(watch, change_during_rebuild_queues_exactly_one_more)
{
        char *id = create_watched();

        wait_logs(id, "serving v1", WAIT_S);
        put("gate/hold", "");
        put("src/version", "v2\n");
        wait_events(id, "rebuild_started", 1, WAIT_S);
        wait_state(id, "building", WAIT_S);
        put("src/version", "v3\n");
        put("src/other", "x\n");
        put("src/version", "v4\n");
        wait_state(id, "queued", WAIT_S);
        char path[512];
        snprintf(path, sizeof(path), "%s/gate/hold", ws);
        unlink(path);
        put("gate/open", "");
        wait_events(id, "rebuild_succeeded", 2, WAIT_S);
        wait_events(id, "reloaded", 2, WAIT_S);
        wait_state(id, "idle", WAIT_S);
        cr_assert_eq(lc_count_events(id, "rebuild_started"), 2);
        json_t *ev = last_event(id, "change_detected");
        json_t *paths = json_object_get(ev, "paths");
        cr_assert_eq(json_array_size(paths), 2);
        cr_assert_str_eq(json_string_value(json_array_get(paths, 0)), "src/other");
        cr_assert_str_eq(json_string_value(json_array_get(paths, 1)), "src/version");
        json_decref(ev);
        wait_logs(id, "serving v4", WAIT_S);
        destroy(id);
}

Test(watch, crash_after_reload_rolls_back)
{
        char *id = create_watched();

        wait_logs(id, "serving v1", WAIT_S);
        put("src/version", "crash\n");
        wait_events(id, "rolled_back", 1, WAIT_S);
        json_t *ev = last_event(id, "rolled_back");
        cr_assert_str_eq(json_string_value(json_object_get(ev, "reason")),
                         "the reloaded program exited with code 3 within 10000 ms");
        cr_assert_eq(json_integer_value(json_object_get(ev, "code")), 3);
        json_decref(ev);
        wait_logs(id, "serving crash\nserving v1\n", WAIT_S);
        char *text = logs(id, false);
        cr_assert_str_eq(text, "serving v1\nserving crash\nserving v1\n");
        free(text);
        char out[512];
        snprintf(out, sizeof(out), "%s/out/version", ws);
        char *v = rt_read_file(out);
        cr_assert_str_eq(v, "v1\n", "the good build's artifacts are back");
        free(v);
        char *s = lc_status(id);
        cr_assert_str_eq(s, "running");
        free(s);
        cr_assert(lc_pid_alive(info_int(id, "init_pid")));
        destroy(id);
}

Test(watch, runaway_rebuild_is_killed_at_its_timeout)
{
        write_profile("2s", "10s");
        char *id = create_watched();

        wait_logs(id, "serving v1", WAIT_S);
        int init = info_int(id, "init_pid");
        put("src/version", "slow\n");
        wait_events(id, "rebuild_failed", 1, WAIT_S);
        json_t *ev = last_event(id, "rebuild_failed");
        cr_assert(json_is_true(json_object_get(ev, "timed_out")));
        cr_assert_eq(json_integer_value(json_object_get(ev, "exit_code")), 124);
        cr_assert_str_eq(json_string_value(json_object_get(ev, "reason")),
                         "killed: rebuild timeout reached");
        json_decref(ev);
        cr_assert_eq(info_int(id, "init_pid"), init);
        destroy(id);
}

Test(watch, rebuild_over_its_memory_limit_is_killed)
{
        char *id = create_watched();

        wait_logs(id, "serving v1", WAIT_S);
        int init = info_int(id, "init_pid");
        put("src/version", "hog\n");
        wait_events(id, "rebuild_failed", 1, WAIT_S);
        json_t *ev = last_event(id, "rebuild_failed");
        cr_assert_geq(json_integer_value(json_object_get(ev, "oom_kills")), 1, "%s",
                      json_string_value(json_object_get(ev, "reason")));
        cr_assert_neq(json_integer_value(json_object_get(ev, "exit_code")), 0);
        cr_assert_not_null(strstr(json_string_value(json_object_get(ev, "reason")),
                                  "memory limit reached (OOM kill)"));
        json_decref(ev);
        cr_assert_eq(info_int(id, "init_pid"), init, "the program is not touched");
        cr_assert_eq(lc_count_events(id, "reloaded"), 0);
        destroy(id);
}

/* An event's time (ISO 8601 UTC with milliseconds) in ms since the epoch. */
static double event_ms(json_t *ev)
{
        const char *t = json_string_value(json_object_get(ev, "time"));
        struct tm tm = { 0 };
        int ms = 0;

        cr_assert_not_null(t, "event without a time");
        const char *rest = strptime(t, "%Y-%m-%dT%H:%M:%S", &tm);
        cr_assert(rest && sscanf(rest, ".%3dZ", &ms) == 1, "event time %s", t);
        return (double)timegm(&tm) * 1000.0 + ms;
}

/* A reload stops the program as `stop` does, with the profile's
 * lifecycle.stop_timeout as the grace: a program that ignores SIGTERM is
 * killed after 1 s, not after the default 10 s. */
Test(watch, reload_stops_the_program_within_the_profiles_stop_timeout)
{
        write_profile("60s", "1s");
        char *id = lc_create("trap '' TERM; " PROGRAM("300"), "--profile", prof, "--workspace",
                             ws, "--timeout", "0s", NULL);

        wait_logs(id, "serving v1", WAIT_S);
        put("src/version", "v2\n");
        wait_events(id, "reloaded", 1, WAIT_S);
        wait_logs(id, "serving v2", WAIT_S);
        json_t *built = last_event(id, "rebuild_succeeded");
        json_t *reloaded = last_event(id, "reloaded");
        double ms = event_ms(reloaded) - event_ms(built);
        json_decref(built);
        json_decref(reloaded);
        /* The grace plus one start of the program; the fixed grace alone was 10 s. */
        cr_log_info("reload with a 1 s stop_timeout: %.0f ms", ms);
        cr_assert(ms >= 1000 && ms < 10000, "reload took %.0f ms with a 1 s stop_timeout", ms);
        destroy(id);
}

/* The id of the only sandbox in the state dir. */
static char *only_sandbox(void)
{
        DIR *d = opendir(lc_state_dir());
        struct dirent *de;
        char *id = NULL;

        cr_assert_not_null(d);
        while ((de = readdir(d)))
                if (sbx_sandbox_id_valid(de->d_name)) {
                        cr_assert_null(id, "more than one sandbox");
                        id = strdup(de->d_name);
                }
        closedir(d);
        cr_assert_not_null(id, "no sandbox");
        return id;
}

/* The spec that state.json keeps for id, loaded as every reader loads it. */
static struct sbx_spec *stored_spec(const char *id)
{
        char path[300];
        struct sbx_spec *spec = NULL;
        sbx_error *e = NULL;

        snprintf(path, sizeof(path), "%s/%s/state.json", lc_state_dir(), id);
        json_t *st = json_load_file(path, 0, NULL);
        cr_assert_not_null(st, "read %s", path);
        char *text = json_dumps(json_object_get(json_object_get(st, "config"), "spec"),
                                JSON_COMPACT);
        json_decref(st);
        cr_assert_not_null(text, "no spec in %s", path);
        int r = sbx_profile_load_string(text, strlen(text), "state.json", &spec, &e);
        cr_assert_geq(r, 0, "load the stored spec: %s", e ? e->message : "?");
        free(text);
        return spec;
}

/* sandboxctl run --watch ... 2>&1, in the background. */
static pid_t spawn_run_watch(int *ret_out)
{
        char *argv[] = { "/bin/sh", "-c", "exec \"$0\" \"$@\" 2>&1", (char *)sbx_test_binary(),
                         "run", "--profile", prof, "--workspace", ws, "--watch", ws,
                         "--timeout", "0s", "--", "/bin/sh", "-c", PROGRAM("293"), NULL };
        return rt_spawn(argv, -1, ret_out);
}

Test(watch, run_watch_reloads_and_ends_cleanly_on_sigterm)
{
        char buf[8192] = "";
        int out = -1, status = 0;
        pid_t pid = spawn_run_watch(&out);

        cr_assert(rt_read_until(out, "serving v1\n", buf, sizeof(buf), WAIT_S), "%s", buf);
        cr_assert_eq(lc_sandbox_dirs(), 1);
        /* state.json keeps the whole spec, the profile's limits included. */
        char *id = only_sandbox();
        struct sbx_spec *spec = stored_spec(id);
        cr_assert_eq(spec->limits.memory, 96ull << 20, "memory %llu",
                     (unsigned long long)spec->limits.memory);
        cr_assert_eq(spec->limits.pids, PROFILE_PIDS);
        sbx_spec_free(spec);
        free(id);
        put("src/version", "v2\n");
        cr_assert(rt_read_until(out, "serving v2\n", buf, sizeof(buf), WAIT_S), "%s", buf);
        cr_assert(rt_read_until(out, "src/version changed → rebuild (sh build.sh) ✓", buf,
                                sizeof(buf), WAIT_S), "%s", buf);
        cr_assert(strstr(buf, "→ reloaded\n"), "%s", buf);
        cr_assert_eq(kill(pid, SIGTERM), 0);
        cr_assert(rt_wait_pid(pid, WAIT_S, &status), "run --watch ended in time");
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status 0x%x", status);
        close(out);
        cr_assert_eq(lc_sandbox_dirs(), 0, "no state left");
        cr_assert(rt_wait_no_process_with_arg("sleep 293", 5), "no process left");
        char *mi = rt_read_file("/proc/self/mountinfo");
        cr_assert_null(strstr(mi, lc_state_dir()), "no mount left");
        free(mi);
}

SBX_TEST_MAIN(SBX_NEED_ROOT)

/* A build that ignores SIGTERM, running when its sandbox is destroyed: the
 * supervisor kills the build's sandbox so that the build removes its own
 * cgroup. (The build's process was once SIGKILLed instead, which left the
 * build sandbox's empty cgroup behind; lc_teardown fails on that, once the
 * supervisor has exited.) */
Test(watch, destroy_during_a_build_that_ignores_sigterm_leaves_no_cgroup)
{
        FILE *f = fopen(prof, "w");
        cr_assert_not_null(f);
        fputs("extends: medium\n"
              "watch:\n"
              "  rebuild: \"trap '' TERM; sleep 127.25\"\n"
              "  debounce: 100ms\n",
              f);
        cr_assert_eq(fclose(f), 0);
        char *id = create_watched();

        wait_logs(id, "serving v1", WAIT_S);
        put("src/version", "v2\n");
        wait_events(id, "rebuild_started", 1, WAIT_S);
        /* The build makes its sandbox and cgroup; wait for its sleep. */
        for (int i = 0; i < WAIT_S * 20 && !rt_process_with_arg("127.25"); i++)
                poll(NULL, 0, 50);
        cr_assert(rt_process_with_arg("127.25"), "the build never started its sleep");
        struct run_result r;
        cr_assert_eq(lc_sbx(&r, "destroy", "--time", "0", id, NULL), 0, "%s", r.err);
        sbx_test_result_free(&r);
        /* The supervisor stops the build after it answered: wait for both. */
        cr_assert(rt_wait_no_process_with_arg(lc_state_dir(), WAIT_S));
        cr_assert_eq(lc_sandbox_dirs(), 0, "the build's run left its state");
        free(id);
}
