/* test_run: `sandboxctl run` end to end, as root: exit codes, isolation
 * (pid, uts, user, net namespaces), environment, workspace, signals, report.
 * Each test has its own SANDBOXCTL_STATE_DIR, which must be empty after. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "run_helpers.h"

TestSuite(run, .init = rt_setup, .fini = rt_teardown, .timeout = 60);

static void expect_exit(const char *script, int code)
{
        struct run_result r;
        cr_assert_eq(rt_run_sh(&r, script, NULL), 0);
        cr_expect_eq(r.exit_code, code, "'%s': exit %d, expected %d; stderr: %s", script,
                     r.exit_code, code, r.err);
        cr_expect_str_empty(r.err, "'%s': unexpected stderr: %s", script, r.err);
        sbx_test_result_free(&r);
}

Test(run, exit_code_passthrough)
{
        expect_exit("exit 0", 0);
        expect_exit("exit 3", 3);
        expect_exit("exit 255", 255);
}

Test(run, self_signal_is_128_plus_n)
{
        expect_exit("kill -TERM $$", 128 + SIGTERM);
        expect_exit("kill -KILL $$", 128 + SIGKILL);
}

Test(run, missing_command_is_127)
{
        struct run_result r;
        cr_assert_eq(sbx_test_run_sbx(30, &r, "run", "--", "no-such-command-xyz", NULL), 0);
        cr_expect_eq(r.exit_code, 127);
        cr_expect_str_eq(r.err, "sandboxctl: exec no-such-command-xyz: No such file or directory\n");
        sbx_test_result_free(&r);
}

Test(run, not_executable_is_126)
{
        struct run_result r;
        cr_assert_eq(sbx_test_run_sbx(30, &r, "run", "--", "/etc/passwd", NULL), 0);
        cr_expect_eq(r.exit_code, 126);
        cr_expect_str_eq(r.err, "sandboxctl: exec /etc/passwd: Permission denied\n");
        sbx_test_result_free(&r);
}

Test(run, setup_failure_is_125_with_step)
{
        struct run_result r;
        cr_assert_eq(sbx_test_run_sbx(30, &r, "run", "--rootfs", "/nonexistent", "--", "true",
                                      NULL), 0);
        cr_expect_eq(r.exit_code, 125);
        cr_expect(strstr(r.err, "sandboxctl: sandbox setup failed: mount: ") == r.err,
                  "stderr: %s", r.err);
        cr_expect(strstr(r.err, "/nonexistent: No such file or directory\n") != NULL,
                  "stderr: %s", r.err);
        sbx_test_result_free(&r);
}

Test(run, timeout_is_124_within_a_second)
{
        struct run_result r;
        cr_assert_eq(sbx_test_run_sbx(30, &r, "run", "--timeout", "1s", "--", "sleep", "30",
                                      NULL), 0);
        cr_expect_eq(r.exit_code, 124);
        cr_expect_str_eq(r.err, "sandboxctl: timeout 1s reached: sandbox killed\n");
        cr_expect(r.seconds >= 1.0 && r.seconds < 1.0 + 1.5 * sbx_test_time_scale(),
                  "wall time %.3f s", r.seconds);
        sbx_test_result_free(&r);
}

Test(run, usage_errors_exit_2)
{
        struct run_result r;
        cr_assert_eq(sbx_test_run_sbx(30, &r, "run", "true", NULL), 0);
        cr_expect_eq(r.exit_code, 2);
        cr_expect(strstr(r.err, "sandboxctl: missing '--' before the command\n") == r.err,
                  "stderr: %s", r.err);
        sbx_test_result_free(&r);
        cr_assert_eq(sbx_test_run_sbx(30, &r, "run", "--", NULL), 0);
        cr_expect_eq(r.exit_code, 2);
        cr_expect(strstr(r.err, "sandboxctl: missing command after '--'\n") == r.err,
                  "stderr: %s", r.err);
        sbx_test_result_free(&r);
        cr_assert_eq(sbx_test_run_sbx(30, &r, "run", "--network", "bogus", "--", "true", NULL), 0);
        cr_expect_eq(r.exit_code, 2);
        cr_expect(strstr(r.err, "sandboxctl: --network: 'bogus' is not one of none, host\n") == r.err,
                  "stderr: %s", r.err);
        sbx_test_result_free(&r);
        cr_assert_eq(sbx_test_run_sbx(30, &r, "run", "--memory", "12Q", "--", "true", NULL), 0);
        cr_expect_eq(r.exit_code, 2);
        cr_expect(strstr(r.err, "sandboxctl: --memory: ") == r.err, "stderr: %s", r.err);
        sbx_test_result_free(&r);
}

Test(run, unknown_profile_is_125)
{
        struct run_result r;
        cr_assert_eq(sbx_test_run_sbx(30, &r, "run", "--profile", "no-such-profile", "--", "true",
                                      NULL), 0);
        cr_expect_eq(r.exit_code, 125);
        cr_expect(strstr(r.err, "sandboxctl: sandbox setup failed: profile: ") == r.err,
                  "stderr: %s", r.err);
        sbx_test_result_free(&r);
}

Test(run, proc_shows_only_sandbox_pids)
{
        struct run_result r;
        char script[256];
        snprintf(script, sizeof(script),
                 "ls /proc | grep -cE '^[0-9]+$'; test -e /proc/%d && echo visible || echo absent",
                 (int)getpid());
        cr_assert_eq(rt_run_sh(&r, script, NULL), 0);
        cr_expect_eq(r.exit_code, 0, "stderr: %s", r.err);
        int count = 0;
        char seen[32] = "";
        cr_assert_eq(sscanf(r.out, "%d %31s", &count, seen), 2, "stdout: %s", r.out);
        /* init, sh, ls, grep (and perhaps a subshell) */
        cr_expect(count >= 3 && count <= 6, "%d pids in /proc", count);
        cr_expect_str_eq(seen, "absent");
        sbx_test_result_free(&r);
}

Test(run, init_is_pid_1_and_command_its_child)
{
        struct run_result r;
        cr_assert_eq(rt_run_sh(&r, "echo $$ $PPID", NULL), 0);
        cr_expect_str_eq(r.out, "2 1\n");
        sbx_test_result_free(&r);
}

Test(run, hostname_from_profile_and_option)
{
        struct run_result r;
        cr_assert_eq(rt_run_sh(&r, "cat /proc/sys/kernel/hostname", NULL), 0);
        cr_expect_str_eq(r.out, "sandbox\n");
        sbx_test_result_free(&r);
        cr_assert_eq(rt_run_sh(&r, "cat /proc/sys/kernel/hostname", "--hostname", "builder", NULL), 0);
        cr_expect_str_eq(r.out, "builder\n");
        sbx_test_result_free(&r);
}

Test(run, uid_0_inside)
{
        struct run_result r;
        cr_assert_eq(rt_run_sh(&r, "id -u; id -g; cat /proc/self/uid_map", NULL), 0);
        char expected[128];
        snprintf(expected, sizeof(expected), "0\n0\n%10u %10u %10u\n", 0u, (unsigned)geteuid(), 1u);
        cr_expect_str_eq(r.out, expected);
        sbx_test_result_free(&r);
}

Test(run, clean_environment_and_env_option)
{
        struct run_result r;
        setenv("SBX_LEAK_CHECK", "leaked", 1);
        setenv("TERM", "xterm-test", 1);
        cr_assert_eq(rt_run_sh(&r, "env | sort", "--env", "FOO=bar", "-e", "LANG=C", NULL), 0);
        cr_expect_str_eq(r.out, "FOO=bar\n"
                                "HOME=/\n"
                                "LANG=C\n"
                                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"
                                "PWD=/\n"
                                "TERM=xterm-test\n");
        sbx_test_result_free(&r);
        unsetenv("TERM");
        cr_assert_eq(rt_run_sh(&r, "echo $TERM", NULL), 0);
        cr_expect_str_eq(r.out, "dumb\n");
        sbx_test_result_free(&r);
}

Test(run, workspace_is_cwd_and_writable)
{
        struct run_result r;
        cr_assert_eq(rt_run_sh(&r, "pwd; echo $HOME; echo hello > out.txt", "--workspace",
                               rt_workspace(), NULL), 0);
        cr_expect_eq(r.exit_code, 0, "stderr: %s", r.err);
        cr_expect_str_eq(r.out, "/workspace\n/workspace\n");
        char path[512];
        snprintf(path, sizeof(path), "%s/out.txt", rt_workspace());
        char *text = rt_read_file(path);
        cr_expect_str_eq(text, "hello\n");
        free(text);
        sbx_test_result_free(&r);
}

Test(run, network_none_has_only_lo_up)
{
        struct run_result r;
        cr_assert_eq(rt_run_sh(&r, "ls /sys/class/net; echo $(( $(cat /sys/class/net/lo/flags) & 9 ))",
                               NULL), 0);
        /* IFF_UP | IFF_LOOPBACK = 9 */
        cr_expect_str_eq(r.out, "lo\n9\n", "stderr: %s", r.err);
        sbx_test_result_free(&r);
}

Test(run, network_host_sees_host_interfaces)
{
        struct run_result r, host;
        char *argv[] = { "sh", "-c", "ls /sys/class/net", NULL };
        cr_assert_eq(sbx_test_run(argv, NULL, 10, &host), 0);
        cr_assert_eq(rt_run_sh(&r, "ls /sys/class/net", "--network", "host", NULL), 0);
        cr_expect_str_eq(r.out, host.out);
        sbx_test_result_free(&r);
        sbx_test_result_free(&host);
}

Test(run, sigterm_is_forwarded_to_the_command)
{
        char *argv[] = { (char *)sbx_test_binary(), "run", "--", "sh", "-c",
                         "trap 'exit 7' TERM; echo ready; sleep 30 & wait", NULL };
        int out;
        pid_t pid = rt_spawn(argv, -1, &out);
        char buf[256] = "";
        cr_assert(rt_read_until(out, "ready\n", buf, sizeof(buf), 20), "no ready: %s", buf);
        cr_assert_eq(kill(pid, SIGTERM), 0);
        int status;
        cr_assert(rt_wait_pid(pid, 10, &status), "sandboxctl did not exit after SIGTERM");
        cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 7, "status 0x%x", status);
        close(out);
}

Test(run, orphans_are_reaped)
{
        struct run_result r;
        /* The subshell exits at once, so `true` is re-parented to init. */
        cr_assert_eq(rt_run_sh(&r,
                               "( true & ); i=0; while [ $i -lt 500 ]; do "
                               "grep -q '^State:.*Z' /proc/[0-9]*/status || { echo clean; exit 0; }; "
                               "i=$((i+1)); sleep 0.01; done; echo zombie",
                               NULL), 0);
        cr_expect_str_eq(r.out, "clean\n", "stderr: %s", r.err);
        sbx_test_result_free(&r);
}

static json_t *run_report(const char *script, const char *extra, int *ret_code)
{
        char report[512];
        snprintf(report, sizeof(report), "%s/report.json", rt_workspace());
        struct run_result r;
        cr_assert_eq(rt_run_sh(&r, script, "--report", report, "--name", "rep", "--timeout",
                               extra, NULL), 0);
        *ret_code = r.exit_code;
        sbx_test_result_free(&r);
        json_error_t je;
        json_t *o = json_load_file(report, 0, &je);
        cr_assert_not_null(o, "report: %s", je.text);
        return o;
}

Test(run, report_fields)
{
        int code;
        json_t *o = run_report("kill -INT $$", "30s", &code);
        cr_expect_eq(code, 130);
        cr_expect_eq(strlen(json_string_value(json_object_get(o, "id"))), 16);
        cr_expect_str_eq(json_string_value(json_object_get(o, "name")), "rep");
        cr_expect_str_eq(json_string_value(json_object_get(o, "profile")), "medium");
        json_t *cmd = json_object_get(o, "command");
        cr_expect_eq(json_array_size(cmd), 3);
        cr_expect_str_eq(json_string_value(json_array_get(cmd, 0)), "sh");
        cr_expect_eq(json_integer_value(json_object_get(o, "exit_code")), 130);
        cr_expect_str_eq(json_string_value(json_object_get(o, "signal")), "SIGINT");
        cr_expect(json_is_false(json_object_get(o, "timed_out")));
        cr_expect(json_integer_value(json_object_get(o, "wall_time_ms")) >= 0);
        cr_expect(json_is_integer(json_object_get(o, "user_cpu_ms")));
        cr_expect(json_is_integer(json_object_get(o, "system_cpu_ms")));
        cr_expect(json_integer_value(json_object_get(o, "max_rss_bytes")) > 0);
        const char *started = json_string_value(json_object_get(o, "started_at"));
        cr_expect(started && strlen(started) == 24 && started[10] == 'T' && started[23] == 'Z',
                  "started_at %s", started);
        json_t *limits = json_object_get(o, "limits");
        cr_expect_str_eq(json_string_value(json_object_get(limits, "memory")), "128M");
        cr_expect_eq(json_integer_value(json_object_get(limits, "pids")), 100);
        cr_expect_str_eq(json_string_value(json_object_get(limits, "cpu")), "50%");
        cr_expect_str_eq(json_string_value(json_object_get(limits, "timeout")), "30s");
        json_t *ns = json_object_get(o, "namespaces");
        cr_expect_eq(json_array_size(ns), 7);
        cr_expect_str_eq(json_string_value(json_array_get(ns, 0)), "user");
        cr_expect(json_is_null(json_object_get(o, "setup_error")));
        json_decref(o);
}

Test(run, report_on_timeout)
{
        int code;
        json_t *o = run_report("sleep 30", "1s", &code);
        cr_expect_eq(code, 124);
        cr_expect(json_is_true(json_object_get(o, "timed_out")));
        cr_expect_eq(json_integer_value(json_object_get(o, "exit_code")), 124);
        json_int_t wall = json_integer_value(json_object_get(o, "wall_time_ms"));
        cr_expect(wall >= 1000 && wall < 2000, "wall_time_ms %lld", (long long)wall);
        json_decref(o);
}

Test(run, report_to_stderr)
{
        struct run_result r;
        cr_assert_eq(rt_run_sh(&r, "exit 4", "--report", "-", NULL), 0);
        cr_expect_eq(r.exit_code, 4);
        json_error_t je;
        json_t *o = json_loads(r.err, 0, &je);
        cr_assert_not_null(o, "stderr is not JSON: %s: %s", je.text, r.err);
        cr_expect_eq(json_integer_value(json_object_get(o, "exit_code")), 4);
        cr_expect(json_is_null(json_object_get(o, "name")));
        json_decref(o);
        sbx_test_result_free(&r);
}

SBX_TEST_MAIN(SBX_NEED_ROOT)
