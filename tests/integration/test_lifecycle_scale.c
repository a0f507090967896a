/* Integration tests: long-lived sandboxes at scale and under races: 100
 * concurrent named creates leave nothing behind once destroyed; ten creates
 * of one name make one sandbox; two concurrent starts make one init; stats
 * (--json, --watch --count) and ps --json tell the truth about the
 * sandbox's cgroup. On cgroup v1, hybrid and v2. SBX_TEST_SANDBOXES makes
 * fewer than 100 sandboxes (the VM lane sets it: emulation is slow). */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "lifecycle_helpers.h"
#include "run_helpers.h"
#include "sandboxctl/runtime.h"

TestSuite(scale, .init = lc_setup, .fini = lc_teardown, .timeout = 120);

#define N_SANDBOXES 100
#define BATCH 20

/* How many sandboxes the scale test makes: 100, or $SBX_TEST_SANDBOXES (1 to 100). */
static int n_sandboxes(void)
{
        const char *v = getenv("SBX_TEST_SANDBOXES");
        int n = v ? atoi(v) : 0;

        return n > 0 && n <= N_SANDBOXES ? n : N_SANDBOXES;
}

static double now_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A sandboxctl process running in the background, its stdout and stderr in
 * memfds (the double-forked supervisor may keep pipes open; files do not
 * block). */
struct job {
        pid_t pid;
        int out, err;
};

static void job_start(struct job *j, char *const argv[])
{
        j->out = memfd_create("out", MFD_CLOEXEC);
        j->err = memfd_create("err", MFD_CLOEXEC);
        cr_assert(j->out >= 0 && j->err >= 0);
        j->pid = fork();
        cr_assert(j->pid >= 0);
        if (j->pid == 0) {
                int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
                if (in < 0 || dup2(in, 0) < 0 || dup2(j->out, 1) < 0 || dup2(j->err, 2) < 0)
                        _exit(126);
                execv(argv[0], argv);
                _exit(127);
        }
}

static char *read_memfd(int fd)
{
        off_t len = lseek(fd, 0, SEEK_END);
        char *s = calloc(1, (size_t)(len > 0 ? len : 0) + 1);

        cr_assert_not_null(s);
        if (len > 0)
                cr_assert_eq(pread(fd, s, (size_t)len, 0), len);
        close(fd);
        return s;
}

/* Wait for the job until `deadline` (killing it then); its exit code, output
 * in *ret_out and *ret_err (malloc'd). */
static int job_finish(struct job *j, double deadline, char **ret_out, char **ret_err)
{
        int st;
        double left = deadline - now_s();

        cr_assert(rt_wait_pid(j->pid, left > 0 ? left : 0.1, &st), "sandboxctl %d timed out",
                  (int)j->pid);
        *ret_out = read_memfd(j->out);
        *ret_err = read_memfd(j->err);
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static char sleep_arg[32];

static void set_sleep_arg(void)
{
        /* A duration no other process on the host sleeps for: its processes are findable. */
        snprintf(sleep_arg, sizeof(sleep_arg), "%d", 100000 + (int)getpid());
}

/* Host processes of these tests: a supervisor or init (their command line
 * names the state dir) or the sandboxes' `sleep sleep_arg`. */
/* A sandbox's pid 1 runs sandboxctl-init (no state dir in its command
 * line): ours when it is in this binary's cgroup parent. */
static bool is_our_init(const char *pid, const char *cmdline)
{
        char path[300], line[512], parent[64];
        bool ours = false;

        if (strncmp(cmdline, "sandboxctl-init ", 16) != 0)
                return false;
        snprintf(parent, sizeof(parent), "/sandboxctl-lc-%d/", (int)getpid());
        snprintf(path, sizeof(path), "/proc/%s/cgroup", pid);
        FILE *f = fopen(path, "re");
        while (f && !ours && fgets(line, sizeof(line), f))
                ours = strstr(line, parent) != NULL;
        if (f)
                fclose(f);
        return ours;
}

static int our_processes(void)
{
        DIR *d = opendir("/proc");
        struct dirent *de;
        int n = 0;
        char sleep_cmd[64];

        cr_assert_not_null(d);
        snprintf(sleep_cmd, sizeof(sleep_cmd), "sleep %s", sleep_arg);
        while ((de = readdir(d))) {
                char path[300];
                if (de->d_name[0] < '1' || de->d_name[0] > '9')
                        continue;
                snprintf(path, sizeof(path), "/proc/%s/cmdline", de->d_name);
                FILE *f = fopen(path, "re");
                char buf[4096];
                size_t len = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
                if (f)
                        fclose(f);
                buf[len] = '\0';
                for (size_t i = 0; i + 1 < len; i++)
                        if (buf[i] == '\0')
                                buf[i] = ' ';
                if (len && (strstr(buf, lc_state_dir()) || strcmp(buf, sleep_cmd) == 0 ||
                            is_our_init(de->d_name, buf)) &&
                    lc_pid_alive(atoi(de->d_name)))
                        n++;
        }
        closedir(d);
        return n;
}

/* our_processes() once it is `want`, or its last value at the deadline. */
static int wait_processes(int want, double timeout_s)
{
        double deadline = now_s() + timeout_s;
        int n;

        while ((n = our_processes()) != want && now_s() < deadline)
                poll(NULL, 0, 50);
        return n;
}

static bool wait_no_processes(double timeout_s)
{
        double deadline = now_s() + timeout_s;

        while (our_processes() > 0) {
                if (now_s() > deadline)
                        return false;
                poll(NULL, 0, 50);
        }
        return true;
}

/* Cgroup directories named like one of `ids`, in every hierarchy. */
static char **walk_ids;
static size_t walk_n;
static int walk_found;
static char walk_first[512];

static int count_id_dir(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st;
        if (flag != FTW_D)
                return 0;
        for (size_t i = 0; i < walk_n; i++)
                if (strcmp(path + ftw->base, walk_ids[i]) == 0) {
                        if (!walk_found++)
                                snprintf(walk_first, sizeof(walk_first), "%s", path);
                }
        return 0;
}

static int cgroup_dirs_of(char **ids, size_t n, const char *root)
{
        FILE *f = fopen("/proc/self/mountinfo", "re");
        char line[4096];

        cr_assert_not_null(f);
        walk_ids = ids;
        walk_n = n;
        walk_found = 0;
        walk_first[0] = '\0';
        if (root) {
                nftw(root, count_id_dir, 16, FTW_PHYS | FTW_MOUNT);
                fclose(f);
                return walk_found;
        }
        while (fgets(line, sizeof(line), f)) {
                char mnt[1024], fstype[64];
                const char *dash = strstr(line, " - ");
                if (!dash || sscanf(line, "%*s %*s %*s %*s %1023s", mnt) != 1 ||
                    sscanf(dash + 3, "%63s", fstype) != 1)
                        continue;
                if (strcmp(fstype, "cgroup") == 0 || strcmp(fstype, "cgroup2") == 0)
                        nftw(mnt, count_id_dir, 16, FTW_PHYS | FTW_MOUNT);
        }
        fclose(f);
        return walk_found;
}

/* The directory of the sandboxes' memory cgroups: on v2 the parent of the
 * cgroup `info` names for sandbox `id` (an absolute directory there), e.g.
 * /sys/fs/cgroup/sandboxctl-lc-N; on v1 the parent in the caller's memory
 * cgroup (where memory is delegated to us), e.g.
 * /sys/fs/cgroup/memory/process_api/X/sandboxctl-lc-N. */
static void memory_parent_path(const char *id, char *buf, size_t len)
{
        json_t *info = lc_info(id);
        const char *cg = json_string_value(json_object_get(info, "cgroup"));
        char line[1024], own[1024] = "/";

        cr_assert_not_null(cg, "%s has no cgroup", id);
        if (strncmp(cg, "/sys/fs/cgroup/", strlen("/sys/fs/cgroup/")) == 0) {
                snprintf(buf, len, "%s", cg);
                *strrchr(buf, '/') = '\0';
                json_decref(info);
                return;
        }
        json_decref(info);
        FILE *f = fopen("/proc/self/cgroup", "re");
        cr_assert_not_null(f);
        while (fgets(line, sizeof(line), f)) {
                char *c = strchr(line, ':');
                if (c && strncmp(c + 1, "memory:", 7) == 0) {
                        snprintf(own, sizeof(own), "%s", c + 8);
                        own[strcspn(own, "\n")] = '\0';
                }
        }
        fclose(f);
        snprintf(buf, len, "/sys/fs/cgroup/memory%s/%s", strcmp(own, "/") ? own : "",
                 getenv("SANDBOXCTL_CGROUP_PARENT"));
}

static bool wait_mountinfo(const char *before, double timeout_s, char **ret_now)
{
        double deadline = now_s() + timeout_s;

        for (;;) {
                char *now = rt_read_file("/proc/self/mountinfo");
                if (strcmp(now, before) == 0 || now_s() > deadline) {
                        *ret_now = now;
                        return strcmp(now, before) == 0;
                }
                free(now);
                poll(NULL, 0, 100);
        }
}

/* The first line of `a` missing from `b` ("" if none), malloc'd. */
static char *first_missing_line(const char *a, const char *b)
{
        for (const char *p = a; *p;) {
                size_t n = strcspn(p, "\n");
                char *line = strndup(p, n);
                if (!strstr(b, line))
                        return line;
                free(line);
                p += n + (p[n] == '\n');
        }
        return strdup("");
}

/* Run `sandboxctl VERB [ARGS] ID` for each of the n ids (or `create --name
 * scale-I` when verb is create, storing the printed id), BATCH at a time;
 * each must succeed. */
static void run_batched(char **ids, int n, const char *verb, double deadline)
{
        for (int b = 0; b < n; b += BATCH) {
                struct job jobs[BATCH];
                int batch = n - b < BATCH ? n - b : BATCH;
                for (int i = 0; i < batch; i++) {
                        char name[32];
                        snprintf(name, sizeof(name), "scale-%d", b + i);
                        char *create[] = { (char *)sbx_test_binary(), (char *)"create",
                                           (char *)"--name", name, (char *)"--timeout",
                                           (char *)"none", (char *)"--", (char *)"sleep",
                                           sleep_arg, NULL };
                        char *other[] = { (char *)sbx_test_binary(), (char *)verb,
                                          (char *)"--time", (char *)"0", ids[b + i], NULL };
                        job_start(&jobs[i], strcmp(verb, "create") == 0 ? create : other);
                }
                for (int i = 0; i < batch; i++) {
                        char *out, *err;
                        int c = job_finish(&jobs[i], deadline, &out, &err);
                        cr_assert_eq(c, 0, "%s #%d: exit %d: %s", verb, b + i, c, err);
                        cr_assert_str_eq(err, "", "%s #%d", verb, b + i);
                        if (strcmp(verb, "create") == 0) {
                                cr_assert_eq(strlen(out), SBX_ID_LEN + 1, "create printed '%s'",
                                             out);
                                ids[b + i] = strndup(out, SBX_ID_LEN);
                                cr_assert(sbx_sandbox_id_valid(ids[b + i]), "'%s'", out);
                        } else {
                                char want[SBX_ID_LEN + 2];
                                snprintf(want, sizeof(want), "%s\n", ids[b + i]);
                                cr_assert_str_eq(out, want, "%s %s", verb, ids[b + i]);
                        }
                        free(out);
                        free(err);
                }
        }
}

static bool has_id(char **ids, const char *id)
{
        for (int i = 0; i < N_SANDBOXES; i++)
                if (ids[i] && id && strcmp(ids[i], id) == 0)
                        return true;
        return false;
}

static void assert_all_listed_running(char **ids, int n)
{
        struct run_result r;

        cr_assert_eq(lc_sbx(&r, "list", "--json", NULL), 0, "%s", r.err);
        json_t *arr = json_loads(r.out, 0, NULL);
        cr_assert(json_is_array(arr), "%s", r.out);
        cr_assert_eq(json_array_size(arr), (size_t)n);
        size_t i;
        json_t *e;
        json_array_foreach(arr, i, e) {
                const char *id = json_string_value(json_object_get(e, "id"));
                const char *status = json_string_value(json_object_get(e, "status"));
                cr_assert(has_id(ids, id), "listed '%s' was not created here", id);
                cr_assert_str_eq(status, "running", "%s", id);
                int init = (int)json_integer_value(json_object_get(e, "init_pid"));
                cr_assert(init > 0 && lc_pid_alive(init), "%s: init %d", id, init);
        }
        json_decref(arr);
        sbx_test_result_free(&r);
}

/* `info --json NAME` names sandbox `id`. */
static void assert_name_is(const char *name, const char *id)
{
        json_t *info = lc_info(name);

        cr_assert_not_null(info, "info %s", name);
        cr_assert_str_eq(json_string_value(json_object_get(info, "id")), id, "%s", name);
        json_decref(info);
}

Test(scale, hundred_concurrent_creates_leave_nothing)
{
        const int n = n_sandboxes();
        double deadline = now_s() + 100;
        char *ids[N_SANDBOXES] = { 0 };
        char *mounts_before = rt_read_file("/proc/self/mountinfo"), *mounts_after;
        char mem_parent[2048];
        struct run_result r;

        set_sleep_arg();
        double t0 = now_s();
        run_batched(ids, n, "create", deadline);
        cr_log_info("%d creates: %.2f s", n, now_s() - t0);
        for (int i = 0; i < n; i++)
                for (int j = i + 1; j < n; j++)
                        cr_assert_str_neq(ids[i], ids[j], "#%d and #%d", i, j);
        assert_all_listed_running(ids, n);
        assert_name_is("scale-0", ids[0]);
        assert_name_is("scale-1", ids[n > 1 ? 1 : 0]);
        /* Each: a supervisor, its init and the sleep. "running" is written
         * when the command is started; an init or command may still be in
         * its execve (an empty command line for a moment): wait, bounded. */
        int procs = wait_processes(3 * n, 10 * sbx_test_time_scale());
        cr_assert_eq(procs, 3 * n, "%d processes of the sandboxes, expected %d", procs, 3 * n);
        memory_parent_path(ids[0], mem_parent, sizeof(mem_parent));
        cr_assert_geq(cgroup_dirs_of(ids, (size_t)n, NULL), n);
        cr_assert_eq(cgroup_dirs_of(ids, (size_t)n, mem_parent), n,
                     "one memory cgroup each under %s", mem_parent);

        t0 = now_s();
        run_batched(ids, n, "destroy", deadline);
        cr_log_info("%d destroys: %.2f s", n, now_s() - t0);
        cr_assert_eq(lc_sandbox_dirs(), 0);
        cr_assert_eq(lc_sbx(&r, "list", "--json", NULL), 0, "%s", r.err);
        cr_assert_str_eq(r.out, "[]\n");
        sbx_test_result_free(&r);
        cr_assert(wait_no_processes(10), "%d processes are left", our_processes());
        cr_assert_eq(cgroup_dirs_of(ids, (size_t)n, NULL), 0, "left: %s", walk_first);
        cr_assert_eq(cgroup_dirs_of(ids, (size_t)n, mem_parent), 0, "left: %s", walk_first);
        cr_assert_eq(lc_sbx(&r, "info", "scale-0", NULL), 3, "the name went with it");
        sbx_test_result_free(&r);
        bool same = wait_mountinfo(mounts_before, 5, &mounts_after);
        char *gone = first_missing_line(mounts_before, mounts_after);
        char *added = first_missing_line(mounts_after, mounts_before);
        cr_assert(same, "mounts changed: gone '%s', added '%s'", gone, added);
        for (int i = 0; i < n; i++) {
                cr_assert_eq(lc_count_events(ids[i], "created"), 1, "%s", ids[i]);
                cr_assert_eq(lc_count_events(ids[i], "destroyed"), 1, "%s", ids[i]);
                free(ids[i]);
        }
        free(gone);
        free(added);
        free(mounts_before);
        free(mounts_after);
}

/* Ten creates of one name at once: one wins, nine exit 5 naming it; the
 * name resolves to the winner; once it is destroyed the name is free. */
Test(scale, ten_creates_of_one_name_make_one_sandbox)
{
        enum { RACERS = 10 };
        struct job jobs[RACERS];
        char *won = NULL, want[128];
        int wins = 0;
        struct run_result r;

        set_sleep_arg();
        char *argv[] = { (char *)sbx_test_binary(), (char *)"create", (char *)"--name",
                         (char *)"race", (char *)"--timeout", (char *)"none", (char *)"--",
                         (char *)"sleep", sleep_arg, NULL };
        for (int i = 0; i < RACERS; i++)
                job_start(&jobs[i], argv);
        char *errs[RACERS];
        for (int i = 0; i < RACERS; i++) {
                char *out;
                int c = job_finish(&jobs[i], now_s() + 60 * sbx_test_time_scale(), &out,
                                   &errs[i]);
                cr_assert(c == 0 || c == 5, "create #%d: exit %d: %s", i, c, errs[i]);
                if (c == 0) {
                        wins++;
                        won = strndup(out, SBX_ID_LEN);
                }
                free(out);
        }
        cr_assert_eq(wins, 1, "%d creates of one name won", wins);
        snprintf(want, sizeof(want), "name 'race' is already used by sandbox %s\n", won);
        for (int i = 0; i < RACERS; i++) {
                cr_assert(!*errs[i] || strstr(errs[i], want), "%s", errs[i]);
                free(errs[i]);
        }
        cr_assert_eq(lc_sandbox_dirs(), 1);
        assert_name_is("race", won);
        cr_assert_eq(lc_sbx(&r, "destroy", "--time", "0", "race", NULL), 0, "%s", r.err);
        sbx_test_result_free(&r);
        char *id = lc_create("exit 0", "--name", "race", "--no-start", NULL);
        assert_name_is("race", id);
        cr_assert_eq(lc_sbx(&r, "destroy", id, NULL), 0, "%s", r.err);
        sbx_test_result_free(&r);
        free(id);
        free(won);
}

/* The cgroup.procs of the sandbox's cgroup `cg` (as in info's "cgroup"), in
 * the pids hierarchy (v1) or the unified one (v2). */
static char *cgroup_procs(const char *cg)
{
        char path[1024];

        /* On v2 `info` names the cgroup's directory; on v1 its path inside
         * each hierarchy. */
        if (strncmp(cg, "/sys/fs/cgroup/", strlen("/sys/fs/cgroup/")) == 0)
                snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
        else
                snprintf(path, sizeof(path), "/sys/fs/cgroup/pids%s/cgroup.procs", cg);
        return rt_read_file(path);
}

static int count_lines(const char *s)
{
        int n = 0;

        for (; *s; s++)
                n += *s == '\n';
        return n;
}

/* `ps --json ID` once it lists `want` processes (within 10 s). */
static json_t *ps_json_when(const char *id, size_t want)
{
        struct run_result r;
        json_t *arr = NULL;

        for (int i = 0; i < 200; i++) {
                cr_assert_eq(lc_sbx(&r, "ps", "--json", id, NULL), 0, "%s", r.err);
                json_decref(arr);
                arr = json_loads(r.out, 0, NULL);
                cr_assert(json_is_array(arr), "%s", r.out);
                sbx_test_result_free(&r);
                if (json_array_size(arr) == want)
                        break;
                poll(NULL, 0, 50);
        }
        cr_assert_eq(json_array_size(arr), want);
        return arr;
}

static int count_inits(json_t *arr)
{
        size_t i;
        json_t *e;
        int n = 0;

        json_array_foreach(arr, i, e)
                n += json_integer_value(json_object_get(e, "pid")) == 1;
        return n;
}

/* Two `start`s at once, five times: one starts it, the other says it runs
 * already (exit 5); one init, one `started` event per round. */
Test(scale, concurrent_starts_make_one_init)
{
        set_sleep_arg();
        char script[64];
        snprintf(script, sizeof(script), "exec sleep %s", sleep_arg);
        char *id = lc_create(script, "--no-start", "--timeout", "0s", NULL);
        char *argv[] = { (char *)sbx_test_binary(), (char *)"start", id, NULL };
        char want[128];
        struct run_result r;

        snprintf(want, sizeof(want), "sandboxctl: start: sandbox %s is already running\n", id);
        for (int round = 0; round < 5; round++) {
                struct job a, b;
                char *out[2], *err[2];
                if (round > 0) {
                        cr_assert_eq(lc_sbx(&r, "stop", "--time", "0", id, NULL), 0, "%s", r.err);
                        sbx_test_result_free(&r);
                }
                job_start(&a, argv);
                job_start(&b, argv);
                int ca = job_finish(&a, now_s() + 30, &out[0], &err[0]);
                int cb = job_finish(&b, now_s() + 30, &out[1], &err[1]);
                cr_assert((ca == 0 && cb == 5) || (ca == 5 && cb == 0), "round %d: exits %d, %d",
                          round, ca, cb);
                cr_assert_str_eq(err[ca == 0 ? 0 : 1], "");
                cr_assert_str_eq(err[ca == 0 ? 1 : 0], want, "round %d", round);
                for (int i = 0; i < 2; i++) {
                        free(out[i]);
                        free(err[i]);
                }
                cr_assert_eq(lc_count_events(id, "started"), round + 1);
                json_t *arr = ps_json_when(id, 2);
                cr_assert_eq(count_inits(arr), 1);
                json_decref(arr);
                json_t *info = lc_info(id);
                char *procs = cgroup_procs(json_string_value(json_object_get(info, "cgroup")));
                cr_assert_eq(count_lines(procs), 2, "round %d: cgroup.procs:\n%s", round, procs);
                free(procs);
                json_decref(info);
        }
        cr_assert_eq(lc_sbx(&r, "destroy", "--time", "0", id, NULL), 0, "%s", r.err);
        sbx_test_result_free(&r);
        free(id);
}

static json_t *stats_json(const char *id)
{
        struct run_result r;

        cr_assert_eq(lc_sbx(&r, "stats", "--json", id, NULL), 0, "%s", r.err);
        json_t *o = json_loads(r.out, 0, NULL);
        cr_assert(json_is_object(o), "%s", r.out);
        sbx_test_result_free(&r);
        return o;
}

static long long jint(json_t *o, const char *key)
{
        json_t *v = json_object_get(o, key);

        cr_assert(json_is_integer(v), "%s is not an integer", key);
        return (long long)json_integer_value(v);
}

static void assert_stats_fields(json_t *o, const char *id, long long pids)
{
        cr_assert_str_eq(json_string_value(json_object_get(o, "id")), id);
        long long mem = jint(o, "memory_bytes"), peak = jint(o, "memory_peak_bytes");
        cr_assert(mem > 0 && mem <= 128LL << 20, "memory %lld", mem);
        cr_assert(peak >= mem && peak <= 128LL << 20, "peak %lld, memory %lld", peak, mem);
        cr_assert_eq(jint(o, "pids"), pids);
        cr_assert(jint(o, "pids_peak") >= pids && jint(o, "pids_peak") <= 100);
        cr_assert_geq(jint(o, "cpu_usec"), 0);
        cr_assert_geq(jint(o, "cpu_throttled_usec"), 0);
        cr_assert_eq(jint(o, "oom_kills"), 0);
        cr_assert_eq(jint(o, "pids_limit_hits"), 0);
        cr_assert_eq(json_object_size(o), 9, "id and 8 usage fields");
}

Test(scale, stats_json_and_watch)
{
        char *id = lc_create("exec sleep 300", "--timeout", "0s", NULL);
        struct run_result r;

        json_t *arr = ps_json_when(id, 2);
        json_decref(arr);
        json_t *o = stats_json(id);
        assert_stats_fields(o, id, 2);
        json_decref(o);

        /* Two refreshes a second apart, no terminal escapes on a pipe. */
        cr_assert_eq(lc_sbx(&r, "stats", "--watch", "--count", "2", id, NULL), 0, "%s", r.err);
        cr_assert_eq(count_lines(r.out), 2, "%s", r.out);
        cr_assert(strncmp(r.out, id, SBX_ID_LEN) == 0, "%s", r.out);
        cr_assert(strncmp(strchr(r.out, '\n') + 1, id, SBX_ID_LEN) == 0, "%s", r.out);
        cr_assert(strstr(r.out, "pids 2 (peak ") && !strchr(r.out, '\033'), "%s", r.out);
        cr_assert(r.seconds >= 0.9 && r.seconds < 10, "%.2f s", r.seconds);
        sbx_test_result_free(&r);
        cr_assert_eq(lc_sbx(&r, "stats", "--json", "--watch", "--count", "2", id, NULL), 0);
        json_error_t je;
        o = json_loads(r.out, JSON_DISABLE_EOF_CHECK, &je);
        cr_assert_not_null(o, "%s", r.out);
        assert_stats_fields(o, id, 2);
        json_t *o2 = json_loads(r.out + je.position, 0, NULL);
        cr_assert_not_null(o2, "second sample: %s", r.out + je.position);
        assert_stats_fields(o2, id, 2);
        json_decref(o);
        json_decref(o2);
        sbx_test_result_free(&r);

        cr_assert_eq(lc_sbx(&r, "stats", "--watch", "--count", "0", id, NULL), 2);
        cr_assert(strstr(r.err, "stats: --count: expected a positive number, not '0'"), "%s",
                  r.err);
        sbx_test_result_free(&r);
        cr_assert_eq(lc_sbx(&r, "stats", "--count", "2", id, NULL), 2);
        cr_assert(strstr(r.err, "stats: --count needs --watch"), "%s", r.err);
        sbx_test_result_free(&r);
        /* A watch without --count ends (6) when the sandbox stops. */
        char *watch[] = { (char *)sbx_test_binary(), (char *)"stats", (char *)"--watch", id,
                          NULL };
        struct job w;
        job_start(&w, watch);
        for (int i = 0; i < 200 && lseek(w.out, 0, SEEK_END) == 0; i++)
                poll(NULL, 0, 50);
        cr_assert_gt(lseek(w.out, 0, SEEK_END), 0, "the first sample");
        cr_assert_eq(lc_sbx(&r, "stop", "--time", "0", id, NULL), 0, "%s", r.err);
        sbx_test_result_free(&r);
        char *wout, *werr;
        cr_assert_eq(job_finish(&w, now_s() + 10, &wout, &werr), 6, "%s", werr);
        cr_assert(strstr(werr, "is not running (stopped"), "%s", werr);
        free(wout);
        free(werr);
        char want[128];
        /* --time 0: TERM, then KILL at once; either may end the command. */
        snprintf(want, sizeof(want),
                 "sandboxctl: stats: sandbox %s is not running (stopped: stopped (killed by "
                 "signal ", id);
        cr_assert_eq(lc_sbx(&r, "stats", "--json", id, NULL), 6, "%s", r.out);
        cr_assert(strncmp(r.err, want, strlen(want)) == 0, "%s", r.err);
        cr_assert(strcmp(r.err + strlen(want), "9))\n") == 0 ||
                          strcmp(r.err + strlen(want), "15))\n") == 0,
                  "%s", r.err);
        cr_assert_str_eq(r.out, "");
        sbx_test_result_free(&r);
        cr_assert_eq(lc_sbx(&r, "destroy", id, NULL), 0, "%s", r.err);
        sbx_test_result_free(&r);
        free(id);
}

/* Is host pid `pid` in the cgroup `cg` of the pids and memory hierarchies
 * (v1) or the unified one (v2), as /proc/PID/cgroup says? */
static bool pid_in_cgroup(int pid, const char *id)
{
        char path[64], want[SBX_ID_LEN + 2];
        int hits = 0, lines = 0;
        bool v2_in = false;

        snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
        snprintf(want, sizeof(want), "/%s", id);
        char *text = rt_read_file(path);
        for (char *l = strtok(text, "\n"); l; l = strtok(NULL, "\n")) {
                size_t n = strlen(l);
                bool in = n >= strlen(want) && strcmp(l + n - strlen(want), want) == 0;
                if (strncmp(l, "0::", 3) == 0)
                        v2_in = in;
                else if (strstr(l, ":pids:") || strstr(l, ":memory:")) {
                        lines++;
                        hits += in;
                }
        }
        free(text);
        return lines > 0 ? hits == lines : v2_in;
}

static json_t *ps_entry(json_t *arr, int inner_pid)
{
        size_t i;
        json_t *e;

        json_array_foreach(arr, i, e)
                if (json_integer_value(json_object_get(e, "pid")) == inner_pid)
                        return e;
        cr_assert_fail("no process with pid %d inside", inner_pid);
        return NULL;
}

static void assert_ps_entry(json_t *e, int ppid, const char *command, const char *id)
{
        int host = (int)jint(e, "host_pid");
        const char *state = json_string_value(json_object_get(e, "state"));

        cr_assert_eq(jint(e, "ppid"), ppid, "%s", command);
        cr_assert(state && strlen(state) == 1 && strchr("RSD", state[0]), "%s: state %s",
                  command, state);
        cr_assert_gt(jint(e, "rss_bytes"), 0, "%s", json_dumps(e, 0));
        cr_assert_geq(jint(e, "cpu_ms"), 0);
        if (command)
                cr_assert_str_eq(json_string_value(json_object_get(e, "command")), command);
        cr_assert(lc_pid_alive(host), "%s: host pid %d", command, host);
        cr_assert(pid_in_cgroup(host, id), "host pid %d (%s) is not in %s's cgroup", host,
                  command, id);
}

/* ps --json: init (pid 1), sh (2), sleep (3), with host pids that are
 * really in the sandbox's cgroup. */
Test(scale, ps_json_lists_the_sandbox_processes)
{
        set_sleep_arg();
        char script[64], sleep_cmd[64];
        snprintf(script, sizeof(script), "sleep %s & wait", sleep_arg);
        snprintf(sleep_cmd, sizeof(sleep_cmd), "sleep %s", sleep_arg);
        char *id = lc_create(script, "--timeout", "0s", NULL);
        struct run_result r;

        json_t *arr = NULL;
        for (int i = 0; i < 200; i++) { /* until sh has forked and exec'd the sleep */
                json_decref(arr);
                arr = ps_json_when(id, 3);
                const char *c = json_string_value(json_object_get(ps_entry(arr, 3), "command"));
                if (c && strcmp(c, sleep_cmd) == 0)
                        break;
                poll(NULL, 0, 50);
        }
        json_t *init = ps_entry(arr, 1);
        json_t *info = lc_info(id);
        cr_assert_eq(jint(init, "host_pid"), jint(info, "init_pid"));
        cr_assert_eq(jint(init, "host_ppid"), jint(info, "pid"), "init's parent: the supervisor");
        assert_ps_entry(init, 0, NULL, id);
        char sh_cmd[128];
        snprintf(sh_cmd, sizeof(sh_cmd), "/bin/sh -c %s", script);
        assert_ps_entry(ps_entry(arr, 2), 1, sh_cmd, id);
        assert_ps_entry(ps_entry(arr, 3), 2, sleep_cmd, id);
        cr_assert_eq(jint(ps_entry(arr, 3), "host_ppid"), jint(ps_entry(arr, 2), "host_pid"));
        char *procs = cgroup_procs(json_string_value(json_object_get(info, "cgroup")));
        cr_assert_eq(count_lines(procs), 3, "%s", procs);
        free(procs);
        json_decref(info);
        json_decref(arr);

        cr_assert_eq(lc_sbx(&r, "ps", id, NULL), 0, "%s", r.err);
        cr_assert_eq(count_lines(r.out), 4, "a header and 3 processes: %s", r.out);
        cr_assert(strstr(r.out, sleep_cmd), "%s", r.out);
        sbx_test_result_free(&r);
        cr_assert_eq(lc_sbx(&r, "destroy", "--time", "0", id, NULL), 0, "%s", r.err);
        sbx_test_result_free(&r);
        cr_assert_eq(lc_sbx(&r, "ps", id, NULL), 3);
        sbx_test_result_free(&r);
        free(id);
}

SBX_TEST_MAIN(SBX_NEED_ROOT)
