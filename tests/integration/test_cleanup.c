/* test_cleanup: throwaway means throwaway. After every exit path of `run`
 * (normal exit, signal, timeout, set-up failure, SIGKILL of sandboxctl
 * followed by `sandboxctl gc`) no sandbox process is left, the host mount
 * table is unchanged, the sandbox's network namespace is gone, no cgroup
 * directory of the sandbox is left in any hierarchy and the state dir is
 * empty. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "run_helpers.h"

TestSuite(cleanup, .init = rt_setup, .fini = rt_teardown, .timeout = 60);

struct snapshot {
        char *mountinfo;
        char marker[64]; /* unique argument of the sandbox's background sleep */
};

static void snapshot_take(struct snapshot *s)
{
        s->mountinfo = rt_read_file("/proc/self/mountinfo");
        snprintf(s->marker, sizeof(s->marker), "3600.%d%ld", (int)getpid(), (long)time(NULL));
}

/* The script starts a background `sleep <marker>` (left to the kernel to
 * kill), prints the sandbox's netns link, then does `tail`. */
static char *script_with(const struct snapshot *s, const char *tail)
{
        char *script;
        cr_assert(asprintf(&script, "sleep %s & readlink /proc/self/ns/net; %s", s->marker, tail) >
                  0);
        return script;
}

/* Now, in the clock ticks of /proc/<pid>/stat's start time. */
static unsigned long long boot_ticks(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_BOOTTIME, &ts);
        long hz = sysconf(_SC_CLK_TCK);
        return (unsigned long long)ts.tv_sec * (unsigned long long)hz +
               (unsigned long long)ts.tv_nsec / (1000000000ULL / (unsigned long long)hz);
}

static unsigned long long start_ticks(const char *pid)
{
        char path[300];
        snprintf(path, sizeof(path), "/proc/%s/stat", pid);
        char *stat = rt_read_file(path);
        unsigned long long start = 0;
        char *p = stat ? strrchr(stat, ')') : NULL;
        /* field 22 (starttime) is the 20th after the ")" that ends comm */
        for (int field = 2; p && *p && field < 22; field++)
                p = strchr(p + 1, ' ');
        if (p)
                sscanf(p, " %llu", &start);
        free(stat);
        return start;
}

/* Is netns (e.g. "net:[4026532187]") the network namespace of a process
 * that started no later than `before` (boot ticks)? Namespace inode numbers
 * are reused at once (lowest free first), and other test suites make
 * network namespaces all the time: a process started after the sandbox was
 * gone is in a new namespace that got the same number, not in ours. */
static bool netns_held_by_older(const char *netns, unsigned long long before)
{
        DIR *d = opendir("/proc");
        struct dirent *de;
        bool found = false;
        while (d && !found && (de = readdir(d))) {
                if (de->d_name[0] < '0' || de->d_name[0] > '9')
                        continue;
                char path[300], link[128];
                snprintf(path, sizeof(path), "/proc/%s/ns/net", de->d_name);
                ssize_t n = readlink(path, link, sizeof(link) - 1);
                if (n <= 0)
                        continue;
                link[n] = '\0';
                found = strcmp(link, netns) == 0 && start_ticks(de->d_name) <= before;
        }
        if (d)
                closedir(d);
        return found;
}

/* The kernel frees a network namespace asynchronously, and its last
 * processes may still be on their way out when `run` returns: poll, for at
 * most 5 s. */
static bool netns_gone_within(const char *netns, double timeout_s)
{
        unsigned long long before = boot_ticks();
        struct timespec t0, now;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (;;) {
                if (!netns_held_by_older(netns, before))
                        return true;
                clock_gettime(CLOCK_MONOTONIC, &now);
                if ((double)(now.tv_sec - t0.tv_sec) + (now.tv_nsec - t0.tv_nsec) / 1e9 >
                    timeout_s)
                        return false;
                struct timespec ts = { 0, 10 * 1000 * 1000 };
                nanosleep(&ts, NULL); /* a bounded poll, not an ordering sleep */
        }
}

static void expect_nothing_left(const struct snapshot *s, const char *netns)
{
        cr_expect(rt_wait_no_process_with_arg(s->marker, 5), "a sandbox process survived");
        char *now = rt_read_file("/proc/self/mountinfo");
        cr_expect_str_eq(now, s->mountinfo, "the host mount table changed");
        free(now);
        if (netns && *netns)
                cr_expect(netns_gone_within(netns, 5), "%s is still in use after 5 s", netns);
        cr_expect(rt_state_dir_empty(), "state dir not empty");
        free(s->mountinfo);
}

static char *report_file(void)
{
        char *path;
        cr_assert(asprintf(&path, "%s/report.json", rt_workspace()) > 0);
        return path;
}

static void expect_no_cgroup(const char *report)
{
        char *id = rt_report_id(report);
        cr_expect_eq(rt_cgroup_dirs_named(id), 0, "a cgroup directory of %s is left", id);
        free(id);
}

static void run_and_check(const char *tail, const char *opt, const char *optval, int code)
{
        struct snapshot s;
        struct run_result r;
        snapshot_take(&s);
        char *script = script_with(&s, tail);
        char *report = report_file();
        cr_assert_eq(rt_run_sh(&r, script, "--report", report, opt, optval, NULL), 0);
        expect_no_cgroup(report);
        free(report);
        cr_expect_eq(r.exit_code, code, "exit %d; stderr: %s", r.exit_code, r.err);
        char netns[64] = "";
        sscanf(r.out, "%63s", netns);
        cr_expect(strncmp(netns, "net:[", 5) == 0, "netns link: '%s'", netns);
        expect_nothing_left(&s, netns);
        sbx_test_result_free(&r);
        free(script);
}

Test(cleanup, after_normal_exit)
{
        run_and_check("exit 0", NULL, NULL, 0);
}

Test(cleanup, after_signal)
{
        run_and_check("kill -KILL $$", NULL, NULL, 137);
}

/* The script must print its netns link before the timeout: 3 s leaves a
 * loaded machine room to start the sandbox and its shell. */
Test(cleanup, after_timeout)
{
        run_and_check("sleep 30", "--timeout", "3s", 124);
}

Test(cleanup, after_setup_failure)
{
        struct snapshot s;
        struct run_result r;
        snapshot_take(&s);
        char *report = report_file();
        cr_assert_eq(sbx_test_run_sbx(30, &r, "run", "--report", report, "--rootfs",
                                      "/nonexistent", "--", "sleep", s.marker, NULL),
                     0);
        cr_expect_eq(r.exit_code, 125, "stderr: %s", r.err);
        expect_no_cgroup(report);
        free(report);
        expect_nothing_left(&s, NULL);
        sbx_test_result_free(&r);
}

/* The one sandbox id in the state dir. */
static void only_state_entry(char *ret, size_t len)
{
        DIR *d = opendir(rt_state_dir());
        struct dirent *de;
        cr_assert_not_null(d);
        while ((de = readdir(d)))
                if (de->d_name[0] != '.' && strlen(de->d_name) < len)
                        memcpy(ret, de->d_name, strlen(de->d_name) + 1);
        closedir(d);
        cr_assert_eq(strlen(ret), 16, "state dir entry '%s'", ret);
}

Test(cleanup, after_sigkill_of_sandboxctl_then_gc)
{
        struct snapshot s;
        snapshot_take(&s);
        char *script = script_with(&s, "echo ready; wait");
        char *argv[] = { (char *)sbx_test_binary(), "run", "--", "sh", "-c", script, NULL };
        int out;
        pid_t pid = rt_spawn(argv, -1, &out);
        char buf[256] = "";
        cr_assert(rt_read_until(out, "ready\n", buf, sizeof(buf), 20), "no ready: %s", buf);
        cr_assert_eq(kill(pid, SIGKILL), 0);
        int status;
        cr_assert(rt_wait_pid(pid, 10, &status));
        cr_expect(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        close(out);
        /* The sandbox dies with its supervisor (PR_SET_PDEATHSIG). */
        cr_expect(rt_wait_no_process_with_arg(s.marker, 5), "the sandbox outlived sandboxctl");
        cr_expect(!rt_state_dir_empty(), "the dead supervisor's state should be left for gc");
        char id[64] = "";
        only_state_entry(id, sizeof(id));
        cr_expect_gt(rt_cgroup_dirs_named(id), 0, "the dead sandbox's cgroup should be left");

        struct run_result r;
        cr_assert_eq(sbx_test_run_sbx(30, &r, "gc", "--dry-run", NULL), 0);
        cr_expect_eq(r.exit_code, 0);
        cr_expect(strncmp(r.out, "would remove ", 13) == 0, "gc --dry-run: %s", r.out);
        cr_expect(!rt_state_dir_empty());
        sbx_test_result_free(&r);

        cr_assert_eq(sbx_test_run_sbx(30, &r, "gc", NULL), 0);
        cr_expect_eq(r.exit_code, 0, "gc stderr: %s", r.err);
        char expected[128];
        snprintf(expected, sizeof(expected), "(supervisor pid %d is gone)\n", (int)pid);
        cr_expect(strncmp(r.out, "removed ", 8) == 0 && strstr(r.out, expected),
                  "gc: %s", r.out);
        sbx_test_result_free(&r);

        cr_expect_eq(rt_cgroup_dirs_named(id), 0, "gc left a cgroup directory of %s", id);
        char netns[64] = "";
        sscanf(buf, "%63s", netns);
        expect_nothing_left(&s, netns);
        free(script);
}

Test(cleanup, gc_keeps_running_sandboxes_and_foreign_files)
{
        char path[512];
        /* Not a sandbox id: gc must not touch it. */
        snprintf(path, sizeof(path), "%s/not-a-sandbox", rt_state_dir());
        FILE *f = fopen(path, "we");
        cr_assert_not_null(f);
        fclose(f);
        char *argv[] = { (char *)sbx_test_binary(), "run", "--", "sh", "-c",
                         "echo ready; exec sleep 30", NULL };
        int out;
        pid_t pid = rt_spawn(argv, -1, &out);
        char buf[256] = "";
        cr_assert(rt_read_until(out, "ready\n", buf, sizeof(buf), 20));
        struct run_result r;
        cr_assert_eq(sbx_test_run_sbx(30, &r, "gc", "--json", NULL), 0);
        cr_expect_eq(r.exit_code, 0);
        cr_expect(strstr(r.out, "\"dead\": false") && strstr(r.out, "is running"), "gc: %s",
                  r.out);
        sbx_test_result_free(&r);
        cr_expect_eq(access(path, F_OK), 0);
        unlink(path);
        kill(pid, SIGTERM);
        int status;
        cr_assert(rt_wait_pid(pid, 10, &status));
        cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 128 + SIGTERM, "status 0x%x",
                  status);
        close(out);
}

SBX_TEST_MAIN(SBX_NEED_ROOT)

/* Where the default state dir is not in memory, the first run mounts a
 * tmpfs on it (while it is empty) and later runs use that one; nothing is
 * left in either. Tried in a private mount namespace, on a tmpfs /run with an
 * overlay on /run/sandboxctl (a file system that is not "in memory" by its
 * type, wherever the test runs): the host's /run is not touched. */
Test(cleanup, default_state_dir_goes_to_memory)
{
        struct run_result r;
        const char *script =
                "set -e; mount -t tmpfs sbx-test-run /run; mkdir /run/l /run/u /run/w "
                "/run/sandboxctl; mount -t overlay sbx-test-state "
                "-o lowerdir=/run/l,upperdir=/run/u,workdir=/run/w /run/sandboxctl; "
                "[ \"$(stat -f -c %T /run/sandboxctl)\" != tmpfs ] && echo disk; "
                "\"$1\" run -- /bin/true; stat -f -c %T /run/sandboxctl; "
                "ls -A /run/sandboxctl | wc -l; ls -A /run/u | wc -l; "
                "\"$1\" run -- /bin/true; grep -c ' /run/sandboxctl ' /proc/self/mountinfo";
        char *argv[] = { "unshare", "-m", "--propagation", "private", "env", "-u",
                         "SANDBOXCTL_STATE_DIR", "sh", "-c", (char *)script, "sh",
                         (char *)sbx_test_binary(), NULL };

        cr_assert_eq(sbx_test_run(argv, NULL, 60 * sbx_test_time_scale(), &r), 0);
        cr_assert_eq(r.exit_code, 0, "%s", r.err);
        /* not a tmpfs before; the tmpfs after, empty, nothing written to
         * the overlay; one tmpfs on it after two runs */
        cr_assert_str_eq(r.out, "disk\ntmpfs\n0\n0\n2\n", "%s", r.err);
        sbx_test_result_free(&r);
}
