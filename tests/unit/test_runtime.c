/* Unit tests of the runtime module's parts that need no root: the command's
 * environment, sandbox ids, process start times, the report and gc. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sandboxctl/gc.h"
#include "sandboxctl/profile.h"
#include "sandboxctl/report.h"
#include "sandboxctl/runtime.h"

static struct sbx_spec *medium(void)
{
        struct sbx_spec *spec = NULL;
        const char *text = sbx_profile_builtin_text();
        cr_assert_eq(sbx_profile_load_string(text, strlen(text), SBX_PROFILE_BUILTIN_SOURCE, &spec,
                                             NULL), 0);
        return spec;
}

Test(env, set_appends_and_replaces)
{
        struct sbx_strv env = { 0 };
        cr_assert_eq(sbx_env_set(&env, "A=1", NULL), 0);
        cr_assert_eq(sbx_env_set(&env, "AB=2", NULL), 0);
        cr_assert_eq(sbx_env_set(&env, "A=3", NULL), 0);
        cr_assert_eq(env.n, 2);
        cr_expect_str_eq(env.items[0], "A=3");
        cr_expect_str_eq(env.items[1], "AB=2");
        cr_expect_null(env.items[2]);
        sbx_strv_clear(&env);
}

Test(env, set_rejects_a_missing_key)
{
        struct sbx_strv env = { 0 };
        sbx_error *e = NULL;
        cr_expect_eq(sbx_env_set(&env, "=x", &e), -EINVAL);
        cr_assert_not_null(e);
        cr_expect_str_eq(e->message, "invalid environment assignment '=x': expected KEY=VALUE");
        sbx_error_free(e);
        e = NULL;
        cr_expect_eq(sbx_env_set(&env, "novalue", &e), -EINVAL);
        sbx_error_free(e);
        cr_expect_eq(env.n, 0);
}

Test(env, defaults_and_profile_values)
{
        struct sbx_spec *spec = medium();
        struct sbx_strv env = { 0 };
        cr_assert_eq(sbx_env_set(&spec->env, "LANG=de_DE.UTF-8", NULL), 0);
        cr_assert_eq(sbx_run_environment(spec, "/workspace", NULL, &env, NULL), 0);
        cr_assert_eq(env.n, 4);
        cr_expect_str_eq(env.items[0],
                         "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        cr_expect_str_eq(env.items[1], "LANG=de_DE.UTF-8");
        cr_expect_str_eq(env.items[2], "HOME=/workspace");
        cr_expect_str_eq(env.items[3], "TERM=dumb");
        sbx_strv_clear(&env);
        cr_assert_eq(sbx_run_environment(spec, "/", "xterm", &env, NULL), 0);
        cr_expect_str_eq(env.items[3], "TERM=xterm");
        sbx_strv_clear(&env);
        sbx_spec_free(spec);
}

Test(ids, format_and_uniqueness)
{
        char a[SBX_ID_LEN + 1], b[SBX_ID_LEN + 1];
        cr_assert_eq(sbx_sandbox_id_new(a, NULL), 0);
        cr_assert_eq(sbx_sandbox_id_new(b, NULL), 0);
        cr_expect_eq(strlen(a), SBX_ID_LEN);
        cr_expect(sbx_sandbox_id_valid(a));
        cr_expect_str_neq(a, b);
        cr_expect(!sbx_sandbox_id_valid("0123456789abcdeF"));
        cr_expect(!sbx_sandbox_id_valid("0123456789abcde"));
        cr_expect(!sbx_sandbox_id_valid("../../etc/passwd"));
        cr_expect(!sbx_sandbox_id_valid(NULL));
}

Test(state, pid_start_time)
{
        uint64_t t = 0;
        cr_expect_eq(sbx_pid_start_time(getpid(), &t, NULL), 0);
        cr_expect_gt(t, 0);
        sbx_error *e = NULL;
        /* pid_max is at most 2^22 */
        cr_expect_eq(sbx_pid_start_time(4194304 + 1, &t, &e), -ESRCH);
        sbx_error_free(e);
}

Test(state, default_dir)
{
        unsetenv(SBX_STATE_DIR_ENV);
        cr_expect_str_eq(sbx_state_dir_default(), "/run/sandboxctl");
        setenv(SBX_STATE_DIR_ENV, "/tmp/x", 1);
        cr_expect_str_eq(sbx_state_dir_default(), "/tmp/x");
        setenv(SBX_STATE_DIR_ENV, "", 1);
        cr_expect_str_eq(sbx_state_dir_default(), "/run/sandboxctl");
}

Test(report, fields)
{
        struct sbx_spec *spec = medium();
        char *argv[] = { "sh", "-c", "exit 3", NULL };
        struct sbx_run_config cfg = { .spec = spec, .argv = argv, .profile = "medium" };
        struct sbx_run_result res = { .id = "0123456789abcdef", .exit_code = 137, .signal = SIGKILL,
                                      .wall_time_ms = 12, .max_rss_bytes = 4096,
                                      .started_at = { .tv_sec = 0, .tv_nsec = 5000000 } };
        char *text = NULL;
        cr_assert_eq(sbx_report_to_json(&cfg, &res, &text, NULL), 0);
        json_t *o = json_loads(text, 0, NULL);
        cr_assert_not_null(o, "%s", text);
        cr_expect_str_eq(json_string_value(json_object_get(o, "id")), "0123456789abcdef");
        cr_expect(json_is_null(json_object_get(o, "name")));
        cr_expect_str_eq(json_string_value(json_object_get(o, "signal")), "SIGKILL");
        cr_expect_eq(json_integer_value(json_object_get(o, "exit_code")), 137);
        cr_expect_str_eq(json_string_value(json_object_get(o, "started_at")),
                         "1970-01-01T00:00:00.005Z");
        cr_expect_str_eq(json_string_value(json_object_get(o, "network")), "none");
        json_t *l = json_object_get(o, "limits");
        cr_expect_str_eq(json_string_value(json_object_get(l, "timeout")), "300s");
        cr_expect_str_eq(json_string_value(json_object_get(l, "memory")), "128M");
        cr_expect_eq(json_array_size(json_object_get(o, "command")), 3);
        json_decref(o);
        free(text);
        sbx_spec_free(spec);
}

static char gc_dir[64];

static void write_file(const char *path, const char *text)
{
        FILE *f = fopen(path, "we");
        cr_assert_not_null(f, "%s: %s", path, strerror(errno));
        fputs(text, f);
        fclose(f);
}

static void make_sandbox_dir(const char *id, long long pid, long long start)
{
        char path[256], text[256];
        snprintf(path, sizeof(path), "%s/%s", gc_dir, id);
        cr_assert_eq(mkdir(path, 0700), 0);
        snprintf(path, sizeof(path), "%s/%s/scratch", gc_dir, id);
        cr_assert_eq(mkdir(path, 0700), 0);
        snprintf(path, sizeof(path), "%s/%s/state.json", gc_dir, id);
        snprintf(text, sizeof(text), "{\"id\":\"%s\",\"pid\":%lld,\"pid_start_time\":%lld}", id,
                 pid, start);
        write_file(path, text);
}

static void gc_setup(void)
{
        snprintf(gc_dir, sizeof(gc_dir), "/tmp/sbx-gc-XXXXXX");
        cr_assert_not_null(mkdtemp(gc_dir));
}

static void gc_teardown(void)
{
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", gc_dir);
        cr_expect_eq(system(cmd), 0);
}

static const struct sbx_gc_entry *find(const struct sbx_gc_entry *v, size_t n, const char *id)
{
        for (size_t i = 0; i < n; i++)
                if (!strcmp(v[i].id, id))
                        return &v[i];
        return NULL;
}

Test(gc, removes_dead_keeps_live_and_foreign, .init = gc_setup, .fini = gc_teardown)
{
        uint64_t start;
        char path[256], outside[256];
        cr_assert_eq(sbx_pid_start_time(getpid(), &start, NULL), 0);
        make_sandbox_dir("aaaaaaaaaaaaaaaa", getpid(), (long long)start);
        make_sandbox_dir("bbbbbbbbbbbbbbbb", getpid(), (long long)start + 1);
        make_sandbox_dir("cccccccccccccccc", 4194305, 1);
        /* A symlink in a dead sandbox's dir must be removed, not followed. */
        snprintf(outside, sizeof(outside), "%s/outside", gc_dir);
        write_file(outside, "keep me");
        snprintf(path, sizeof(path), "%s/cccccccccccccccc/scratch/link", gc_dir);
        cr_assert_eq(symlink(outside, path), 0);
        snprintf(path, sizeof(path), "%s/not-an-id", gc_dir);
        cr_assert_eq(mkdir(path, 0700), 0);

        struct sbx_gc_entry *v = NULL;
        size_t n = 0;
        cr_assert_eq(sbx_gc(gc_dir, true, &v, &n, NULL), 0);
        cr_expect_eq(n, 3);
        cr_expect(find(v, n, "cccccccccccccccc")->dead);
        cr_expect(!find(v, n, "cccccccccccccccc")->removed);
        sbx_gc_entries_free(v, n);

        cr_assert_eq(sbx_gc(gc_dir, false, &v, &n, NULL), 0);
        cr_assert_eq(n, 3);
        const struct sbx_gc_entry *live = find(v, n, "aaaaaaaaaaaaaaaa");
        const struct sbx_gc_entry *reused = find(v, n, "bbbbbbbbbbbbbbbb");
        const struct sbx_gc_entry *gone = find(v, n, "cccccccccccccccc");
        cr_expect(!live->dead && !live->removed);
        cr_expect(strstr(live->reason, "is running"), "%s", live->reason);
        cr_expect(reused->dead && reused->removed);
        cr_expect(strstr(reused->reason, "was reused by another process"), "%s", reused->reason);
        cr_expect(gone->dead && gone->removed && !gone->error);
        cr_expect_str_eq(gone->reason, "supervisor pid 4194305 is gone");
        sbx_gc_entries_free(v, n);

        snprintf(path, sizeof(path), "%s/aaaaaaaaaaaaaaaa/state.json", gc_dir);
        cr_expect_eq(access(path, F_OK), 0);
        snprintf(path, sizeof(path), "%s/cccccccccccccccc", gc_dir);
        cr_expect_eq(access(path, F_OK), -1);
        cr_expect_eq(access(outside, F_OK), 0, "the symlink was followed");
        snprintf(path, sizeof(path), "%s/not-an-id", gc_dir);
        cr_expect_eq(access(path, F_OK), 0);
}

Test(gc, missing_state_dir_is_empty)
{
        struct sbx_gc_entry *v = (void *)1;
        size_t n = 99;
        cr_assert_eq(sbx_gc("/nonexistent/sbx-state", false, &v, &n, NULL), 0);
        cr_expect_null(v);
        cr_expect_eq(n, 0);
}
