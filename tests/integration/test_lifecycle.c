/* Integration tests: long-lived sandboxes: create, list, info, stop, start,
 * restart, kill, destroy; names and id prefixes; concurrent starts; a killed
 * supervisor; the control socket's peer check; nothing left behind. */
#include <criterion/criterion.h>
#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "lifecycle_helpers.h"
#include "run_helpers.h"
#include "sandboxctl/control.h"
#include "sandboxctl/runtime.h"

TestSuite(lifecycle, .init = lc_setup, .fini = lc_teardown, .timeout = 240);

static int info_int(const char *id, const char *key)
{
        json_t *o = lc_info(id);
        int v = o ? (int)json_integer_value(json_object_get(o, key)) : -1;

        json_decref(o);
        return v;
}

Test(lifecycle, round_trip)
{
        struct run_result r;
        char *id = lc_create("echo up; exec sleep 300", "--name", "rt", "--timeout", "0s", NULL);

        cr_assert_eq(lc_sbx(&r, "list", "--json", NULL), 0);
        json_t *arr = json_loads(r.out, 0, NULL);
        cr_assert_eq(json_array_size(arr), 1);
        json_t *e = json_array_get(arr, 0);
        cr_assert_str_eq(json_string_value(json_object_get(e, "id")), id);
        cr_assert_str_eq(json_string_value(json_object_get(e, "name")), "rt");
        cr_assert_str_eq(json_string_value(json_object_get(e, "status")), "running");
        cr_assert_str_eq(json_string_value(json_object_get(e, "profile")), "medium");
        cr_assert_not_null(json_object_get(e, "usage"), "a running sandbox has usage");
        json_decref(arr);
        sbx_test_result_free(&r);

        cr_assert_eq(lc_sbx(&r, "list", NULL), 0);
        cr_assert(strstr(r.out, id) && strstr(r.out, "running"), "%s", r.out);
        sbx_test_result_free(&r);

        json_t *info = lc_info("rt");
        cr_assert_not_null(info);
        cr_assert_str_eq(json_string_value(json_object_get(json_object_get(info, "config"),
                                                           "restart")), "no");
        cr_assert(strstr(json_string_value(json_object_get(info, "cgroup")), id));
        cr_assert_eq(json_integer_value(json_object_get(json_object_get(info, "limits"), "memory")),
                     128 << 20);
        int init1 = (int)json_integer_value(json_object_get(info, "init_pid"));
        cr_assert(lc_pid_alive(init1));
        json_decref(info);

        cr_assert_eq(lc_sbx(&r, "stop", "--time", "5", "rt", NULL), 0, "%s", r.err);
        sbx_test_result_free(&r);
        char *s = lc_status(id);
        cr_assert_str_eq(s, "stopped");
        free(s);
        cr_assert_not(lc_pid_alive(init1));

        cr_assert_eq(lc_sbx(&r, "start", id, NULL), 0, "%s", r.err);
        sbx_test_result_free(&r);
        int init2 = info_int(id, "init_pid");
        cr_assert(init2 > 0 && init2 != init1 && lc_pid_alive(init2));

        cr_assert_eq(lc_sbx(&r, "restart", "--time", "2", id, NULL), 0, "%s", r.err);
        sbx_test_result_free(&r);
        int init3 = info_int(id, "init_pid");
        cr_assert(init3 > 0 && init3 != init2 && lc_pid_alive(init3));
        cr_assert_not(lc_pid_alive(init2));

        int sv = info_int(id, "pid");
        cr_assert_eq(lc_sbx(&r, "destroy", "rt", NULL), 0, "%s", r.err);
        sbx_test_result_free(&r);
        cr_assert_eq(lc_sandbox_dirs(), 0);
        cr_assert_not(lc_pid_alive(init3));
        cr_assert(rt_wait_no_process_with_arg(id, 10), "the supervisor %d is still there", sv);
        cr_assert_eq(rt_cgroup_dirs_named(id), 0);

        cr_assert_eq(lc_sbx(&r, "destroy", "rt", NULL), 3, "destroy twice: not found");
        cr_assert(strstr(r.err, "no such sandbox: 'rt'"), "%s", r.err);
        sbx_test_result_free(&r);
        cr_assert_eq(lc_count_events(id, "created"), 1);
        cr_assert_eq(lc_count_events(id, "started"), 3);
        cr_assert_eq(lc_count_events(id, "stopped"), 3); /* stop, restart, destroy */
        cr_assert_eq(lc_count_events(id, "destroyed"), 1);
        free(id);
}

Test(lifecycle, names_and_prefixes)
{
        struct run_result r;
        char *ids[17] = { 0 };
        int a = -1, b = -1;

        ids[0] = lc_create("sleep 300", "--name", "alpha", "--no-start", NULL);
        cr_assert_eq(lc_sbx(&r, "create", "--name", "alpha", "--", "true", NULL), 5);
        cr_assert(strstr(r.err, "name 'alpha' is already used by sandbox"), "%s", r.err);
        sbx_test_result_free(&r);
        cr_assert_eq(lc_sandbox_dirs(), 1, "the clash created nothing");

        /* 17 ids: two of them share their first hex digit. */
        for (int i = 1; i < 17 && a < 0; i++) {
                ids[i] = lc_create("sleep 300", "--no-start", NULL);
                for (int j = 0; j < i; j++)
                        if (ids[j][0] == ids[i][0]) {
                                a = j;
                                b = i;
                        }
        }
        cr_assert(a >= 0);
        char prefix[2] = { ids[a][0], 0 };
        cr_assert_eq(lc_sbx(&r, "info", prefix, NULL), 4);
        cr_assert(strstr(r.err, "ambiguous sandbox id prefix") && strstr(r.err, ids[a]) &&
                          strstr(r.err, ids[b]),
                  "%s", r.err);
        sbx_test_result_free(&r);
        /* The shortest unique prefix of ids[b] works. */
        size_t len = 1;
        while (strncmp(ids[a], ids[b], len) == 0)
                len++;
        char *uniq = strndup(ids[b], len);
        bool unique = true;
        for (int i = 0; i < 17 && ids[i]; i++)
                if (i != b && strncmp(ids[i], uniq, len) == 0)
                        unique = false;
        if (unique) {
                cr_assert_eq(lc_sbx(&r, "info", "--json", uniq, NULL), 0, "%s", r.err);
                cr_assert(strstr(r.out, ids[b]));
                sbx_test_result_free(&r);
        }
        free(uniq);
        cr_assert_eq(lc_sbx(&r, "info", "nosuchname", NULL), 3);
        cr_assert(strstr(r.err, "no such sandbox: 'nosuchname'"), "%s", r.err);
        sbx_test_result_free(&r);
        cr_assert_eq(lc_sbx(&r, "exec", "alpha", "--", "true", NULL), 6,
                     "exec into a stopped sandbox: %d %s", r.exit_code, r.err);
        char want[128];
        snprintf(want, sizeof(want), "exec: sandbox %s is not running (stopped", ids[0]);
        cr_assert(strstr(r.err, want), "%s", r.err);
        sbx_test_result_free(&r);
        for (int i = 0; i < 17 && ids[i]; i++) {
                cr_assert_eq(lc_sbx(&r, "destroy", ids[i], NULL), 0, "%s", r.err);
                sbx_test_result_free(&r);
                free(ids[i]);
        }
}

Test(lifecycle, concurrent_starts_are_serialized)
{
        char *id = lc_create("exec sleep 300", "--no-start", "--timeout", "0s", NULL);
        char *argv[] = { (char *)sbx_test_binary(), (char *)"start", id, NULL };
        int out1, out2, st1, st2;
        char buf[256] = "";

        pid_t p1 = rt_spawn(argv, -1, &out1);
        pid_t p2 = rt_spawn(argv, -1, &out2);
        cr_assert(rt_wait_pid(p1, 60, &st1));
        cr_assert(rt_wait_pid(p2, 60, &st2));
        rt_read_until(out1, "\n", buf, sizeof(buf), 1);
        close(out1);
        close(out2);
        int c1 = WEXITSTATUS(st1), c2 = WEXITSTATUS(st2);
        cr_assert((c1 == 0 && c2 == 5) || (c1 == 5 && c2 == 0), "exit codes %d and %d", c1, c2);
        cr_assert_eq(lc_count_events(id, "started"), 1);
        char *s = lc_status(id);
        cr_assert_str_eq(s, "running");
        free(s);
        struct run_result r;
        cr_assert_eq(lc_sbx(&r, "destroy", "--time", "0", id, NULL), 0);
        sbx_test_result_free(&r);
        free(id);
}

Test(lifecycle, killed_supervisor_shows_error_and_gc_cleans)
{
        char *id = lc_create("exec sleep 300", "--timeout", "0s", NULL);
        int sv = info_int(id, "pid"), init = info_int(id, "init_pid");
        struct run_result r;

        cr_assert(sv > 0 && init > 0);
        cr_assert_eq(kill(sv, SIGKILL), 0);
        cr_assert(lc_wait_status(id, "error", 10));
        json_t *o = lc_info(id);
        cr_assert_str_eq(json_string_value(json_object_get(o, "reason")), "supervisor died");
        json_decref(o);
        cr_assert_eq(lc_sbx(&r, "list", NULL), 0);
        cr_assert(strstr(r.out, "error(supervisor died)"), "%s", r.out);
        sbx_test_result_free(&r);
        /* The init had PR_SET_PDEATHSIG: the sandbox died with its supervisor. */
        for (int i = 0; i < 200 && lc_pid_alive(init); i++)
                poll(NULL, 0, 50);
        cr_assert_not(lc_pid_alive(init));
        cr_assert_eq(lc_sbx(&r, "stop", id, NULL), 6, "no supervisor to talk to");
        sbx_test_result_free(&r);
        /* A live sandbox beside it: gc never touches it. */
        char *live = lc_create("exec sleep 300", "--timeout", "0s", NULL);
        cr_assert_eq(rt_cgroup_dirs_named(id) > 0, true, "the dead sandbox's cgroup is still there");
        cr_assert_eq(lc_sbx(&r, "gc", NULL), 0, "%s", r.err);
        char want[128];
        snprintf(want, sizeof(want), "removed %s (supervisor pid %d is gone)\n", id, sv);
        cr_assert_str_eq(r.out, want);
        sbx_test_result_free(&r);
        cr_assert_eq(lc_sandbox_dirs(), 1);
        cr_assert_eq(rt_cgroup_dirs_named(id), 0);
        cr_assert_eq(lc_count_events(id, "destroyed"), 1, "gc writes an event");
        char *s = lc_status(live);
        cr_assert_str_eq(s, "running");
        free(s);
        cr_assert_eq(lc_sbx(&r, "destroy", "--time", "0", live, NULL), 0, "%s", r.err);
        sbx_test_result_free(&r);
        cr_assert_eq(lc_sbx(&r, "list", "--json", NULL), 0);
        cr_assert_str_eq(r.out, "[]\n");
        sbx_test_result_free(&r);
        free(live);
        free(id);
}

static int wait_info_int(const char *id, const char *key, int not_value, double timeout_s)
{
        for (int i = 0; i < (int)(timeout_s * 20); i++) {
                int v = info_int(id, key);
                if (v != not_value)
                        return v;
                poll(NULL, 0, 50);
        }
        return not_value;
}

/* kill -9 of the init: the supervisor sees it through its pidfd. */
Test(lifecycle, killed_init_is_noticed)
{
        struct run_result r;
        char *id = lc_create("exec sleep 300", "--timeout", "0s", NULL);
        int init = info_int(id, "init_pid");

        cr_assert_eq(kill(init, SIGKILL), 0);
        cr_assert(lc_wait_status(id, "stopped", 20));
        json_t *o = lc_info(id);
        cr_assert_str_eq(json_string_value(json_object_get(o, "reason")), "killed by signal 9");
        cr_assert_eq(json_integer_value(json_object_get(json_object_get(o, "exit"), "signal")), 9);
        json_decref(o);
        cr_assert_eq(lc_count_events(id, "stopped"), 0, "not stopped by hand");
        cr_assert_eq(lc_sbx(&r, "destroy", id, NULL), 0, "%s", r.err);
        sbx_test_result_free(&r);
        free(id);

        /* With --restart always, it comes back with a new init. */
        id = lc_create("exec sleep 300", "--timeout", "0s", "--restart", "always", NULL);
        init = info_int(id, "init_pid");
        cr_assert_eq(kill(init, SIGKILL), 0);
        cr_assert_eq(wait_info_int(id, "restarts", 0, 20), 1);
        cr_assert(lc_wait_status(id, "running", 20));
        int init2 = info_int(id, "init_pid");
        cr_assert(init2 > 0 && init2 != init, "init %d, then %d", init, init2);
        cr_assert_eq(lc_count_events(id, "restarted"), 1);
        cr_assert_eq(lc_sbx(&r, "destroy", "--time", "0", id, NULL), 0, "%s", r.err);
        sbx_test_result_free(&r);
        free(id);
}

/* A corrupt state.json: listed as broken with its path, the others still
 * listed; gc keeps it during its grace period, gc --force removes it. */
Test(lifecycle, corrupt_state_is_listed_and_collected)
{
        struct run_result r;
        char *good = lc_create("exec sleep 300", "--timeout", "0s", NULL);
        const char *bad = "00000000deadbeef";
        char path[512];

        snprintf(path, sizeof(path), "%s/%s", lc_state_dir(), bad);
        cr_assert_eq(mkdir(path, 0700), 0);
        strcat(path, "/state.json");
        FILE *f = fopen(path, "w");
        cr_assert_not_null(f);
        fputs("{\"id\": \"00000000deadbeef\", \"status\": \"runn", f);
        fclose(f);
        cr_assert_eq(lc_sbx(&r, "list", NULL), 0, "%s", r.err);
        cr_assert(strstr(r.out, good) && strstr(r.out, "running"), "%s", r.out);
        cr_assert(strstr(r.out, bad) && strstr(r.out, "error(broken)"), "%s", r.out);
        cr_assert(strstr(r.out, path) || strstr(r.err, path), "the path is shown: %s%s", r.out,
                  r.err);
        sbx_test_result_free(&r);
        cr_assert_eq(lc_sbx(&r, "gc", NULL), 0, "%s", r.err);
        cr_assert_str_eq(r.out, "");
        sbx_test_result_free(&r);
        cr_assert_eq(lc_sandbox_dirs(), 2, "kept during the grace period");
        cr_assert_eq(lc_sbx(&r, "gc", "--force", NULL), 0, "%s", r.err);
        char want[128];
        snprintf(want, sizeof(want), "removed %s (no valid state.json (--force))\n", bad);
        cr_assert_str_eq(r.out, want);
        sbx_test_result_free(&r);
        cr_assert_eq(lc_sandbox_dirs(), 1);
        char *s = lc_status(good);
        cr_assert_str_eq(s, "running", "gc --force never touches a live sandbox");
        free(s);
        cr_assert_eq(lc_sbx(&r, "destroy", "--time", "0", good, NULL), 0, "%s", r.err);
        sbx_test_result_free(&r);
        free(good);
}

Test(lifecycle, twenty_create_destroy_leave_nothing)
{
        struct run_result r;

        for (int i = 0; i < 20; i++) {
                char *id = lc_create("exec sleep 300", "--timeout", "0s", NULL);
                cr_assert_eq(lc_sbx(&r, "destroy", "--time", "0", id, NULL), 0, "%s", r.err);
                sbx_test_result_free(&r);
                cr_assert(rt_wait_no_process_with_arg(id, 10));
                cr_assert_eq(rt_cgroup_dirs_named(id), 0);
                free(id);
        }
        cr_assert_eq(lc_sandbox_dirs(), 0);
        cr_assert_not(rt_process_with_arg(lc_state_dir()), "a supervisor is left");
}

Test(lifecycle, control_socket_refuses_other_uid)
{
        char *id = lc_create("exec sleep 300", "--timeout", "0s", NULL);
        char path[512];
        int pipefd[2];

        snprintf(path, sizeof(path), "%s/%s/%s", lc_state_dir(), id, SBX_CONTROL_SOCKET);
        cr_assert_eq(pipe(pipefd), 0);
        pid_t child = fork();
        if (child == 0) {
                sbx_autoerror e = NULL;
                json_t *req = json_pack("{s:s}", "op", "stop");
                if (setgid(65534) < 0 || setuid(65534) < 0)
                        _exit(2);
                int rc = sbx_control_call(path, req, 5000, NULL, &e);
                dprintf(pipefd[1], "%d %s", rc, e && e->message ? e->message : "");
                _exit(0);
        }
        close(pipefd[1]);
        int st;
        cr_assert(rt_wait_pid(child, 20, &st));
        char buf[512] = "";
        rt_read_until(pipefd[0], "\n", buf, sizeof(buf), 1);
        close(pipefd[0]);
        char want[64];
        snprintf(want, sizeof(want), "%d permission denied: uid 65534", -EACCES);
        cr_assert(strncmp(buf, want, strlen(want)) == 0, "got '%s'", buf);
        char *s = lc_status(id);
        cr_assert_str_eq(s, "running", "the refused request changed nothing");
        free(s);
        struct run_result r;
        cr_assert_eq(lc_sbx(&r, "destroy", "--time", "0", id, NULL), 0);
        sbx_test_result_free(&r);
        free(id);
}

Test(lifecycle, exec_joins_the_sandbox)
{
        char *id = lc_create("echo marker > /tmp/inside; exec sleep 300", "--timeout", "0s",
                             "--hostname", "boxy", NULL);
        struct run_result r;

        /* The command wrote its marker before exec can see it: poll for it. */
        for (int i = 0; i < 100; i++) {
                int c = lc_sbx(&r, "exec", id, "--", "cat", "/tmp/inside", NULL);
                bool seen = c == 0 && strcmp(r.out, "marker\n") == 0;
                sbx_test_result_free(&r);
                if (seen)
                        break;
                cr_assert(i < 99, "the sandbox's /tmp never showed the marker");
                poll(NULL, 0, 50);
        }
        cr_assert_eq(lc_sbx(&r, "exec", id, "--", "sh", "-c",
                            "echo pid=$$; hostname; grep -E '^(CapEff|Seccomp):' /proc/self/status; "
                            "ps -o pid= 2>/dev/null | head -1; ls /proc | grep -c '^[0-9]'",
                            NULL),
                     0, "%s", r.err);
        cr_assert(strstr(r.out, "\nboxy\n"), "%s", r.out);
        cr_assert(strstr(r.out, "CapEff:\t0000000000000000\n"), "%s", r.out);
        cr_assert(strstr(r.out, "Seccomp:\t2\n"), "%s", r.out);
        int pid = atoi(strstr(r.out, "pid=") + 4);
        cr_assert(pid > 1 && pid < 20, "pid %d is not in the sandbox's pid namespace", pid);
        sbx_test_result_free(&r);
        /* exec's process is in the sandbox's cgroup (the root of its cgroup
         * namespace) in every hierarchy the sandbox has, and so is init. */
        cr_assert_eq(lc_sbx(&r, "exec", id, "--", "cat", "/proc/self/cgroup", NULL), 0, "%s", r.err);
        cr_assert(strstr(r.out, ":pids:/\n") || strstr(r.out, "0::/\n"), "%s", r.out);
        cr_assert_null(strstr(r.out, ":/.."), "outside the sandbox's cgroup: %s", r.out);
        sbx_test_result_free(&r);
        char path[64], *init_cg;
        snprintf(path, sizeof(path), "/proc/%d/cgroup", info_int(id, "init_pid"));
        init_cg = rt_read_file(path);
        cr_assert(strstr(init_cg, id), "init is not in the sandbox's cgroup: %s", init_cg);
        free(init_cg);
        cr_assert_eq(lc_sbx(&r, "exec", "-e", "FOO=bar", id, "--", "sh", "-c", "echo $FOO; exit 7",
                            NULL), 7);
        cr_assert_str_eq(r.out, "bar\n");
        sbx_test_result_free(&r);
        cr_assert_eq(lc_sbx(&r, "exec", id, "--", "no-such-command", NULL), 127);
        sbx_test_result_free(&r);
        cr_assert_eq(lc_sbx(&r, "exec", "-t", id, "--", "sh", "-c", "test -t 0 && test -t 1 && tty",
                            NULL), 0, "%s", r.err);
        cr_assert(strncmp(r.out, "/dev/pts/", 9) == 0, "%s", r.out);
        sbx_test_result_free(&r);
        cr_assert_eq(lc_sbx(&r, "destroy", "--time", "0", id, NULL), 0);
        sbx_test_result_free(&r);
        free(id);
}

Test(lifecycle, restart_on_failure_twice_then_error)
{
        char *id = lc_create("echo run; exit 3", "--restart", "on-failure:2", "--timeout", "0s", NULL);
        struct run_result r;

        cr_assert(lc_wait_status(id, "error", 30));
        json_t *o = lc_info(id);
        cr_assert_eq(json_integer_value(json_object_get(o, "restarts")), 2);
        cr_assert_str_eq(json_string_value(json_object_get(o, "reason")),
                         "restart limit (2) reached: exited with code 3");
        cr_assert_eq(json_integer_value(json_object_get(json_object_get(o, "exit"), "code")), 3);
        json_decref(o);
        cr_assert_eq(lc_count_events(id, "started"), 3);
        cr_assert_eq(lc_count_events(id, "exited"), 3);
        cr_assert_eq(lc_count_events(id, "restarted"), 2);
        cr_assert_eq(lc_count_events(id, "error"), 1);
        cr_assert_eq(lc_sbx(&r, "logs", id, NULL), 0);
        cr_assert_str_eq(r.out, "run\nrun\nrun\n");
        sbx_test_result_free(&r);
        cr_assert_eq(lc_sbx(&r, "destroy", id, NULL), 0);
        sbx_test_result_free(&r);
        free(id);
}

Test(lifecycle, logs_are_captured_and_rotated)
{
        /* 300 lines of 100 bytes, a 4 KiB cap: the file is rotated many times. */
        char *id = lc_create("i=0; while [ $i -lt 300 ]; do printf '%099d\\n' $i; i=$((i+1)); done; "
                             "echo last >&2",
                             "--log-max", "4K", "--timeout", "0s", NULL);
        char path[512];
        struct stat st;
        struct run_result r;

        cr_assert(lc_wait_status(id, "stopped", 30));
        snprintf(path, sizeof(path), "%s/%s/logs", lc_state_dir(), id);
        cr_assert_eq(stat(path, &st), 0);
        cr_assert_leq(st.st_size, 4096);
        strcat(path, ".1");
        cr_assert_eq(stat(path, &st), 0);
        cr_assert_leq(st.st_size, 4096);
        cr_assert_eq(lc_sbx(&r, "logs", id, NULL), 0);
        size_t len = strlen(r.out);
        cr_assert(len > 4096 && len <= 8192, "%zu bytes", len);
        cr_assert(len >= 5 && strcmp(r.out + len - 5, "last\n") == 0, "%s", r.out + len - 20);
        sbx_test_result_free(&r);
        cr_assert_eq(lc_sbx(&r, "destroy", id, NULL), 0);
        sbx_test_result_free(&r);
        free(id);
}

Test(lifecycle, events_follow)
{
        char *argv[] = { (char *)sbx_test_binary(), (char *)"events", (char *)"-f", (char *)"--json",
                         (char *)"--count", (char *)"2", NULL };
        char buf[8192] = "";
        int out, st;
        struct run_result r;

        pid_t p = rt_spawn(argv, -1, &out);
        char *id = lc_create("exec sleep 300", "--timeout", "0s", NULL);
        cr_assert(rt_read_until(out, "\"started\"", buf, sizeof(buf), 20), "%s", buf);
        cr_assert(rt_wait_pid(p, 20, &st));
        close(out);
        cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        cr_assert(strstr(buf, "\"created\"") && strstr(buf, id), "%s", buf);
        cr_assert_eq(lc_sbx(&r, "events", "--json", id, NULL), 0);
        cr_assert(strstr(r.out, "\"type\":\"started\""), "%s", r.out);
        sbx_test_result_free(&r);
        cr_assert_eq(lc_sbx(&r, "destroy", "--time", "0", id, NULL), 0);
        sbx_test_result_free(&r);
        free(id);
}

/* lifecycle.stop_signal, stop_timeout and restart from the profile; --restart wins. */
Test(lifecycle, profile_lifecycle_keys)
{
        char prof[512];
        struct run_result r;

        snprintf(prof, sizeof(prof), "%s/lc.yaml", lc_state_dir());
        FILE *f = fopen(prof, "w");
        cr_assert_not_null(f);
        fputs("extends: medium\nlifecycle:\n  stop_signal: INT\n  stop_timeout: 60s\n"
              "  restart: on-failure:4\n", f);
        fclose(f);
        /* Only INT ends it (TERM is ignored), at once: well within the 60 s. */
        char *id = lc_create("trap 'echo got-int; exit 0' INT; trap '' TERM; echo ready; "
                             "while :; do sleep 0.1; done",
                             "--profile", prof, "--timeout", "0s", NULL);
        json_t *o = lc_info(id);
        cr_assert_str_eq(json_string_value(json_object_get(json_object_get(o, "config"),
                                                           "restart")), "on-failure:4");
        json_decref(o);
        for (int i = 0; i < 100; i++) { /* the trap is set once the shell runs */
                cr_assert_eq(lc_sbx(&r, "logs", id, NULL), 0);
                bool ready = strstr(r.out, "ready") != NULL;
                sbx_test_result_free(&r);
                if (ready)
                        break;
                poll(NULL, 0, 50);
        }
        cr_assert_eq(lc_sbx(&r, "stop", id, NULL), 0, "%s", r.err);
        sbx_test_result_free(&r);
        o = lc_info(id);
        cr_assert_str_eq(json_string_value(json_object_get(o, "reason")),
                         "stopped (exited with code 0)");
        json_decref(o);
        cr_assert_eq(lc_sbx(&r, "logs", id, NULL), 0);
        cr_assert(strstr(r.out, "got-int\n"), "%s", r.out);
        sbx_test_result_free(&r);
        cr_assert_eq(lc_sbx(&r, "destroy", "--time", "0", id, NULL), 0, "%s", r.err);
        sbx_test_result_free(&r);
        free(id);

        id = lc_create("exit 0", "--profile", prof, "--restart", "no", "--no-start", NULL);
        o = lc_info(id);
        cr_assert_str_eq(json_string_value(json_object_get(json_object_get(o, "config"),
                                                           "restart")), "no");
        json_decref(o);
        cr_assert_eq(lc_sbx(&r, "destroy", id, NULL), 0, "%s", r.err);
        sbx_test_result_free(&r);
        free(id);
}

SBX_TEST_MAIN(SBX_NEED_ROOT)
