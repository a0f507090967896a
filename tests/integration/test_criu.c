/* CRIU checkpoint/restore of a real process tree (root; CRIU must work).
 *
 * A counter (criu-counter) runs as pid 1 of its own pid and UTS namespaces,
 * in a cgroup of its own. It is dumped with the cgroup frozen, and restored:
 * it keeps its pid inside the namespace, its hostname and its count.
 *
 * Where CRIU cannot run (Debian 12's CRIU 3.17 on kernels >= 6.13), the
 * binary skips with CRIU's own reason, even with SBX_TESTS_MUST_RUN=1: the
 * requirement is enforced where CRIU can work, in the VM lane (SBX_VM=1) or
 * with SBX_TESTS_NEED_CRIU=1, where a failing probe is a failure. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "lifecycle_helpers.h"
#include "run_helpers.h"
#include "sandboxctl/cgroup.h"
#include "sandboxctl/snapshot.h"

#define HOSTNAME "criu-box"

struct counter {
        char dir[64];
        char log[128];
        char images[128];
        struct sbx_cgroup *cg;
        pid_t pid; /* the counter, pid 1 inside */
};

static double now_s(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The last count in the log, 0 if none; its pid and hostname. */
static unsigned long last_count(const struct counter *c, int *ret_pid, char *ret_host)
{
        FILE *f = fopen(c->log, "r");
        unsigned long n = 0, prev = 0, x;
        int pid = 0;
        char host[64] = "";
        if (!f)
                return 0;
        while (fscanf(f, "%lu %d %63s", &x, &pid, host) == 3) {
                cr_assert_eq(x, prev + 1, "count %lu follows %lu: the counter restarted", x, prev);
                prev = n = x;
                if (ret_pid)
                        *ret_pid = pid;
                if (ret_host)
                        strcpy(ret_host, host);
        }
        fclose(f);
        return n;
}

static unsigned long wait_count_above(const struct counter *c, unsigned long n)
{
        double end = now_s() + 20;
        unsigned long x;
        while ((x = last_count(c, NULL, NULL)) <= n) {
                cr_assert_lt(now_s(), end, "the counter stayed at %lu for 20 s", x);
                usleep(5000);
        }
        return x;
}

/* Reap pid (our child, or reparented to us as subreaper) within 10 s. */
static void reap(pid_t pid)
{
        double end = now_s() + 10;
        while (waitpid(pid, NULL, WNOHANG) == 0) {
                cr_assert_lt(now_s(), end, "pid %d did not end", (int)pid);
                usleep(5000);
        }
}

/* Child: new pid and UTS namespaces; its child (pid 1, a session of its
 * own) runs the counter; it reports that pid on fd and exits. */
static void spawn_in_namespaces(const struct counter *c, int release_fd, int report_fd)
{
        char go;
        if (read(release_fd, &go, 1) != 1 || unshare(CLONE_NEWPID | CLONE_NEWUTS) < 0 || sethostname(HOSTNAME, strlen(HOSTNAME)) < 0)
                _exit(1);
        pid_t pid = fork();
        if (pid == 0) {
                /* CRIU wants the session leader inside the pid namespace. */
                if (setsid() < 0)
                        _exit(1);
                int null = open("/dev/null", O_RDWR);
                dup2(null, 0), dup2(null, 1), dup2(null, 2);
                char counter[512];
                snprintf(counter, sizeof(counter), "%s/tests/integration/criu-counter",
                         getenv("SBX_BUILD_ROOT"));
                execl(counter, counter, c->log, (char *)NULL);
                _exit(127);
        }
        _exit(write(report_fd, &pid, sizeof(pid)) == sizeof(pid) ? 0 : 1);
}

static void start_counter(struct counter *c)
{
        cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
        strcpy(c->dir, "/tmp/sbx-criu.XXXXXX");
        cr_assert_not_null(mkdtemp(c->dir));
        snprintf(c->log, sizeof(c->log), "%s/count", c->dir);
        snprintf(c->images, sizeof(c->images), "%s/images", c->dir);
        cr_assert_eq(mkdir(c->images, 0700), 0);
        char id[64];
        snprintf(id, sizeof(id), "criu-test-%d", (int)getpid());
        sbx_autoerror err = NULL;
        cr_assert_eq(sbx_cgroup_create(NULL, id, NULL, &c->cg, &err), 0, "%s",
                     err ? err->message : "");
        int release[2], report[2];
        cr_assert_eq(pipe2(release, O_CLOEXEC), 0);
        cr_assert_eq(pipe2(report, O_CLOEXEC), 0);
        pid_t child = fork();
        cr_assert_geq(child, 0);
        if (child == 0)
                spawn_in_namespaces(c, release[0], report[1]);
        cr_assert_eq(sbx_cgroup_attach(c->cg, child, NULL), 0);
        cr_assert_eq(write(release[1], "x", 1), 1);
        cr_assert_eq(read(report[0], &c->pid, sizeof(c->pid)), sizeof(c->pid));
        close(release[0]), close(release[1]), close(report[0]), close(report[1]);
        reap(child);
        wait_count_above(c, 5);
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
        (void)st, (void)flag, (void)f;
        return remove(p);
}

static void stop_counter(struct counter *c)
{
        if (c->pid > 0 && kill(c->pid, SIGKILL) == 0)
                reap(c->pid);
        if (c->cg) {
                sbx_cgroup_destroy(c->cg, NULL);
                sbx_cgroup_free(c->cg);
        }
        nftw(c->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* CRIU's log, on stderr, when a step failed. */
static void show_log(const struct counter *c, const char *name)
{
        char path[256], line[512];
        snprintf(path, sizeof(path), "%s/%s", c->images, name);
        FILE *f = fopen(path, "r");
        while (f && fgets(line, sizeof(line), f))
                if (strstr(line, "Error") || strstr(line, "Warn"))
                        fprintf(stderr, "%s: %s", name, line);
        if (f)
                fclose(f);
}

static const char *freezer_of(const struct sbx_cgroup *cg)
{
        static char path[4096];
        for (const char *const *d = sbx_cgroup_dirs(cg); *d; d++) {
                snprintf(path, sizeof(path), "%s/cgroup.freeze", *d);
                if (access(path, F_OK) == 0)
                        return *d;
                snprintf(path, sizeof(path), "%s/freezer.state", *d);
                if (access(path, F_OK) == 0)
                        return *d;
        }
        return NULL;
}

static int ns_pid(pid_t pid)
{
        char path[64], line[256];
        snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
        FILE *f = fopen(path, "r");
        int inner = -1;
        while (f && fgets(line, sizeof(line), f))
                if (strncmp(line, "NSpid:", 6) == 0) {
                        char *last = strrchr(line, '\t');
                        inner = last ? atoi(last + 1) : -1;
                }
        if (f)
                fclose(f);
        return inner;
}

Test(criu, dump_and_restore_a_counter)
{
        struct counter c = { 0 };
        start_counter(&c);
        const char *freezer = freezer_of(c.cg);
        cr_assert_not_null(freezer, "no freezer for the cgroup");
        struct sbx_criu_dump_opts d = { .pid = c.pid, .images_dir = c.images, .freezer = freezer };
        sbx_autoerror err = NULL;
        int r = sbx_criu_dump(&d, &err);
        if (r < 0)
                show_log(&c, "dump.log");
        cr_assert_eq(r, 0, "%s", err ? err->message : "");
        reap(c.pid); /* the dump ended the tree */
        int pid_inside = 0;
        char host[64] = "";
        unsigned long stopped = last_count(&c, &pid_inside, host);
        cr_assert_eq(pid_inside, 1);
        cr_assert_str_eq(host, HOSTNAME);

        struct sbx_criu_restore_opts ro = { .images_dir = c.images };
        sbx_autoerror err2 = NULL;
        pid_t pid = 0;
        int rr = sbx_criu_restore(&ro, &pid, &err2);
        if (rr < 0)
                show_log(&c, "restore.log");
        cr_assert_eq(rr, 0, "%s", err2 ? err2->message : "");
        c.pid = pid;
        cr_assert_eq(ns_pid(pid), 1, "the restored counter is not pid 1 in its namespace");
        unsigned long resumed = wait_count_above(&c, stopped + 2);
        cr_assert_gt(resumed, stopped);
        pid_inside = 0;
        last_count(&c, &pid_inside, host); /* asserts the counts are consecutive */
        cr_assert_eq(pid_inside, 1);
        cr_assert_str_eq(host, HOSTNAME);
        stop_counter(&c);
}

Test(criu, leave_running_keeps_counting)
{
        struct counter c = { 0 };
        start_counter(&c);
        struct sbx_criu_dump_opts d = { .pid = c.pid, .images_dir = c.images,
                                        .freezer = freezer_of(c.cg), .leave_running = true };
        sbx_autoerror err = NULL;
        int r = sbx_criu_dump(&d, &err);
        if (r < 0)
                show_log(&c, "dump.log");
        cr_assert_eq(r, 0, "%s", err ? err->message : "");
        unsigned long n = last_count(&c, NULL, NULL);
        wait_count_above(&c, n + 2);
        cr_assert_eq(kill(c.pid, 0), 0);
        struct stat st;
        char inv[256];
        snprintf(inv, sizeof(inv), "%s/inventory.img", c.images);
        cr_assert_eq(stat(inv, &st), 0, "no inventory.img in the images");
        stop_counter(&c);
}

Test(criu, dump_of_a_missing_pid_names_criu_error)
{
        char dir[] = "/tmp/sbx-criu-missing.XXXXXX";
        cr_assert_not_null(mkdtemp(dir));
        struct sbx_criu_dump_opts d = { .pid = 999999, .images_dir = dir };
        sbx_autoerror err = NULL;
        int r = sbx_criu_dump(&d, &err);
        nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        cr_assert_lt(r, 0);
        cr_assert(strncmp(err->message, "criu dump of pid 999999: ", 25) == 0, "%s", err->message);
        cr_assert(strstr(err->message, "(log: /tmp/sbx-criu-missing."), "%s", err->message);
}

/* ---- Full checkpoints of sandboxes (sandboxctl create / checkpoint) ---- */

static char sb_base[64], sb_ws[96], sb_data[96];

static void sb_setup(void)
{
        lc_setup();
        snprintf(sb_base, sizeof(sb_base), "/tmp/sbx-criu-sb.XXXXXX");
        cr_assert_not_null(mkdtemp(sb_base));
        snprintf(sb_ws, sizeof(sb_ws), "%s/ws", sb_base);
        snprintf(sb_data, sizeof(sb_data), "%s/data", sb_base);
        cr_assert_eq(mkdir(sb_ws, 0755), 0);
        cr_assert_eq(mkdir(sb_data, 0700), 0);
        setenv("SANDBOXCTL_DATA_DIR", sb_data, 1);
        /* The counter runs from the workspace: the build dir may not be
         * visible inside the sandbox. */
        char src[512], dst[256], cmd[1024];
        snprintf(src, sizeof(src), "%s/tests/integration/criu-counter", getenv("SBX_BUILD_ROOT"));
        snprintf(dst, sizeof(dst), "%s/criu-counter", sb_ws);
        snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", src, dst);
        cr_assert_eq(system(cmd), 0, "%s", cmd);
}

static void sb_teardown(void)
{
        lc_teardown();
        nftw(sb_base, rm_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

TestSuite(criu_sandbox, .init = sb_setup, .fini = sb_teardown, .timeout = 300);

/* The counter's log in the workspace, as a struct counter for last_count. */
static struct counter sb_counter(void)
{
        struct counter c = { 0 };
        snprintf(c.log, sizeof(c.log), "%s/count", sb_ws);
        return c;
}

static char *create_counter(const char *name)
{
        return lc_create("exec ./criu-counter count", "--name", name, "-w", sb_ws, "--timeout",
                         "0s", "--hostname", HOSTNAME, NULL);
}

/* The count does not move for 0.5 s (the counter writes every 20 ms). */
static void expect_stopped(const struct counter *c)
{
        unsigned long n = last_count(c, NULL, NULL);
        struct timespec ts = { 0, 500 * 1000 * 1000 };
        nanosleep(&ts, NULL);
        cr_assert_eq(last_count(c, NULL, NULL), n, "the counter went on after the checkpoint");
}

/* The error lines of the CRIU log named in a "(log: PATH)" message. */
static void show_named_log(const char *msg)
{
        const char *p = msg ? strstr(msg, "(log: ") : NULL;
        char path[512], line[512];
        if (!p)
                return;
        snprintf(path, sizeof(path), "%.*s", (int)strcspn(p + 6, ")"), p + 6);
        FILE *f = fopen(path, "r");
        while (f && fgets(line, sizeof(line), f))
                if (strstr(line, "Error") || strstr(line, "Warn"))
                        fprintf(stderr, "%s: %s", path, line);
        if (f)
                fclose(f);
}

static void sbx_expect(int want, const char *what, struct run_result *r, int got)
{
        if (got != want)
                show_named_log(r->err);
        cr_assert_eq(got, want, "%s: exit %d, want %d: %s", what, got, want, r->err);
        sbx_test_result_free(r);
}

static json_t *sb_snapshots(const char *id)
{
        struct run_result r;
        cr_assert_eq(lc_sbx(&r, "snapshots", "--json", id, NULL), 0, "%s", r.err);
        json_t *a = json_loads(r.out, 0, NULL);
        cr_assert(json_is_array(a), "snapshots --json printed %s", r.out);
        sbx_test_result_free(&r);
        return a;
}

Test(criu_sandbox, checkpoint_leave_running_then_stop)
{
        struct run_result r;
        struct counter c = sb_counter();
        char *id = create_counter("ck1");
        unsigned long n = wait_count_above(&c, 5);

        sbx_expect(0, "checkpoint --leave-running", &r,
                   lc_sbx(&r, "checkpoint", "--leave-running", "--name", "first", id, NULL));
        char *st = lc_status(id);
        cr_assert_str_eq(st, "running");
        free(st);
        n = wait_count_above(&c, n + 5);

        sbx_expect(0, "checkpoint", &r, lc_sbx(&r, "checkpoint", id, NULL));
        cr_assert(lc_wait_status(id, "stopped", 30), "stopped after the checkpoint");
        expect_stopped(&c);
        json_t *a = sb_snapshots(id);
        cr_assert_eq(json_array_size(a), 2);
        for (size_t i = 0; i < 2; i++)
                cr_assert_str_eq(json_string_value(json_object_get(json_array_get(a, i), "kind")),
                                 "full");
        json_decref(a);
        sbx_expect(0, "destroy", &r, lc_sbx(&r, "destroy", "--time", "0", id, NULL));
        free(id);
}

/* memory.max (v2) or memory.limit_in_bytes (v1) of the sandbox's cgroup. */
static void memory_limit(const char *id, char *buf, size_t len)
{
        json_t *o = lc_info(id);
        const char *cg = json_string_value(json_object_get(o, "cgroup"));
        char path[512];
        buf[0] = '\0';
        cr_assert_not_null(cg, "info --json has a cgroup");
        /* Absolute on cgroup v2, relative to the hierarchy on v1. */
        snprintf(path, sizeof(path), "%s%s/memory.max",
                 strncmp(cg, "/sys/fs/cgroup/", 15) == 0 ? "" : "/sys/fs/cgroup", cg);
        FILE *f = fopen(path, "r");
        if (!f) {
                snprintf(path, sizeof(path), "/sys/fs/cgroup/memory%s/memory.limit_in_bytes", cg);
                f = fopen(path, "r");
        }
        cr_assert_not_null(f, "open %s", path);
        cr_assert_not_null(fgets(buf, (int)len, f));
        fclose(f);
        json_decref(o);
}

/* checkpoint (stops it), restore: the counter goes on from the same count,
 * with the same pid inside, the same hostname and the same memory limit. */
Test(criu_sandbox, restore_continues_the_counter)
{
        struct run_result r;
        struct counter c = sb_counter();
        char *id = create_counter("ck2");
        wait_count_above(&c, 5);
        char limit[64], limit2[64];
        memory_limit(id, limit, sizeof(limit));

        sbx_expect(0, "checkpoint", &r, lc_sbx(&r, "checkpoint", id, NULL));
        cr_assert(lc_wait_status(id, "stopped", 30), "stopped after the checkpoint");
        expect_stopped(&c);
        int pid = 0;
        char host[64] = "";
        unsigned long n = last_count(&c, &pid, host);

        sbx_expect(0, "restore", &r, lc_sbx(&r, "restore", id, NULL));
        char *st = lc_status(id);
        cr_assert_str_eq(st, "running");
        free(st);
        /* last_count asserts that every count follows the one before. */
        wait_count_above(&c, n + 5);
        int pid2 = 0;
        char host2[64] = "";
        last_count(&c, &pid2, host2);
        cr_assert_eq(pid2, pid, "pid inside: %d after the restore, %d before", pid2, pid);
        cr_assert_str_eq(host2, HOSTNAME);
        memory_limit(id, limit2, sizeof(limit2));
        cr_assert_str_eq(limit2, limit, "the memory limit after the restore");
        cr_assert_eq(lc_count_events(id, "restored"), 1);
        sbx_expect(0, "destroy", &r, lc_sbx(&r, "destroy", "--time", "0", id, NULL));
        free(id);
}

/* A dir named .tmp-criu-* in the store (a full checkpoint is dumping). */
static bool dumping(const char *store)
{
        DIR *d = opendir(store);
        struct dirent *de;
        bool found = false;
        while (d && !found && (de = readdir(d)))
                found = strncmp(de->d_name, ".tmp-criu-", 10) == 0;
        if (d)
                closedir(d);
        return found;
}

/* The supervisor killed in the middle of a full checkpoint: no version is
 * left (the temp images are no version, and nothing lists them), and the
 * sandbox is gone with its cgroup, frozen or not (gc; lc_teardown checks
 * that no cgroup is left). */
Test(criu_sandbox, killed_during_a_full_checkpoint_leaves_no_half_version)
{
        struct run_result r;
        struct counter c = sb_counter();
        char *id = create_counter("ck3");
        wait_count_above(&c, 5);
        json_t *info = lc_info(id);
        int sv = (int)json_integer_value(json_object_get(info, "pid"));
        json_decref(info);
        char store[256], v1[300];
        snprintf(store, sizeof(store), "%s/%s/snapshots", sb_data, id);
        snprintf(v1, sizeof(v1), "%s/1", store);

        char *argv[] = { (char *)sbx_test_binary(), "checkpoint", id, NULL };
        pid_t cli = fork();
        cr_assert_geq(cli, 0);
        if (cli == 0) {
                int null = open("/dev/null", O_WRONLY);
                dup2(null, 1), dup2(null, 2);
                execv(argv[0], argv);
                _exit(127);
        }
        double end = now_s() + 60;
        while (!dumping(store) && access(v1, F_OK) < 0 && now_s() < end)
                usleep(1000);
        bool caught = dumping(store) && access(v1, F_OK) < 0;
        kill(sv, SIGKILL);
        kill(cli, SIGKILL);
        waitpid(cli, NULL, 0);
        /* Not caught in time: nothing was tested. A skip where that may
         * happen, a failure in CI (SBX_TESTS_MUST_RUN=1). */
        SBX_TEST_SKIP_IF(!caught, "the checkpoint ended before it could be interrupted");
        cr_assert(rt_wait_no_process_with_arg(id, 30) || !lc_pid_alive(sv));
        cr_assert(access(v1, F_OK) < 0, "no version 1");
        cr_assert_eq(lc_sbx(&r, "snapshots", "--json", id, NULL), 0, "%s", r.err);
        cr_assert_str_eq(r.out, "[]\n", "a half version is never listed");
        sbx_test_result_free(&r);
        sbx_expect(0, "gc", &r, lc_sbx(&r, "gc", NULL));
        free(id);
}

/* The command killed in the middle of a full checkpoint: the supervisor
 * finishes it, the cgroup is thawed (the counter goes on) and the sandbox
 * keeps running (the stop was the command's to ask), with one whole
 * version. */
Test(criu_sandbox, command_killed_during_a_checkpoint_leaves_it_thawed)
{
        struct run_result r;
        struct counter c = sb_counter();
        char *id = create_counter("ck5");
        wait_count_above(&c, 5);
        char store[256];
        snprintf(store, sizeof(store), "%s/%s/snapshots", sb_data, id);
        char *argv[] = { (char *)sbx_test_binary(), "checkpoint", id, NULL };
        pid_t cli = fork();
        cr_assert_geq(cli, 0);
        if (cli == 0) {
                int null = open("/dev/null", O_WRONLY);
                dup2(null, 1), dup2(null, 2);
                execv(argv[0], argv);
                _exit(127);
        }
        double end = now_s() + 60;
        while (!dumping(store) && now_s() < end)
                usleep(1000);
        kill(cli, SIGKILL);
        waitpid(cli, NULL, 0);
        cr_assert(lc_wait_status(id, "running", 60), "running again after the checkpoint");
        wait_count_above(&c, last_count(&c, NULL, NULL) + 5);
        json_t *a = sb_snapshots(id);
        cr_assert_leq(json_array_size(a), 1);
        json_decref(a);
        cr_assert_not(dumping(store), "no temp images left");
        sbx_expect(0, "destroy", &r, lc_sbx(&r, "destroy", "--time", "0", id, NULL));
        free(id);
}

/* rollback to a full version: files and processes back (the counter goes
 * on from that version's count); the state before is saved as a full
 * version, and rolling back to it undoes the rollback. */
Test(criu_sandbox, rollback_brings_files_and_processes_back_and_is_undone)
{
        struct run_result r;
        struct counter c = sb_counter();
        char extra[256];
        snprintf(extra, sizeof(extra), "%s/extra", sb_ws);
        char *id = create_counter("ck4");
        unsigned long n = wait_count_above(&c, 5);
        sbx_expect(0, "checkpoint", &r,
                   lc_sbx(&r, "checkpoint", "--leave-running", "--name", "one", id, NULL));
        n = wait_count_above(&c, n + 25);
        FILE *f = fopen(extra, "w");
        cr_assert_not_null(f);
        fclose(f);

        cr_assert_eq(lc_sbx(&r, "rollback", "--version", "one", id, NULL), 0, "%s", r.err);
        cr_assert(strstr(r.out, "saved as 2"), "%s", r.out);
        sbx_test_result_free(&r);
        /* The file is version 1's and the counter goes on from version 1's
         * count: last_count asserts that no count is missing or repeated,
         * which a file or a process of another time would break. */
        cr_assert(access(extra, F_OK) < 0, "a file written after version 1 is gone");
        wait_count_above(&c, last_count(&c, NULL, NULL) + 5);

        sbx_expect(0, "rollback to 2", &r, lc_sbx(&r, "rollback", "--version", "2", id, NULL));
        cr_assert(access(extra, F_OK) == 0, "the rollback was undone: the file is back");
        cr_assert_geq(last_count(&c, NULL, NULL), n, "the count file is version 2's");
        wait_count_above(&c, last_count(&c, NULL, NULL) + 5);
        json_t *a = sb_snapshots(id);
        cr_assert_eq(json_array_size(a), 3);
        cr_assert_str_eq(json_string_value(json_object_get(json_array_get(a, 1), "kind")),
                         "full");
        json_decref(a);
        cr_assert_eq(lc_count_events(id, "rolled_back"), 2);
        sbx_expect(0, "destroy", &r, lc_sbx(&r, "destroy", "--time", "0", id, NULL));
        free(id);
}

/* ---- Benchmark: sandboxctl checkpoint/restore vs raw criu, same tree ---- */

static double run_timed(const char *cmd)
{
        double t0 = now_s();
        int rc = system(cmd);
        cr_assert_eq(rc, 0, "%s: status %d", cmd, rc);
        return now_s() - t0;
}

static double sbx_timed(const char *args)
{
        char cmd[1024];
        snprintf(cmd, sizeof(cmd), "'%s' %s >/dev/null", sbx_test_binary(), args);
        return run_timed(cmd);
}

/* Idle sandbox (the counter): `checkpoint --leave-running` against `criu
 * dump --leave-running` of the same tree with the same options, and
 * `restore` against `criu restore` of the same images on the same root;
 * medians of 3. Printed as "BENCH name seconds" lines (docs/benchmarks.md).
 * Only with SBX_CRIU_BENCH=1 (tools/bench-criu runs it in the VM lane): it
 * takes minutes under emulation. */
Test(criu_sandbox, bench_idle_checkpoint_and_restore)
{
        const char *on = getenv("SBX_CRIU_BENCH");
        if (!on || strcmp(on, "1") != 0)
                cr_skip_test("set SBX_CRIU_BENCH=1 to measure (tools/bench-criu)");
        struct run_result r;
        struct counter c = sb_counter();
        char *id = create_counter("bench");
        wait_count_above(&c, 5);
        json_t *info = lc_info(id);
        int init = (int)json_integer_value(json_object_get(info, "init_pid"));
        char cg[512];
        const char *cgp = json_string_value(json_object_get(info, "cgroup"));
        snprintf(cg, sizeof(cg), "%s%s", strncmp(cgp, "/sys/fs/cgroup/", 15) == 0 ? "" :
                 "/sys/fs/cgroup", cgp);
        json_decref(info);
        double ck[3], raw_dump[3], rs[3], raw_rs[3];
        char cmd[2048], args[256];
        for (int i = 0; i < 3; i++) {
                snprintf(args, sizeof(args), "checkpoint --leave-running %s", id);
                ck[i] = sbx_timed(args);
                snprintf(cmd, sizeof(cmd),
                         "d=%s/raw%d && mkdir -p $d && criu dump -t %d -D $d -o dump.log "
                         "--leave-running --freeze-cgroup %s --manage-cgroups --file-locks "
                         "--network-lock nftables --ext-mount-map auto --enable-external-sharing "
                         "--enable-external-masters",
                         sb_base, i, init, cg);
                raw_dump[i] = run_timed(cmd);
        }
        for (int i = 0; i < 3; i++) {
                snprintf(args, sizeof(args), "stop --time 0 %s", id);
                sbx_timed(args);
                snprintf(args, sizeof(args), "restore --version 1 %s", id);
                rs[i] = sbx_timed(args);
        }
        sbx_expect(0, "stop", &r, lc_sbx(&r, "stop", "--time", "0", id, NULL));
        /* Raw: the images of version 1 on a copy of its root skeleton, in
         * the sandbox's cgroup (criu makes it again), killed after. */
        for (int i = 0; i < 3; i++) {
                snprintf(cmd, sizeof(cmd),
                         "v=%s/%s/snapshots/1/criu && r=%s/rawroot%d && cp -a $v/root $r && "
                         "criu restore -D $v -W %s -o raw-restore%d.log --root $r "
                         "--restore-detached --manage-cgroups --file-locks --ext-mount-map auto "
                         "--enable-external-sharing --enable-external-masters "
                         "--pidfile %s/raw%d.pid",
                         sb_data, id, sb_base, i, sb_base, i, sb_base, i);
                raw_rs[i] = run_timed(cmd);
                /* It may be gone already: its init dies with its parent. */
                snprintf(cmd, sizeof(cmd), "kill -9 $(cat %s/raw%d.pid) 2>/dev/null || true",
                         sb_base, i);
                run_timed(cmd);
                snprintf(cmd, sizeof(cmd), "%s/cgroup.procs", cg);
                double end = now_s() + 10;
                for (FILE *f; (f = fopen(cmd, "r")) && fgetc(f) != EOF && now_s() < end;)
                        fclose(f), usleep(10000);
        }
        double *sets[] = { ck, raw_dump, rs, raw_rs };
        const char *names[] = { "sandboxctl-checkpoint", "criu-dump", "sandboxctl-restore",
                                "criu-restore" };
        for (int k = 0; k < 4; k++) {
                double *v = sets[k], m;
                m = v[0] > v[1] ? (v[1] > v[2] ? v[1] : (v[0] > v[2] ? v[2] : v[0]))
                                : (v[0] > v[2] ? v[0] : (v[1] > v[2] ? v[2] : v[1]));
                printf("BENCH %s %.3f (%.3f %.3f %.3f)\n", names[k], m, v[0], v[1], v[2]);
                cr_log_info("BENCH %s %.3f s", names[k], m);
        }
        fflush(stdout);
        rmdir(cg); /* made again by the raw restores */
        sbx_expect(0, "destroy", &r, lc_sbx(&r, "destroy", "--time", "0", id, NULL));
        free(id);
}

static bool criu_required(void)
{
        const char *vm = getenv("SBX_VM"), *need = getenv("SBX_TESTS_NEED_CRIU");
        return (vm && strcmp(vm, "1") == 0) || (need && strcmp(need, "1") == 0);
}

static int criu_main(int argc, char **argv)
{
        if (geteuid() == 0) {
                sbx_autoerror err = NULL;
                char *version = NULL;
                if (sbx_criu_probe(&version, &err) < 0) {
                        if (criu_required()) {
                                fprintf(stderr, "FAIL: CRIU is required here: %s\n",
                                        err->message);
                                return 1;
                        }
                        printf("SKIP: %s (CRIU tests run in the VM lane)\n", err->message);
                        return 77;
                }
                free(version);
        }
        return sbx_test_main(argc, argv, SBX_NEED_ROOT);
}

/* The VM lane lists in /etc/sbx-vm/modules.criu the modules CRIU needs that
 * it does not load at boot (nf_tables: it slows the netns of every other
 * test). Load them for this binary, unload them after (best effort). */
#define VM_CRIU_MODULES "/etc/sbx-vm/modules.criu"

static void load_vm_modules(void)
{
        FILE *f = fopen(VM_CRIU_MODULES, "r");
        char line[512];
        while (f && fgets(line, sizeof(line), f)) {
                line[strcspn(line, "\n")] = '\0';
                int fd = open(line, O_RDONLY | O_CLOEXEC);
                if (fd < 0 || (syscall(SYS_finit_module, fd, "", 0) < 0 && errno != EEXIST))
                        fprintf(stderr, "load %s: %s\n", line, strerror(errno));
                if (fd >= 0)
                        close(fd);
        }
        if (f)
                fclose(f);
}

static void unload_vm_modules(void)
{
        char names[16][128];
        int n = 0;
        FILE *f = fopen(VM_CRIU_MODULES, "r");
        char line[512];
        while (f && n < 16 && fgets(line, sizeof(line), f)) {
                char *base = strrchr(line, '/');
                base = base ? base + 1 : line;
                base[strcspn(base, ".")] = '\0';
                snprintf(names[n++], sizeof(names[0]), "%.127s", base);
        }
        if (f)
                fclose(f);
        while (n-- > 0)
                syscall(SYS_delete_module, names[n], O_NONBLOCK);
}

int main(int argc, char **argv)
{
        if (geteuid() == 0 && criu_required())
                load_vm_modules();
        int r = criu_main(argc, argv);
        if (geteuid() == 0 && criu_required())
                unload_vm_modules();
        return r;
}
