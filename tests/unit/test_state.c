/* Unit tests: the registry (state.json, lookup, liveness), the event log
 * (append, rotation, follow) and the control socket (one message each way). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandboxctl/control.h"
#include "sandboxctl/events.h"
#include "sandboxctl/profile.h"
#include "sandboxctl/state.h"
#include "sandboxctl/util.h"

static char dir[] = "/tmp/sbx-test-state-XXXXXX";

static void setup_dir(void)
{
        strcpy(dir, "/tmp/sbx-test-state-XXXXXX");
        cr_assert_not_null(mkdtemp(dir));
}

static void teardown_dir(void)
{
        char cmd[128];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        cr_assert_eq(system(cmd), 0);
}

TestSuite(state, .init = setup_dir, .fini = teardown_dir);

/* A sandbox "supervised" by this test process (alive). */
static struct sbx_sandbox *new_sandbox(const char *id, const char *name)
{
        struct sbx_sandbox *sb = calloc(1, sizeof(*sb));

        memcpy(sb->id, id, SBX_ID_LEN + 1);
        sb->name = name ? strdup(name) : NULL;
        sb->profile = strdup("medium");
        sb->created_at = strdup("2024-05-01T12:00:00.000Z");
        sb->status = SBX_STATUS_RUNNING;
        sb->supervisor_pid = getpid();
        cr_assert_eq(sbx_pid_start_time(getpid(), &sb->supervisor_start, NULL), 0);
        sb->long_lived = true;
        sbx_strv_push(&sb->argv, "sleep");
        sbx_strv_push(&sb->argv, "10");
        sb->spec_json = strdup("{\"name\":\"x\"}");
        sb->restart.mode = SBX_RESTART_ON_FAILURE;
        sb->restart.max = 3;
        sb->limit_memory = 64 << 20;
        return sb;
}

static void create(const char *id, const char *name)
{
        sbx_autoerror e = NULL;
        __attribute__((cleanup(sbx_sandbox_freep))) struct sbx_sandbox *sb = new_sandbox(id, name);

        cr_assert_eq(sbx_registry_create(dir, sb, &e), 0, "%s", e ? e->message : "");
}

Test(state, write_read_round_trip)
{
        __attribute__((cleanup(sbx_sandbox_freep))) struct sbx_sandbox *sb = NULL;
        sbx_autoerror e = NULL;

        create("0123456789abcdef", "web");
        cr_assert_eq(sbx_registry_read(dir, "0123456789abcdef", &sb, &e), 0);
        cr_assert_str_eq(sb->name, "web");
        cr_assert_eq(sb->status, SBX_STATUS_RUNNING);
        cr_assert_eq(sb->argv.n, 2);
        cr_assert_str_eq(sb->argv.items[1], "10");
        cr_assert_eq(sb->restart.mode, SBX_RESTART_ON_FAILURE);
        cr_assert_eq(sb->restart.max, 3);
        cr_assert_eq(sb->limit_memory, 64u << 20);
        cr_assert_str_eq(sb->spec_json, "{\"name\":\"x\"}");
        cr_assert_not(sb->supervisor_dead);
        /* No temp file is left next to it. */
        char path[256];
        snprintf(path, sizeof(path), "%s/0123456789abcdef/state.json.%d.tmp", dir, (int)getpid());
        cr_assert_eq(access(path, F_OK), -1);
}

Test(state, dead_supervisor_is_error)
{
        __attribute__((cleanup(sbx_sandbox_freep))) struct sbx_sandbox *sb = new_sandbox("00000000000000aa", NULL);
        __attribute__((cleanup(sbx_sandbox_freep))) struct sbx_sandbox *back = NULL;
        pid_t child = fork();

        if (child == 0)
                _exit(0);
        waitpid(child, NULL, 0);
        sb->supervisor_pid = child; /* reaped: gone */
        cr_assert_eq(sbx_registry_create(dir, sb, NULL), 0);
        cr_assert_eq(sbx_registry_read(dir, sb->id, &back, NULL), 0);
        cr_assert_eq(back->status, SBX_STATUS_ERROR);
        cr_assert_str_eq(back->reason, "supervisor died");
        cr_assert(back->supervisor_dead);
}

Test(state, pid_reuse_is_not_alive)
{
        __attribute__((cleanup(sbx_sandbox_freep))) struct sbx_sandbox *sb = new_sandbox("00000000000000ab", NULL);

        sb->supervisor_start += 1;
        cr_assert_not(sbx_sandbox_supervisor_alive(sb));
        sb->supervisor_start -= 1;
        cr_assert(sbx_sandbox_supervisor_alive(sb));
}

Test(state, resolve_id_prefix_name)
{
        char id[SBX_ID_LEN + 1];
        sbx_autoerror e = NULL;

        create("abc0000000000001", "one");
        create("abc0000000000002", NULL);
        create("def0000000000003", "two");
        cr_assert_eq(sbx_registry_resolve(dir, "abc0000000000002", id, NULL), 0);
        cr_assert_str_eq(id, "abc0000000000002");
        cr_assert_eq(sbx_registry_resolve(dir, "de", id, NULL), 0);
        cr_assert_str_eq(id, "def0000000000003");
        cr_assert_eq(sbx_registry_resolve(dir, "one", id, NULL), 0);
        cr_assert_str_eq(id, "abc0000000000001");
        cr_assert_eq(sbx_registry_resolve(dir, "abc", id, &e), -ENOTUNIQ);
        cr_assert_str_eq(e->message, "ambiguous sandbox id prefix 'abc': matches "
                                     "abc0000000000001, abc0000000000002");
        sbx_error_free(e);
        e = NULL;
        cr_assert_eq(sbx_registry_resolve(dir, "nope", id, &e), -ENOENT);
        cr_assert_str_eq(e->message, "no such sandbox: 'nope'");
}

Test(state, name_unique_among_live)
{
        __attribute__((cleanup(sbx_sandbox_freep))) struct sbx_sandbox *sb = new_sandbox("1110000000000000", "web");
        sbx_autoerror e = NULL;

        create("2220000000000000", "web");
        cr_assert_eq(sbx_registry_create(dir, sb, &e), -EEXIST);
        cr_assert_str_eq(e->message, "name 'web' is already used by sandbox 2220000000000000");
        char path[256];
        snprintf(path, sizeof(path), "%s/1110000000000000", dir);
        cr_assert_eq(access(path, F_OK), -1, "nothing was created");
}

Test(state, name_check)
{
        cr_assert_eq(sbx_sandbox_name_check("web-1.a_b", NULL), 0);
        cr_assert_eq(sbx_sandbox_name_check("-x", NULL), -EINVAL);
        cr_assert_eq(sbx_sandbox_name_check("a/b", NULL), -EINVAL);
        cr_assert_eq(sbx_sandbox_name_check("", NULL), -EINVAL);
        cr_assert_eq(sbx_sandbox_name_check("0123456789abcdef", NULL), -EINVAL);
}

Test(state, broken_state_listed_with_path)
{
        struct sbx_sandbox **v = NULL;
        size_t n = 0;
        char path[256];

        create("aaaa000000000000", "good");
        snprintf(path, sizeof(path), "%s/bbbb000000000000", dir);
        cr_assert_eq(mkdir(path, 0700), 0);
        snprintf(path, sizeof(path), "%s/bbbb000000000000/state.json", dir);
        FILE *f = fopen(path, "w");
        fputs("{\"id\": \"bbbb0000", f);
        fclose(f);
        cr_assert_eq(sbx_registry_list(dir, &v, &n, NULL), 0);
        cr_assert_eq(n, 2);
        size_t broken = strcmp(v[0]->id, "bbbb000000000000") == 0 ? 0 : 1;
        cr_assert_not_null(v[broken]->broken);
        cr_assert(strstr(v[broken]->broken, path), "%s", v[broken]->broken);
        cr_assert_null(v[1 - broken]->broken);
        cr_assert_str_eq(v[1 - broken]->name, "good");
        sbx_sandboxes_free(v, n);
}

Test(state, restart_policy)
{
        struct sbx_restart_policy p;
        char buf[32];
        sbx_autoerror e = NULL;

        cr_assert_eq(sbx_restart_policy_parse("on-failure:2", &p, NULL), 0);
        cr_assert_eq(p.mode, SBX_RESTART_ON_FAILURE);
        cr_assert_eq(p.max, 2);
        sbx_restart_policy_format(&p, buf, sizeof(buf));
        cr_assert_str_eq(buf, "on-failure:2");
        cr_assert_eq(sbx_restart_policy_parse("always", &p, NULL), 0);
        cr_assert_eq(p.mode, SBX_RESTART_ALWAYS);
        cr_assert_eq(sbx_restart_policy_parse("on-failure:0", &p, NULL), -EINVAL);
        cr_assert_eq(sbx_restart_policy_parse("sometimes", &p, &e), -EINVAL);
        cr_assert_str_eq(e->message, "invalid restart policy 'sometimes' (expected no, always, "
                                     "on-failure or on-failure:N)");
}

Test(state, lock_is_exclusive)
{
        create("cccc000000000000", NULL);
        int fd = sbx_registry_lock(dir, "cccc000000000000", 100, NULL);
        cr_assert_geq(fd, 0);
        pid_t child = fork();
        if (child == 0) {
                sbx_autoerror e = NULL;
                int r = sbx_registry_lock(dir, "cccc000000000000", 50, &e);
                _exit(r == -ETIMEDOUT ? 0 : 1);
        }
        int status;
        waitpid(child, &status, 0);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        close(fd);
        fd = sbx_registry_lock(dir, "cccc000000000000", 100, NULL);
        cr_assert_geq(fd, 0);
        close(fd);
}

Test(state, events_append_and_rotate)
{
        char path[256], old[300];
        struct stat st;

        create("dddd000000000000", NULL);
        __attribute__((cleanup(json_decrefp))) json_t *f = json_pack("{s:i}", "code", 3);
        cr_assert_eq(sbx_event_append(dir, "dddd000000000000", "exited", f, NULL), 0);
        snprintf(path, sizeof(path), "%s/events.jsonl", dir);
        FILE *fp = fopen(path, "r");
        char line[512];
        cr_assert_not_null(fgets(line, sizeof(line), fp));
        fclose(fp);
        __attribute__((cleanup(json_decrefp))) json_t *ev = json_loads(line, 0, NULL);
        cr_assert_str_eq(json_string_value(json_object_get(ev, "type")), "exited");
        cr_assert_str_eq(json_string_value(json_object_get(ev, "id")), "dddd000000000000");
        cr_assert_eq(json_integer_value(json_object_get(ev, "code")), 3);
        /* rotation at the cap */
        char big[600];
        memset(big, 'x', sizeof(big));
        snprintf(path, sizeof(path), "%s/log", dir);
        snprintf(old, sizeof(old), "%s/log.1", dir);
        cr_assert_eq(sbx_append_rotating(path, big, 600, 1000, NULL), 0);
        cr_assert_eq(sbx_append_rotating(path, big, 600, 1000, NULL), 0);
        cr_assert_eq(stat(old, &st), 0);
        cr_assert_eq(st.st_size, 600);
        cr_assert_eq(stat(path, &st), 0);
        cr_assert_eq(st.st_size, 600);
}

Test(state, follow_reads_across_rotation)
{
        char path[256], buf[64];
        struct sbx_follow *f = NULL;

        snprintf(path, sizeof(path), "%s/out", dir);
        cr_assert_eq(sbx_append_rotating(path, "aaaa", 4, 6, NULL), 0);
        cr_assert_eq(sbx_follow_open(path, true, &f, NULL), 0);
        cr_assert_eq(sbx_follow_read(f, buf, sizeof(buf), NULL), 4);
        cr_assert_eq(sbx_follow_read(f, buf, sizeof(buf), NULL), 0);
        cr_assert_eq(sbx_append_rotating(path, "bbbb", 4, 6, NULL), 0); /* rotates */
        ssize_t n = sbx_follow_read(f, buf, sizeof(buf), NULL);
        cr_assert_eq(n, 4);
        cr_assert_eq(memcmp(buf, "bbbb", 4), 0);
        sbx_follow_free(f);
}

Test(state, control_round_trip)
{
        char path[256];
        int lfd;

        snprintf(path, sizeof(path), "%s/control.sock", dir);
        cr_assert_eq(sbx_control_listen(path, &lfd, NULL), 0);
        pid_t child = fork();
        if (child == 0) {
                json_t *req = json_pack("{s:s}", "op", "status");
                json_t *reply = NULL;
                sbx_autoerror e = NULL;
                int r = sbx_control_call(path, req, 5000, (void **)&reply, &e);
                _exit(r == 0 && json_is_true(json_object_get(reply, "ok")) ? 0 : 1);
        }
        int fd = -1;
        uid_t uid = 99;
        for (int i = 0; i < 500 && fd < 0; i++) {
                if (sbx_control_accept(lfd, getuid(), &fd, &uid, NULL) < 0)
                        usleep(10000);
        }
        cr_assert_geq(fd, 0);
        cr_assert_eq(uid, getuid());
        json_t *req = NULL;
        cr_assert_eq(sbx_control_recv(fd, 5000, (void **)&req, NULL), 0);
        cr_assert_str_eq(json_string_value(json_object_get(req, "op")), "status");
        json_decref(req);
        json_t *ok = json_pack("{s:b}", "ok", 1);
        cr_assert_eq(sbx_control_send(fd, ok, NULL), 0);
        json_decref(ok);
        int status;
        waitpid(child, &status, 0);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        close(fd);
        close(lfd);
}

Test(state, control_error_reply)
{
        int sv[2];

        cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
        sbx_error e = { .code = EALREADY, .message = (char *)"already running" };
        cr_assert_eq(sbx_control_send_error(sv[0], &e), 0);
        json_t *reply = NULL;
        cr_assert_eq(sbx_control_recv(sv[1], 1000, (void **)&reply, NULL), 0);
        cr_assert_eq(json_integer_value(json_object_get(reply, "code")), EALREADY);
        cr_assert_str_eq(json_string_value(json_object_get(reply, "error")), "already running");
        json_decref(reply);
        close(sv[0]);
        close(sv[1]);
}

static json_t *refusal_request(int fd, int *ret_r, char **ret_msg)
{
        json_t *req = json_pack("{s:s}", "op", "stop"), *reply = NULL;
        sbx_autoerror e = NULL;

        *ret_r = sbx_control_request(fd, req, 1000, (void **)&reply, &e);
        *ret_msg = strdup(e && e->message ? e->message : "");
        json_decref(req);
        return reply;
}

/* The server refused and closed before the client sent: the send fails
 * (EPIPE), the refusal is still read. */
Test(state, control_refusal_before_the_request)
{
        int sv[2], r;
        char *msg;

        cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
        sbx_error e = { .code = EACCES, .message = (char *)"permission denied: uid 7" };
        cr_assert_eq(sbx_control_send_error(sv[0], &e), 0);
        close(sv[0]);
        cr_assert_null(refusal_request(sv[1], &r, &msg));
        cr_assert_eq(r, -EACCES);
        cr_assert_str_eq(msg, "permission denied: uid 7");
        free(msg);
        close(sv[1]);
}

/* The server closed with a message of ours unread: the first read reports
 * ECONNRESET; the refusal queued before it is still read. */
Test(state, control_refusal_after_a_reset)
{
        int sv[2], r;
        char *msg;

        cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
        cr_assert_eq(send(sv[1], "{}", 2, MSG_NOSIGNAL), 2);
        sbx_error e = { .code = EACCES, .message = (char *)"permission denied: uid 8" };
        cr_assert_eq(sbx_control_send_error(sv[0], &e), 0);
        close(sv[0]);
        cr_assert_null(refusal_request(sv[1], &r, &msg));
        cr_assert_eq(r, -EACCES);
        cr_assert_str_eq(msg, "permission denied: uid 8");
        free(msg);
        close(sv[1]);
}

/* Closed with no reply at all: a clear error, not a hang. */
Test(state, control_closed_without_reply)
{
        int sv[2], r;
        char *msg;

        cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
        close(sv[0]);
        cr_assert_null(refusal_request(sv[1], &r, &msg));
        cr_assert_eq(r, -EPIPE);
        cr_assert_str_eq(msg, "send control message: Broken pipe");
        free(msg);
        close(sv[1]);
}

/* "No limit" is written as a word the parser reads back: the stored spec
 * of a sandbox is the whole spec. */
Test(state, spec_round_trip_with_unlimited_values_and_lifecycle)
{
        static const char yaml[] = "limits:\n  memory: unlimited\n  pids: unlimited\n"
                                   "  cpu: unlimited\n  timeout: none\n"
                                   "lifecycle:\n  stop_signal: SIGINT\n  stop_timeout: 500ms\n"
                                   "  restart: on-failure:3\n";
        struct sbx_spec *a = NULL, *b = NULL, *c = NULL;
        char *json = NULL, *text = NULL;
        sbx_autoerror e = NULL;

        cr_assert_eq(sbx_profile_load_string(yaml, strlen(yaml), "t.yaml", &a, &e), 0, "%s",
                     e ? e->message : "");
        cr_assert_eq(a->limits.memory, 0);
        cr_assert_eq(a->limits.pids, 0);
        cr_assert_eq(a->limits.cpu, 0);
        cr_assert_eq(a->limits.timeout_ms, 0);
        cr_assert_eq(a->lifecycle.stop_signal, SIGINT);
        cr_assert_eq(a->lifecycle.stop_timeout_ms, 500);
        cr_assert_eq(a->lifecycle.restart.mode, SBX_RESTART_ON_FAILURE);
        cr_assert_eq(a->lifecycle.restart.max, 3);
        cr_assert_eq(sbx_spec_to_json(a, false, &json, NULL), 0);
        json_t *o = json_loads(json, 0, NULL), *l = json_object_get(o, "limits");
        const char *want[][2] = { { "memory", "unlimited" }, { "pids", "unlimited" },
                                  { "cpu", "unlimited" }, { "timeout", "none" } };
        for (size_t i = 0; i < 4; i++)
                cr_assert_str_eq(json_string_value(json_object_get(l, want[i][0])), want[i][1]);
        json_t *lc = json_object_get(o, "lifecycle");
        cr_assert_str_eq(json_string_value(json_object_get(lc, "stop_signal")), "INT");
        cr_assert_str_eq(json_string_value(json_object_get(lc, "stop_timeout")), "500ms");
        cr_assert_str_eq(json_string_value(json_object_get(lc, "restart")), "on-failure:3");
        json_decref(o);
        cr_assert_eq(sbx_profile_load_string(json, strlen(json), "state.json", &b, &e), 0, "%s",
                     e ? e->message : "");
        cr_assert_eq(sbx_spec_to_yaml(b, &text, NULL), 0);
        cr_assert_eq(sbx_profile_load_string(text, strlen(text), "t2.yaml", &c, &e), 0, "%s",
                     e ? e->message : "");
        struct sbx_spec *specs[] = { b, c };
        for (size_t i = 0; i < 2; i++) {
                cr_assert_eq(specs[i]->limits.memory, 0);
                cr_assert_eq(specs[i]->limits.pids, 0);
                cr_assert_eq(specs[i]->limits.cpu, 0);
                cr_assert_eq(specs[i]->limits.timeout_ms, 0);
                cr_assert_eq(specs[i]->lifecycle.stop_signal, SIGINT);
                cr_assert_eq(specs[i]->lifecycle.stop_timeout_ms, 500);
                cr_assert_eq(specs[i]->lifecycle.restart.max, 3);
        }
        free(json);
        free(text);
        sbx_spec_free(a);
        sbx_spec_free(b);
        sbx_spec_free(c);
}

/* An exited process that is not reaped yet (a killed supervisor waiting for
 * its reaper) no longer runs: gc and destroy must treat it as gone. */
Test(state, zombie_is_not_alive)
{
        uint64_t start;

        pid_t pid = fork();
        if (pid == 0)
                _exit(0);
        cr_assert_gt(pid, 0);
        /* Wait (without reaping) until it is a zombie. */
        siginfo_t si;
        cr_assert_eq(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT), 0);
        cr_assert_eq(sbx_pid_start_time(pid, &start, NULL), -ESRCH);
        cr_assert_eq(waitpid(pid, NULL, 0), pid);
        cr_assert_eq(sbx_pid_start_time(getpid(), &start, NULL), 0);
}
