/* Integration tests for the cgroup module with real workloads: memory (OOM
 * kill), pids (fork storm), cpu (quota), kill of an escaping process tree,
 * error paths, and nothing left behind. Needs root. Works on cgroup v1 /
 * hybrid hosts and on pure cgroup v2 (the VM lane): the module detects which
 * at run time and so does each test's expectation. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
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

#include "harness.h"
#include "sandboxctl/cgroup.h"
#include "sandboxctl/util.h"
#include "src/lib/cgroup_internal.h"

static struct sbx_cgroup *g_cg; /* destroyed by the fini, even on failure */
static char g_id[64];

static const char *test_id(const char *name)
{
        snprintf(g_id, sizeof(g_id), "sbxtest-%s-%d", name, (int)getpid());
        return g_id;
}

static bool host_is_v2(void)
{
        struct sbx_cg_host h = { 0 };
        cr_assert_eq(sbx_cg_host_detect(&h, NULL), 0);
        bool v2 = h.v2;
        sbx_cg_host_clear(&h);
        return v2;
}

/* On a bare v2 host (the VM lane boots with nothing but our init) nobody has
 * enabled controllers at the root yet; a systemd host has, so this writes
 * nothing there. The test acts as the host's administrator here. */
static void v2_enable_root_controllers(void)
{
        struct sbx_cg_host h = { 0 };
        cr_assert_eq(sbx_cg_host_detect(&h, NULL), 0);
        if (h.v2 && access(h.v2_mount, W_OK) == 0) {
                char *have = NULL, *on = NULL;
                if (sbx_cg_read_file(h.v2_mount, "cgroup.controllers", &have, NULL) == 0 &&
                    sbx_cg_read_file(h.v2_mount, "cgroup.subtree_control", &on, NULL) == 0) {
                        unsigned missing =
                                sbx_cg_parse_controller_list(have) &
                                ~sbx_cg_parse_controller_list(on) &
                                ((1u << SBX_CG_MEMORY) | (1u << SBX_CG_PIDS) | (1u << SBX_CG_CPU));
                        for (int c = 0; c < SBX_CG_N; c++) {
                                char buf[32];
                                snprintf(buf, sizeof(buf), "+%s", sbx_cg_ctrl_name(c));
                                if (missing & (1u << c))
                                        sbx_cg_write_file(h.v2_mount, "cgroup.subtree_control", buf,
                                                          NULL);
                        }
                }
                free(have);
                free(on);
        }
        sbx_cg_host_clear(&h);
}

static void setup(void)
{
        /* orphans of the test's process trees come back to us to be reaped */
        prctl(PR_SET_CHILD_SUBREAPER, 1);
        v2_enable_root_controllers();
}

static void reap_all(void)
{
        while (waitpid(-1, NULL, WNOHANG) > 0)
                ;
}

/* Is there a directory named id anywhere in any cgroup hierarchy (depth 6)? */
static const char *g_find_name;
static bool g_found;
static char g_found_path[4096];

static int find_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st;
        if (flag == FTW_D && strcmp(path + ftw->base, g_find_name) == 0) {
                g_found = true;
                snprintf(g_found_path, sizeof(g_found_path), "%s", path);
                return FTW_STOP;
        }
        return flag == FTW_D && ftw->level >= 6 ? FTW_SKIP_SUBTREE : FTW_CONTINUE;
}

static bool cgroup_dir_exists_anywhere(const char *name)
{
        struct sbx_cg_host h = { 0 };
        cr_assert_eq(sbx_cg_host_detect(&h, NULL), 0);
        g_find_name = name;
        g_found = false;
        const char *mounts[SBX_CG_N + 1];
        size_t n = 0;
        for (int c = 0; c < SBX_CG_N; c++)
                if (h.v1_mount[c])
                        mounts[n++] = h.v1_mount[c];
        if (h.v2_mount)
                mounts[n++] = h.v2_mount;
        for (size_t i = 0; i < n && !g_found; i++)
                nftw(mounts[i], find_cb, 16, FTW_PHYS | FTW_ACTIONRETVAL);
        sbx_cg_host_clear(&h);
        return g_found;
}

static void teardown(void)
{
        if (g_cg) {
                sbx_cgroup_destroy(g_cg, NULL);
                sbx_cgroup_free(g_cg);
                g_cg = NULL;
        }
        reap_all();
        if (g_id[0])
                sbx_test_fini_expect(!cgroup_dir_exists_anywhere(g_id), "left behind: %s",
                                     g_found_path);
}

TestSuite(cgroup, .init = setup, .fini = teardown, .timeout = 60);

static uint64_t now_us(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Wait for pid to exit, at most timeout_ms. Returns true and its status. */
static bool wait_exit(pid_t pid, int timeout_ms, int *status)
{
        int fd = (int)syscall(SYS_pidfd_open, pid, 0);
        cr_assert_geq(fd, 0, "pidfd_open %d: %s", (int)pid, strerror(errno));
        struct pollfd p = { fd, POLLIN, 0 };
        int n;
        while ((n = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR)
                ;
        close(fd);
        if (n <= 0)
                return false;
        return waitpid(pid, status, 0) == pid;
}

struct child {
        pid_t pid;
        int gate; /* write end: one byte releases the child */
        int out; /* read end of the child's stdout, or -1 */
};

/* Fork a child that waits at a gate, then runs fn(arg) or execs argv. */
static struct child spawn_gated(char *const argv[], void (*fn)(void), bool capture)
{
        int gate[2], out[2] = { -1, -1 };
        cr_assert_eq(pipe2(gate, O_CLOEXEC), 0);
        if (capture)
                cr_assert_eq(pipe2(out, O_CLOEXEC), 0);
        pid_t pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
                char c;
                close(gate[1]);
                if (read(gate[0], &c, 1) != 1)
                        _exit(120);
                int null = open("/dev/null", O_RDWR | O_CLOEXEC);
                dup2(capture ? out[1] : null, 1);
                dup2(null, 2);
                if (fn)
                        fn();
                execvp(argv[0], argv);
                _exit(127);
        }
        close(gate[0]);
        if (capture)
                close(out[1]);
        return (struct child){ pid, gate[1], out[0] };
}

static void attach_and_release(struct child *ch)
{
        sbx_error *e = NULL;
        int r = sbx_cgroup_attach(g_cg, ch->pid, &e);
        cr_assert_eq(r, 0, "attach: %s", e ? e->message : "");
        cr_assert_eq(write(ch->gate, "x", 1), 1);
        close(ch->gate);
        ch->gate = -1;
}

static void create(const char *name, const struct sbx_limits *lim)
{
        struct sbx_spec spec = { 0 };
        if (lim)
                spec.limits = *lim;
        sbx_error *e = NULL;
        int r = sbx_cgroup_create(NULL, test_id(name), &spec, &g_cg, &e);
        cr_assert_eq(r, 0, "create: %s", e ? e->message : "");
        cr_assert_eq(sbx_cgroup_version(g_cg), host_is_v2() ? 2 : 1);
}

static struct sbx_cgroup_usage sample(void)
{
        struct sbx_cgroup_usage u;
        sbx_error *e = NULL;
        int r = sbx_cgroup_sample(g_cg, &u, &e);
        cr_assert_eq(r, 0, "sample: %s", e ? e->message : "");
        return u;
}

static void destroy_and_check_gone(void)
{
        const char *const *dirs = sbx_cgroup_dirs(g_cg);
        char saved[8][4096];
        size_t n = 0;
        for (; dirs[n] && n < 8; n++)
                snprintf(saved[n], sizeof(saved[n]), "%s", dirs[n]);
        cr_assert_gt(n, 0);
        for (size_t i = 0; i < n; i++)
                cr_assert_eq(access(saved[i], F_OK), 0, "%s exists while alive", saved[i]);
        sbx_error *e = NULL;
        int r = sbx_cgroup_destroy(g_cg, &e);
        cr_assert_eq(r, 0, "destroy: %s", e ? e->message : "");
        for (size_t i = 0; i < n; i++)
                cr_assert_neq(access(saved[i], F_OK), 0, "%s still there", saved[i]);
        cr_assert(!cgroup_dir_exists_anywhere(g_id), "left behind: %s", g_found_path);
        sbx_cgroup_free(g_cg);
        g_cg = NULL;
}

#define MIB (1024ull * 1024ull)

Test(cgroup, memory_limit_oom_kills_stress_ng)
{
        struct sbx_limits lim = { .memory = 64 * MIB, .memory_swap = 0 };
        create("mem", &lim);
        cr_assert_eq(sbx_cgroup_limits(g_cg)->memory, 64 * MIB);
        cr_assert_eq(sbx_cgroup_limits(g_cg)->applied, SBX_LIMIT_MEMORY | SBX_LIMIT_MEMORY_SWAP);
        char *argv[] = { "stress-ng", "--vm", "1",         "--vm-bytes", "200M",
                         "--timeout", "10s",  "--oomable", NULL };
        struct child ch = spawn_gated(argv, NULL, false);
        attach_and_release(&ch);
        int status = 0;
        cr_assert(wait_exit(ch.pid, 30000, &status), "stress-ng did not finish in 30 s");
        struct sbx_cgroup_usage u = sample();
        cr_log_info("memory: oom_kills %" PRIu64 " peak %" PRIu64, u.oom_kills, u.memory_peak);
        cr_assert(u.have & SBX_CGROUP_HAVE_OOM);
        cr_assert_geq(u.oom_kills, 1, "oom_kills %" PRIu64, u.oom_kills);
        cr_assert(u.have & SBX_CGROUP_HAVE_MEMORY);
        cr_assert_leq(u.memory_peak, 64 * MIB + 256 * 1024, "peak %" PRIu64, u.memory_peak);
        cr_assert_geq(u.memory_peak, 32 * MIB, "peak %" PRIu64 ": the load ran", u.memory_peak);
        destroy_and_check_gone();
}

static void run_storm_prog(void)
{
        char path[4096];
        const char *b = getenv("SBX_BUILD_ROOT");
        snprintf(path, sizeof(path), "%s/tests/integration/cgroup-forkstorm", b ? b : ".");
        execl(path, path, "200", (char *)NULL);
        _exit(127);
}

Test(cgroup, pids_limit_holds_a_fork_storm)
{
        struct sbx_limits lim = { .pids = 50 };
        create("pids", &lim);
        struct child ch = spawn_gated(NULL, run_storm_prog, true);
        attach_and_release(&ch);
        char buf[256] = "";
        size_t len = 0;
        ssize_t k;
        while (len + 1 < sizeof(buf) && (k = read(ch.out, buf + len, sizeof(buf) - 1 - len)) > 0)
                len += (size_t)k;
        buf[len] = '\0';
        close(ch.out);
        int status = 0;
        cr_assert(wait_exit(ch.pid, 30000, &status), "fork storm did not finish in 30 s");
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x out '%s'", status,
                  buf);
        int forked = -1, refused = -1;
        cr_assert_eq(sscanf(buf, "forked=%d refused=%d", &forked, &refused), 2, "out '%s'", buf);
        cr_assert_eq(forked + refused, 200);
        cr_assert_eq(forked, 49, "50 tasks: the storm itself and 49 children");
        struct sbx_cgroup_usage u = sample();
        cr_log_info("pids: forked %d refused %d peak %" PRIu64 " hits %" PRIu64, forked, refused,
                    u.pids_peak, u.pids_limit_hits);
        cr_assert(u.have & SBX_CGROUP_HAVE_PIDS);
        cr_assert_leq(u.pids_peak, 50);
        bool kernel_peak = false;
        for (const char *const *d = sbx_cgroup_dirs(g_cg); *d; d++)
                kernel_peak |= sbx_cg_file_exists(*d, "pids.peak");
        if (kernel_peak)
                cr_assert_eq(u.pids_peak, 50, "the limit was reached");
        cr_assert(u.have & SBX_CGROUP_HAVE_PIDS_HITS);
        cr_assert_geq(u.pids_limit_hits, (uint64_t)refused, "hits %" PRIu64 " refused %d",
                      u.pids_limit_hits, refused);
        cr_assert_gt(refused, 0);
        destroy_and_check_gone();
}

static void busy_loop(void)
{
        for (volatile unsigned long i = 0;; i++)
                ;
}

Test(cgroup, cpu_quota_20_percent)
{
        struct sbx_limits lim = { .cpu = 200 };
        create("cpu", &lim);
        cr_assert_eq(sbx_cgroup_limits(g_cg)->cpu_quota_usec, 20000);
        cr_assert_eq(sbx_cgroup_limits(g_cg)->cpu_period_usec, 100000);
        struct child ch = spawn_gated(NULL, busy_loop, false);
        attach_and_release(&ch);
        struct sbx_cgroup_usage u0 = sample();
        uint64_t t0 = now_us();
        int status;
        cr_assert(!wait_exit(ch.pid, 3000, &status), "the busy loop exited");
        struct sbx_cgroup_usage u1 = sample();
        uint64_t wall = now_us() - t0;
        cr_assert(u1.have & SBX_CGROUP_HAVE_CPU);
        double share = (double)(u1.cpu_usec - u0.cpu_usec) / (double)wall;
        cr_log_info("cpu: share %.3f throttled %" PRIu64 " us", share, u1.cpu_throttled_usec);
        cr_assert(share >= 0.15 && share <= 0.25, "cpu share %.3f over %.2f s", share,
                  (double)wall / 1e6);
        cr_assert(u1.have & SBX_CGROUP_HAVE_THROTTLE);
        /* how long depends on the host's load: only that it happened */
        cr_assert_gt(u1.cpu_throttled_usec, 0);
        destroy_and_check_gone();
        cr_assert(wait_exit(ch.pid, 5000, &status));
        cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

static int g_report_fd = -1;

/* Double fork + setsid + SIGTERM ignored: report the grandchild's pid. */
static void escape_artist(void)
{
        signal(SIGTERM, SIG_IGN);
        if (fork() == 0) {
                setsid();
                if (fork() == 0) {
                        signal(SIGTERM, SIG_IGN);
                        pid_t me = getpid();
                        if (write(g_report_fd, &me, sizeof(me)) != sizeof(me))
                                _exit(3);
                        for (;;)
                                pause();
                }
                _exit(0);
        }
        for (;;)
                pause();
}

Test(cgroup, destroy_kills_double_forked_setsid_sigterm_ignoring_tree)
{
        create("kill", NULL);
        int rep[2];
        cr_assert_eq(pipe2(rep, O_CLOEXEC), 0);
        g_report_fd = rep[1];
        struct child ch = spawn_gated(NULL, escape_artist, false);
        close(rep[1]);
        attach_and_release(&ch);
        pid_t grandchild = 0;
        struct pollfd p = { rep[0], POLLIN, 0 };
        cr_assert_eq(poll(&p, 1, 10000), 1, "no report from the grandchild");
        cr_assert_eq(read(rep[0], &grandchild, sizeof(grandchild)), (ssize_t)sizeof(grandchild));
        close(rep[0]);
        cr_assert_gt(grandchild, 1);
        int gfd = (int)syscall(SYS_pidfd_open, grandchild, 0);
        cr_assert_geq(gfd, 0);
        kill(grandchild, SIGTERM); /* ignored */
        kill(ch.pid, SIGTERM);
        struct sbx_cgroup_usage u = sample();
        /* the child, the grandchild, and the middle one: a zombie that the
         * child never reaps still holds its pid until released */
        cr_assert_eq(u.pids_current, 3, "pids.current %" PRIu64, u.pids_current);
        destroy_and_check_gone();
        struct pollfd gp = { gfd, POLLIN, 0 };
        cr_assert_eq(poll(&gp, 1, 5000), 1, "grandchild %d survived", (int)grandchild);
        close(gfd);
        int status = 0;
        cr_assert(wait_exit(ch.pid, 5000, &status));
        cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        cr_assert_eq(waitpid(grandchild, &status, 0), grandchild, "reaped as subreaper");
        cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

Test(cgroup, bad_limit_fails_and_leaves_nothing)
{
        struct sbx_spec spec = { 0 };
        spec.limits.cpu = 5; /* 500 us per 100 ms: below the kernel's 1 ms minimum */
        sbx_error *e = NULL;
        int r = sbx_cgroup_create(NULL, test_id("badcpu"), &spec, &g_cg, &e);
        cr_assert_eq(r, -EINVAL, "r=%d %s", r, e ? e->message : "");
        cr_assert_null(g_cg);
        const char *file =
                host_is_v2() ? "cpu.max: Invalid argument" : "cpu.cfs_quota_us: Invalid argument";
        cr_assert(strstr(e->message, "create cgroup sbxtest-badcpu-") == e->message, "%s",
                  e->message);
        cr_assert(strstr(e->message, "limit cpu to 0.005 CPUs: write "), "%s", e->message);
        cr_assert(strstr(e->message, file), "%s", e->message);
        sbx_error_free(e);
        cr_assert(!cgroup_dir_exists_anywhere(g_id), "left behind: %s", g_found_path);
}

Test(cgroup, create_twice_is_eexist_and_open_finds_it)
{
        create("twice", NULL);
        struct sbx_cgroup *other = NULL;
        sbx_error *e = NULL;
        int r = sbx_cgroup_create(NULL, g_id, NULL, &other, &e);
        cr_assert_eq(r, -EEXIST);
        char want[256];
        snprintf(want, sizeof(want), "create cgroup %s: cgroup %s exists already", g_id,
                 sbx_cgroup_path(g_cg));
        cr_assert_str_eq(e->message, want);
        sbx_error_free(e);
        e = NULL;
        cr_assert_eq(access(sbx_cgroup_dirs(g_cg)[0], F_OK), 0, "the first one is intact");
        r = sbx_cgroup_open(NULL, g_id, &other, &e);
        cr_assert_eq(r, 0, "open: %s", e ? e->message : "");
        cr_assert_str_eq(sbx_cgroup_path(other), sbx_cgroup_path(g_cg));
        sbx_cgroup_free(other);
        r = sbx_cgroup_remove_stale(NULL, g_id, &e);
        cr_assert_eq(r, 1, "%s", e ? e->message : "");
        cr_assert(!cgroup_dir_exists_anywhere(g_id), "left behind: %s", g_found_path);
        r = sbx_cgroup_remove_stale(NULL, g_id, &e);
        cr_assert_eq(r, 0, "nothing left: %s", e ? e->message : "");
        sbx_cgroup_free(g_cg); /* already removed by gc */
        g_cg = NULL;
}

Test(cgroup, best_effort_limit_the_host_lacks)
{
        /* On v1 every limit's controller is mounted here, so "missing" is
         * swap accounting only when the kernel lacks it; the decision
         * itself is unit-tested over fixtures (test_cgroup_stats.c). This
         * checks that a fully available spec has no warnings and applies
         * everything, and that best_effort bits do not skip what works. */
        struct sbx_limits lim = { .memory = 64 * MIB,
                                  .pids = 10,
                                  .cpu = 500,
                                  .best_effort = SBX_LIMIT_MEMORY | SBX_LIMIT_PIDS | SBX_LIMIT_CPU |
                                                 SBX_LIMIT_MEMORY_SWAP };
        create("besteffort", &lim);
        const struct sbx_cgroup_limits *l = sbx_cgroup_limits(g_cg);
        cr_assert_eq(l->skipped, 0);
        cr_assert_eq(l->applied & (SBX_LIMIT_MEMORY | SBX_LIMIT_PIDS | SBX_LIMIT_CPU),
                     SBX_LIMIT_MEMORY | SBX_LIMIT_PIDS | SBX_LIMIT_CPU);
        cr_assert_null(sbx_cgroup_warnings(g_cg)[0]);
        destroy_and_check_gone();
}

Test(cgroup, refuses_our_own_cgroup)
{
        struct sbx_cg_host h = { 0 };
        cr_assert_eq(sbx_cg_host_detect(&h, NULL), 0);
        const char *own = h.v2 ? h.self_v2 : h.self_v1[SBX_CG_MEMORY];
        cr_assert_not_null(own);
        if (strcmp(own, "/") == 0) { /* e.g. the VM lane: our cgroup is the root */
                sbx_cg_host_clear(&h);
                return;
        }
        char parent[4096];
        snprintf(parent, sizeof(parent), "%s", own);
        char *slash = strrchr(parent, '/');
        char *name = strdup(slash + 1);
        if (slash == parent)
                slash[1] = '\0';
        else
                *slash = '\0';
        struct sbx_cgroup *cg = NULL;
        sbx_error *e = NULL;
        int r = strcmp(parent, "/") == 0 ? -EPERM : sbx_cgroup_open(parent, name, &cg, &e);
        cr_assert_eq(r, -EPERM, "%s", e ? e->message : "");
        if (e)
                cr_assert(strstr(e->message, "holds this process: refusing"), "%s", e->message);
        sbx_error_free(e);
        e = NULL;
        r = strcmp(parent, "/") == 0 ? -EPERM : sbx_cgroup_remove_stale(parent, name, &e);
        cr_assert_eq(r, -EPERM);
        sbx_error_free(e);
        free(name);
        sbx_cg_host_clear(&h);
}

/* rmdir the `levels` parents of dir (a 4096-byte buffer), deepest first. */
static void rmdir_up(const char *dir, int levels)
{
        char buf[4096];
        memcpy(buf, dir, sizeof(buf));
        for (int i = 0; i < levels; i++) {
                char *slash = strrchr(buf, '/');
                if (!slash)
                        return;
                *slash = '\0';
                cr_assert_eq(rmdir(buf), 0, "rmdir %s: %s", buf, strerror(errno));
        }
}

Test(cgroup, parent_from_environment_is_kept)
{
        char parent[64];
        snprintf(parent, sizeof(parent), "sbxtest-parent-%d/inner", (int)getpid());
        setenv(SBX_CGROUP_PARENT_ENV, parent, 1);
        create("envparent", NULL);
        unsetenv(SBX_CGROUP_PARENT_ENV);
        const char *path = sbx_cgroup_path(g_cg);
        cr_assert(strstr(path, parent) && strstr(path, g_id), "path %s", path);
        char saved[8][4096];
        size_t n = 0;
        for (const char *const *d = sbx_cgroup_dirs(g_cg); *d && n < 8; d++)
                snprintf(saved[n++], sizeof(saved[0]), "%s", *d);
        for (size_t i = 0; i < n; i++)
                cr_assert(strstr(saved[i], parent), "%s", saved[i]);
        destroy_and_check_gone();
        for (size_t i = 0; i < n; i++) {
                char up[4096];
                memcpy(up, saved[i], sizeof(up));
                *strrchr(up, '/') = '\0';
                cr_assert_eq(access(up, F_OK), 0, "a parent we were given stays: %s", up);
                rmdir_up(saved[i], 2);
        }
        char top[64];
        snprintf(top, sizeof(top), "sbxtest-parent-%d", (int)getpid());
        cr_assert(!cgroup_dir_exists_anywhere(top), "left behind: %s", g_found_path);
}

static pid_t clone_into(int cgfd)
{
        struct {
                uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls,
                        set_tid, set_tid_size, cgroup;
        } args = { 0 };
        args.flags = 0x200000000ULL; /* CLONE_INTO_CGROUP */
        args.exit_signal = SIGCHLD;
        args.cgroup = (uint64_t)cgfd;
        return (pid_t)syscall(SYS_clone3, &args, sizeof(args));
}

Test(cgroup, clone_into_cgroup_on_v2)
{
        create("clone", NULL);
        int fd = sbx_cgroup_clone_fd(g_cg);
        if (sbx_cgroup_version(g_cg) == 1) {
                cr_assert_eq(fd, -1, "v1 has no CLONE_INTO_CGROUP");
                destroy_and_check_gone();
                return;
        }
        cr_assert_geq(fd, 0);
        pid_t pid = clone_into(fd);
        cr_assert_geq(pid, 0, "clone3: %s", strerror(errno));
        if (pid == 0) {
                for (;;)
                        pause();
        }
        struct sbx_cgroup_usage u = sample();
        cr_assert_eq(u.pids_current, 1, "born inside");
        destroy_and_check_gone();
        int status;
        cr_assert(wait_exit(pid, 5000, &status));
        cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

/* v1: a child moves itself in through the `tasks` files its parent opened
 * (no wait for the kernel's threadgroup lock); v2 has no such path. */
Test(cgroup, self_attach_moves_the_child_in_every_hierarchy)
{
        create("selfattach", NULL);
        sbx_error *e = NULL;
        int r = sbx_cgroup_self_attach_open(g_cg, &e);
        cr_assert_geq(r, 0, "open: %s", e ? e->message : "");
        if (sbx_cgroup_version(g_cg) == 2) {
                cr_assert_eq(r, 0, "v2 uses CLONE_INTO_CGROUP");
                destroy_and_check_gone();
                return;
        }
        cr_assert_eq(r, 1);
        int done[2];
        cr_assert_eq(pipe2(done, O_CLOEXEC), 0);
        pid_t pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
                char c = sbx_cgroup_attach_self(g_cg, NULL) == 0 ? 'y' : 'n';
                if (write(done[1], &c, 1) != 1)
                        _exit(1);
                for (;;)
                        pause();
        }
        sbx_cgroup_self_attach_close(g_cg);
        close(done[1]);
        char c = 0;
        cr_assert_eq(read(done[0], &c, 1), 1);
        close(done[0]);
        cr_assert_eq(c, 'y', "attach_self failed in the child");
        for (const char *const *d = sbx_cgroup_dirs(g_cg); *d; d++) {
                sbx_autofree pid_t *pids = NULL;
                size_t n = 0;
                cr_assert_eq(sbx_cg_read_pids(*d, &pids, &n, NULL), 0);
                cr_assert_eq(n, 1, "%s holds %zu pids", *d, n);
                cr_assert_eq(pids[0], pid, "%s holds %d, not %d", *d, (int)pids[0], (int)pid);
        }
        destroy_and_check_gone();
        int status;
        cr_assert(wait_exit(pid, 5000, &status));
        cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

/* gc, a short-lived command, removes an empty sandbox cgroup that no state
 * dir names, in every hierarchy (on v1 through libcgroup, which it loads:
 * LD_DEBUG shows it), and leaves one that has a process alone; `run` never
 * loads libcgroup. */
Test(cgroup, gc_collects_empty_orphans_run_never_loads_libcgroup)
{
        char empty_id[17], busy_id[17], state[] = "/tmp/sbx-cg-gc-XXXXXX", want[96];
        struct sbx_cgroup *busy = NULL;
        struct run_result r;

        snprintf(empty_id, sizeof(empty_id), "%08x0000000e", (unsigned)getpid());
        snprintf(busy_id, sizeof(busy_id), "%08x0000000b", (unsigned)getpid());
        snprintf(g_id, sizeof(g_id), "%s", empty_id);
        cr_assert_eq(sbx_cgroup_create(NULL, empty_id, NULL, &g_cg, NULL), 0);
        cr_assert_eq(sbx_cgroup_create(NULL, busy_id, NULL, &busy, NULL), 0);
        pid_t pid = fork();
        if (pid == 0) {
                pause();
                _exit(0);
        }
        cr_assert_eq(sbx_cgroup_attach(busy, pid, NULL), 0);
        cr_assert_not_null(mkdtemp(state));
        setenv("SANDBOXCTL_STATE_DIR", state, 1);
        setenv("LD_DEBUG", "files", 1);
        cr_assert_eq(sbx_test_run_sbx(30, &r, "gc", "--force", NULL), 0);
        unsetenv("LD_DEBUG");
        snprintf(want, sizeof(want), "removed %s (cgroup without a sandbox)\n", empty_id);
        cr_expect_str_eq(r.out, want);
        if (!host_is_v2())
                cr_expect(strstr(r.err, "libcgroup.so.2"), "gc did not load libcgroup");
        sbx_test_result_free(&r);
        cr_expect(!cgroup_dir_exists_anywhere(empty_id), "left: %s", g_found_path);
        cr_expect(cgroup_dir_exists_anywhere(busy_id), "gc removed a cgroup with a process");
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        cr_assert_eq(sbx_cgroup_destroy(busy, NULL), 0);
        sbx_cgroup_free(busy);
        sbx_cgroup_free(g_cg); /* gone already: nothing to destroy */
        g_cg = NULL;
        setenv("LD_DEBUG", "files", 1);
        cr_assert_eq(sbx_test_run_sbx(30, &r, "run", "--", "/bin/true", NULL), 0);
        unsetenv("LD_DEBUG");
        cr_expect_eq(r.exit_code, 0, "%s", r.err);
        cr_expect_null(strstr(r.err, "libcgroup"), "run loaded libcgroup");
        sbx_test_result_free(&r);
        unsetenv("SANDBOXCTL_STATE_DIR");
        rmdir(state);
}

SBX_TEST_MAIN(SBX_NEED_ROOT)
