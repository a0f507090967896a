/* Integration tests: checkpoint, rollback, restore, snapshots and
 * snapshot rm|prune on live sandboxes (root).
 *
 * fs-only checkpoints, rollbacks, pruning and the refusal of a full
 * checkpoint where CRIU cannot run work on any kernel; each test has its own
 * state dir, cgroup parent (lifecycle_helpers), data dir and workspace. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "lifecycle_helpers.h"
#include "run_helpers.h"
#include "sandboxctl/snapshot.h"

static char base[64];
static char data_dir[96];
static char ws[96];

static double now_s(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st;
        (void)flag;
        (void)ftw;
        remove(path);
        return 0;
}

static void ck_setup(void)
{
        lc_setup();
        snprintf(base, sizeof(base), "/tmp/sbx-ck-XXXXXX");
        cr_assert_not_null(mkdtemp(base));
        snprintf(data_dir, sizeof(data_dir), "%s/data", base);
        snprintf(ws, sizeof(ws), "%s/ws", base);
        cr_assert_eq(mkdir(data_dir, 0700), 0);
        cr_assert_eq(mkdir(ws, 0755), 0);
        setenv("SANDBOXCTL_DATA_DIR", data_dir, 1);
}

static void ck_teardown(void)
{
        lc_teardown();
        nftw(base, remove_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

TestSuite(checkpoint, .init = ck_setup, .fini = ck_teardown, .timeout = 240);

static void put(const char *rel, const char *text)
{
        char path[256];
        snprintf(path, sizeof(path), "%s/%s", ws, rel);
        FILE *f = fopen(path, "w");
        cr_assert_not_null(f, "open %s: %s", path, strerror(errno));
        fputs(text, f);
        cr_assert_eq(fclose(f), 0);
}

/* The file's text, or "<missing>" (static buffer). */
static const char *get(const char *rel)
{
        static char buf[256];
        char path[256];
        snprintf(path, sizeof(path), "%s/%s", ws, rel);
        FILE *f = fopen(path, "r");
        if (!f)
                return "<missing>";
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        buf[n] = '\0';
        fclose(f);
        return buf;
}

static int sbx_ok(const char *what, struct run_result *r)
{
        cr_assert_eq(r->exit_code, 0, "%s: exit %d: %s", what, r->exit_code, r->err);
        sbx_test_result_free(r);
        return 0;
}

static char *create_sleeper(const char *name, const char *profile)
{
        if (profile)
                return lc_create("exec sleep 300", "--name", name, "-w", ws, "--timeout", "0s",
                                 "-p", profile, NULL);
        return lc_create("exec sleep 300", "--name", name, "-w", ws, "--timeout", "0s", NULL);
}

static json_t *snapshots(const char *id)
{
        struct run_result r;
        cr_assert_eq(lc_sbx(&r, "snapshots", "--json", id, NULL), 0, "%s", r.err);
        json_t *a = json_loads(r.out, 0, NULL);
        cr_assert(json_is_array(a), "snapshots --json printed %s", r.out);
        sbx_test_result_free(&r);
        return a;
}

/* "3,4,5": the versions in the store. */
static void versions(const char *id, char *buf, size_t len)
{
        json_t *a = snapshots(id);
        size_t i, n = 0;
        json_t *v;
        buf[0] = '\0';
        json_array_foreach(a, i, v) n += (size_t)snprintf(buf + n, len - n, "%s%lld", i ? "," : "",
                                                  (long long)json_integer_value(
                                                          json_object_get(v, "version")));
        json_decref(a);
}

static int info_init_pid(const char *id)
{
        json_t *o = lc_info(id);
        int pid = o ? (int)json_integer_value(json_object_get(o, "init_pid")) : -1;
        json_decref(o);
        return pid;
}

static void mkdir_ws(const char *rel)
{
        char path[256];
        snprintf(path, sizeof(path), "%s/%s", ws, rel);
        cr_assert_eq(mkdir(path, 0755), 0, "mkdir %s: %s", path, strerror(errno));
}

static void expect_out_prefix(struct run_result *r, const char *id, const char *text)
{
        char want[256];
        snprintf(want, sizeof(want), "%s: %s", id, text);
        cr_assert_eq(strncmp(r->out, want, strlen(want)), 0, "printed '%s', not '%s...'", r->out,
                     want);
}

Test(checkpoint, fs_only_then_rollback_restores_files_exactly)
{
        struct run_result r;
        char path[256];
        put("a.txt", "one\n");
        mkdir_ws("sub");
        put("sub/b.txt", "bee\n");
        char *id = create_sleeper("fs1", NULL);
        int init1 = info_init_pid(id);

        cr_assert_eq(lc_sbx(&r, "checkpoint", "--fs-only", "--leave-running", "--name", "base", id,
                            NULL), 0, "%s", r.err);
        expect_out_prefix(&r, id, "snapshot 1 \"base\" (fs-only, 8 bytes, ");
        sbx_test_result_free(&r);
        char *st = lc_status(id);
        cr_assert_str_eq(st, "running", "--leave-running");
        free(st);
        cr_assert_eq(info_init_pid(id), init1, "the same init runs on");

        put("a.txt", "two\n");
        snprintf(path, sizeof(path), "%s/sub/b.txt", ws);
        cr_assert_eq(unlink(path), 0);
        put("c.txt", "new\n");
        lc_sbx(&r, "rollback", "--version", "base", "fs1", NULL);
        sbx_ok("rollback", &r);
        cr_assert_str_eq(get("a.txt"), "one\n");
        cr_assert_str_eq(get("sub/b.txt"), "bee\n");
        cr_assert_str_eq(get("c.txt"), "<missing>");
        st = lc_status(id);
        cr_assert_str_eq(st, "running", "a running sandbox runs again after a rollback");
        free(st);
        int init2 = info_init_pid(id);
        cr_assert(init2 > 0 && init2 != init1, "restarted: %d then %d", init1, init2);

        /* The state before the rollback was saved as version 2: undo. */
        json_t *a = snapshots(id);
        cr_assert_eq(json_array_size(a), 2);
        json_t *v1 = json_array_get(a, 0), *v2 = json_array_get(a, 1);
        cr_assert_str_eq(json_string_value(json_object_get(v1, "label")), "base");
        cr_assert_str_eq(json_string_value(json_object_get(v1, "kind")), "fs-only");
        cr_assert(json_is_null(json_object_get(v1, "parent")));
        cr_assert_eq(json_integer_value(json_object_get(v1, "size")), 8);
        cr_assert(json_is_null(json_object_get(v2, "label")));
        cr_assert_eq(json_integer_value(json_object_get(v2, "parent")), 1);
        cr_assert_eq(json_integer_value(json_object_get(v2, "size")), 8, "two.txt + new.txt");
        cr_assert_eq(strlen(json_string_value(json_object_get(v2, "checksum"))), 64);
        json_decref(a);
        lc_sbx(&r, "rollback", "--version", "2", id, NULL);
        sbx_ok("undo", &r);
        cr_assert_str_eq(get("a.txt"), "two\n");
        cr_assert_str_eq(get("sub/b.txt"), "<missing>");
        cr_assert_str_eq(get("c.txt"), "new\n");

        cr_assert_eq(lc_count_events(id, "checkpoint_started"), 3);
        cr_assert_eq(lc_count_events(id, "checkpoint_done"), 3);
        cr_assert_eq(lc_count_events(id, "rolled_back"), 2);
        cr_assert_eq(lc_count_events(id, "checkpoint_failed"), 0);
        free(id);
}

Test(checkpoint, default_stops_and_table_lists_versions)
{
        struct run_result r;
        put("x", "x\n");
        char *id = create_sleeper("fs2", NULL);
        int init = info_init_pid(id);

        lc_sbx(&r, "checkpoint", "--fs-only", "fs2", NULL);
        sbx_ok("checkpoint", &r);
        char *st = lc_status(id);
        cr_assert_str_eq(st, "stopped", "checkpoint stops the sandbox without --leave-running");
        free(st);
        cr_assert_not(lc_pid_alive(init));
        /* A stopped sandbox: fs-only works, a full checkpoint needs processes. */
        lc_sbx(&r, "checkpoint", "--fs-only", "--name", "v-two", "fs2", NULL);
        sbx_ok("checkpoint of a stopped sandbox", &r);
        cr_assert_eq(lc_sbx(&r, "checkpoint", "fs2", NULL), 6, "%s", r.err);
        cr_assert(strstr(r.err, "is not running: a full checkpoint needs its processes"), "%s",
                  r.err);
        sbx_test_result_free(&r);

        cr_assert_eq(lc_sbx(&r, "snapshots", "fs2", NULL), 0, "%s", r.err);
        cr_assert_eq(strncmp(r.out, "VERSION  LABEL", 14), 0, "%s", r.out);
        char *l1 = strchr(r.out, '\n') + 1, *l2 = strchr(l1, '\n') + 1;
        cr_assert_eq(strncmp(l1, "1        -    ", 14), 0, "%s", r.out);
        cr_assert(strstr(l1, " fs-only ") && strstr(l1, " 2 fs-only"), "%s", l1);
        cr_assert_eq(strncmp(l2, "2        v-two", 14), 0, "%s", r.out);
        cr_assert(strstr(l2, " 1\n"), "parent 1: %s", l2);
        sbx_test_result_free(&r);

        /* restore: back to v-two and started. */
        put("x", "changed\n");
        lc_sbx(&r, "restore", "--version", "v-two", "fs2", NULL);
        sbx_ok("restore", &r);
        cr_assert_str_eq(get("x"), "x\n");
        st = lc_status(id);
        cr_assert_str_eq(st, "running");
        free(st);
        cr_assert_eq(lc_sbx(&r, "restore", "fs2", NULL), 5, "restore of a running sandbox");
        cr_assert(strstr(r.err, "is running: stop it first"), "%s", r.err);
        sbx_test_result_free(&r);
        cr_assert_eq(lc_count_events(id, "restored"), 1);
        free(id);
}

static void write_keep_profile(char *path, size_t len)
{
        snprintf(path, len, "%s/keep3.yaml", base);
        FILE *f = fopen(path, "w");
        cr_assert_not_null(f);
        fputs("extends: medium\ncheckpoint:\n  keep: 3\n", f);
        cr_assert_eq(fclose(f), 0);
}

Test(checkpoint, keep_prune_and_rm_by_label)
{
        struct run_result r;
        char profile[128], buf[128];
        write_keep_profile(profile, sizeof(profile));
        put("f", "0\n");
        char *id = create_sleeper("keep", profile);

        for (int i = 1; i <= 5; i++) {
                char label[16], text[16];
                snprintf(label, sizeof(label), "L%d", i);
                snprintf(text, sizeof(text), "%d\n", i);
                put("f", text);
                lc_sbx(&r, "checkpoint", "--fs-only", "--leave-running", "--name", label, id,
                       NULL);
                sbx_ok("checkpoint", &r);
        }
        versions(id, buf, sizeof(buf));
        cr_assert_str_eq(buf, "3,4,5", "checkpoint.keep: 3 after 5 checkpoints");

        lc_sbx(&r, "snapshot", "rm", id, "L4", NULL);
        sbx_ok("snapshot rm", &r);
        versions(id, buf, sizeof(buf));
        cr_assert_str_eq(buf, "3,5");
        json_t *a = snapshots(id);
        cr_assert_eq(json_integer_value(json_object_get(json_array_get(a, 1), "parent")), 3,
                     "5 takes 4's parent");
        json_decref(a);
        cr_assert_eq(lc_sbx(&r, "snapshot", "rm", id, "L4", NULL), 3, "%s", r.err);
        cr_assert(strstr(r.err, "L4"), "%s", r.err);
        sbx_test_result_free(&r);

        lc_sbx(&r, "snapshot", "prune", "--keep", "1", id, NULL);
        cr_assert_eq(r.exit_code, 0, "%s", r.err);
        expect_out_prefix(&r, id, "removed 1 snapshot\n");
        sbx_test_result_free(&r);
        versions(id, buf, sizeof(buf));
        cr_assert_str_eq(buf, "5");
        lc_sbx(&r, "checkpoint", "--fs-only", "--leave-running", id, NULL);
        sbx_ok("checkpoint after prune", &r);
        versions(id, buf, sizeof(buf));
        cr_assert_str_eq(buf, "5,6", "numbers are never reused");
        free(id);
}

Test(checkpoint, corrupted_snapshot_is_refused_and_changes_nothing)
{
        struct run_result r;
        char path[256];
        put("app.py", "print(1)\n");
        char *id = create_sleeper("bad", NULL);
        lc_sbx(&r, "checkpoint", "--fs-only", "--leave-running", id, NULL);
        sbx_ok("checkpoint", &r);
        put("app.py", "print(2)\n");
        snprintf(path, sizeof(path), "%s/%s/snapshots/1/fs/workspace/app.py", data_dir, id);
        FILE *f = fopen(path, "w");
        cr_assert_not_null(f, "%s: %s", path, strerror(errno));
        fputs("print(666)\n", f);
        fclose(f);
        int init = info_init_pid(id);

        cr_assert_eq(lc_sbx(&r, "rollback", "--version", "1", id, NULL), 1, "%s", r.err);
        cr_assert(strstr(r.err, "is corrupted: fs/workspace/app.py: "), "%s", r.err);
        sbx_test_result_free(&r);
        cr_assert_str_eq(get("app.py"), "print(2)\n");
        cr_assert_eq(info_init_pid(id), init, "the sandbox was not touched");
        char buf[64];
        versions(id, buf, sizeof(buf));
        cr_assert_str_eq(buf, "1", "no version saved for a refused rollback");
        free(id);
}

Test(checkpoint, full_checkpoint_without_criu_fails_and_leaves_it_running)
{
        struct run_result r;
        char *version = NULL;
        sbx_error *e = NULL;
        bool criu_ok = sbx_criu_probe(&version, &e) >= 0;
        free(version);
        if (criu_ok)
                cr_skip_test("CRIU works here: the refusal path cannot be seen");
        char reason[512];
        snprintf(reason, sizeof(reason), "%s", e->message);
        sbx_error_free(e);

        put("a", "a\n");
        char *id = create_sleeper("full", NULL);
        int init = info_init_pid(id);
        cr_assert_eq(lc_sbx(&r, "checkpoint", "--name", "x", id, NULL), 7, "%s", r.err);
        cr_assert(strstr(r.err, reason), "'%s' in '%s'", reason, r.err);
        cr_assert(strstr(r.err, "--fs-only"), "a hint: %s", r.err);
        sbx_test_result_free(&r);
        char *st = lc_status(id);
        cr_assert_str_eq(st, "running");
        free(st);
        cr_assert_eq(info_init_pid(id), init);
        json_t *a = snapshots(id);
        cr_assert_eq(json_array_size(a), 0, "no snapshot written");
        json_decref(a);
        cr_assert_eq(lc_count_events(id, "checkpoint_failed"), 1);
        cr_assert_eq(lc_count_events(id, "checkpoint_started"), 0);
        free(id);
}

/* Write n files of `mb` MiB each into the workspace. */
static void fill_workspace(int n, int mb)
{
        static char block[1 << 20];
        char path[256];
        for (int i = 0; i < n; i++) {
                snprintf(path, sizeof(path), "%s/big%02d", ws, i);
                FILE *f = fopen(path, "w");
                cr_assert_not_null(f);
                memset(block, 'a' + i % 26, sizeof(block));
                for (int j = 0; j < mb; j++)
                        cr_assert_eq(fwrite(block, 1, sizeof(block), f), sizeof(block));
                cr_assert_eq(fclose(f), 0);
        }
}

static bool exists(const char *path)
{
        return access(path, F_OK) == 0;
}

/* The supervisor killed with SIGKILL while it copies: no half version
 * (the temp dir is not a version, and the next checkpoint removes it). */
Test(checkpoint, killed_during_a_checkpoint_leaves_no_half_version)
{
        struct run_result r;
        char tmp[320], v1[320], store[256];
        fill_workspace(48, 4);
        char *id = create_sleeper("kill", NULL);
        json_t *info = lc_info(id);
        int sv = (int)json_integer_value(json_object_get(info, "pid"));
        json_decref(info);
        snprintf(store, sizeof(store), "%s/%s/snapshots", data_dir, id);
        snprintf(tmp, sizeof(tmp), "%s/.tmp-1", store);
        snprintf(v1, sizeof(v1), "%s/1", store);

        char *argv[] = { (char *)sbx_test_binary(), "checkpoint", "--fs-only", id, NULL };
        pid_t cli = fork();
        cr_assert_geq(cli, 0);
        if (cli == 0) {
                int null = open("/dev/null", O_WRONLY);
                dup2(null, 1);
                dup2(null, 2);
                execv(argv[0], argv);
                _exit(127);
        }
        double end = now_s() + 20;
        while (!exists(tmp) && !exists(v1) && now_s() < end)
                usleep(200);
        bool caught = exists(tmp) && !exists(v1);
        kill(sv, SIGKILL);
        kill(cli, SIGKILL);
        waitpid(cli, NULL, 0);
        if (!caught)
                cr_skip_test("the copy ended before it could be interrupted");
        cr_assert(rt_wait_no_process_with_arg(id, 10) || !lc_pid_alive(sv));
        cr_assert_not(exists(v1), "no version 1");
        cr_assert_eq(lc_sbx(&r, "snapshots", "--json", id, NULL), 0, "%s", r.err);
        cr_assert_str_eq(r.out, "[]\n", "a half version is never listed");
        sbx_test_result_free(&r);
        /* gc removes the dead sandbox; a new supervisor is not part of this. */
        cr_assert_eq(lc_sbx(&r, "gc", NULL), 0, "%s", r.err);
        sbx_test_result_free(&r);
        free(id);
}

/* destroy takes the sandbox's snapshots with it; --keep-data keeps them. */
Test(checkpoint, destroy_removes_snapshots_unless_keep_data)
{
        struct run_result r;
        char store[256];
        put("x", "x\n");
        char *gone = create_sleeper("ck-gone", NULL);
        char *kept = create_sleeper("ck-kept", NULL);

        lc_sbx(&r, "checkpoint", "--fs-only", "--leave-running", "ck-gone", NULL);
        sbx_ok("checkpoint ck-gone", &r);
        lc_sbx(&r, "checkpoint", "--fs-only", "--leave-running", "ck-kept", NULL);
        sbx_ok("checkpoint ck-kept", &r);

        snprintf(store, sizeof(store), "%s/%s", data_dir, gone);
        cr_assert(exists(store), "%s", store);
        lc_sbx(&r, "destroy", "--time", "0", "ck-gone", NULL);
        sbx_ok("destroy", &r);
        cr_expect_not(exists(store), "%s is still there after destroy", store);

        snprintf(store, sizeof(store), "%s/%s/snapshots/1/manifest.json", data_dir, kept);
        lc_sbx(&r, "destroy", "--time", "0", "--keep-data", "ck-kept", NULL);
        sbx_ok("destroy --keep-data", &r);
        cr_expect(exists(store), "%s is gone after destroy --keep-data", store);
        /* The unknown sandbox is refused before anything is removed. */
        cr_expect_eq(lc_sbx(&r, "destroy", "--data-dir", data_dir, "ck-gone", NULL), 3, "%s",
                     r.err);
        sbx_test_result_free(&r);
        cr_expect(exists(store));
        free(gone);
        free(kept);
}

Test(checkpoint, usage_and_help)
{
        struct run_result r;
        const char *cmds[] = { "checkpoint", "restore", "rollback", "snapshots" };
        for (size_t i = 0; i < 4; i++) {
                cr_assert_eq(lc_sbx(&r, cmds[i], "--help", NULL), 0);
                cr_assert(strstr(r.out, "Usage: sandboxctl "), "%s", r.out);
                sbx_test_result_free(&r);
        }
        cr_assert_eq(lc_sbx(&r, "snapshot", "prune", "--help", NULL), 0);
        sbx_test_result_free(&r);
        cr_assert_eq(lc_sbx(&r, "rollback", "x", NULL), 2);
        cr_assert(strstr(r.err, "rollback: missing --version N|LABEL"), "%s", r.err);
        sbx_test_result_free(&r);
        cr_assert_eq(lc_sbx(&r, "snapshot", "prune", "--keep", "-1", "x", NULL), 2);
        sbx_test_result_free(&r);
        cr_assert_eq(lc_sbx(&r, "snapshots", "nosuch", NULL), 3);
        sbx_test_result_free(&r);
}

SBX_TEST_MAIN(SBX_NEED_ROOT)
