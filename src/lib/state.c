/* state: state.json of one sandbox, to and from JSON, atomic writes, locks
 * and liveness (process start times). Listing, lookup, creating and removing
 * entries are in registry.c, the name index in registry_names.c, run's
 * throwaway entry in statedir.c. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "registry-internal.h"
#include "run-internal.h"
#include "sandboxctl/state.h"
#include "sandboxctl/util.h"

static const char *const status_names[] = {
        [SBX_STATUS_CREATING] = "creating",   [SBX_STATUS_RUNNING] = "running",
        [SBX_STATUS_RELOADING] = "reloading", [SBX_STATUS_CHECKPOINTING] = "checkpointing",
        [SBX_STATUS_STOPPING] = "stopping",   [SBX_STATUS_STOPPED] = "stopped",
        [SBX_STATUS_ERROR] = "error",
};

const char *sbx_status_to_string(enum sbx_status s)
{
        return (unsigned)s < SBX_ARRAY_SIZE(status_names) ? status_names[s] : "unknown";
}

int sbx_status_from_string(const char *s, enum sbx_status *ret)
{
        for (size_t i = 0; i < SBX_ARRAY_SIZE(status_names); i++) {
                if (s && strcmp(s, status_names[i]) == 0) {
                        *ret = (enum sbx_status)i;
                        return 0;
                }
        }
        return -EINVAL;
}

int sbx_restart_policy_parse(const char *s, struct sbx_restart_policy *ret, sbx_error **err)
{
        struct sbx_restart_policy p = { 0 };

        if (strcmp(s, "no") == 0) {
                p.mode = SBX_RESTART_NO;
        } else if (strcmp(s, "always") == 0) {
                p.mode = SBX_RESTART_ALWAYS;
        } else if (strncmp(s, "on-failure", 10) == 0 && (s[10] == '\0' || s[10] == ':')) {
                p.mode = SBX_RESTART_ON_FAILURE;
                if (s[10] == ':') {
                        char *end;
                        errno = 0;
                        unsigned long n = strtoul(s + 11, &end, 10);
                        if (errno || end == s + 11 || *end || n == 0 || n > 1000000 ||
                            s[11] == '-' || s[11] == '+')
                                return sbx_error_set(err, EINVAL,
                                                     "invalid restart policy '%s': N must be 1 to 1000000",
                                                     s);
                        p.max = (unsigned)n;
                }
        } else {
                return sbx_error_set(err, EINVAL,
                                     "invalid restart policy '%s' (expected no, always, on-failure or on-failure:N)",
                                     s);
        }
        *ret = p;
        return 0;
}

void sbx_restart_policy_format(const struct sbx_restart_policy *p, char *buf, size_t len)
{
        switch (p->mode) {
        case SBX_RESTART_ALWAYS:
                snprintf(buf, len, "always");
                break;
        case SBX_RESTART_ON_FAILURE:
                if (p->max)
                        snprintf(buf, len, "on-failure:%u", p->max);
                else
                        snprintf(buf, len, "on-failure");
                break;
        case SBX_RESTART_NO:
        default:
                snprintf(buf, len, "no");
                break;
        }
}

char *sbx_registry_path(const char *state_dir, const char *id, const char *file)
{
        char *p;

        if (asprintf(&p, "%s%s%s%s%s", state_dir, id ? "/" : "", id ? id : "", file ? "/" : "",
                     file ? file : "") < 0)
                return NULL;
        return p;
}

void sbx_sandbox_free(struct sbx_sandbox *sb)
{
        if (!sb)
                return;
        free(sb->name);
        free(sb->profile);
        free(sb->created_at);
        free(sb->reason);
        free(sb->cgroup);
        free(sb->cgroup_parent);
        sbx_strv_clear(&sb->argv);
        free(sb->workspace);
        free(sb->term);
        free(sb->spec_json);
        free(sb->broken);
        free(sb);
}

static int lock_with_timeout(int fd, int timeout_ms)
{
        struct timespec t0, now;

        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (;;) {
                if (flock(fd, LOCK_EX | LOCK_NB) == 0)
                        return 0;
                if (errno != EWOULDBLOCK && errno != EINTR)
                        return -errno;
                clock_gettime(CLOCK_MONOTONIC, &now);
                long ms = (now.tv_sec - t0.tv_sec) * 1000L + (now.tv_nsec - t0.tv_nsec) / 1000000L;
                if (ms >= timeout_ms)
                        return -ETIMEDOUT;
                /* flock() has no timeout: retry every 5 ms. */
                poll(NULL, 0, 5);
        }
}

int sbx_registry_lock(const char *state_dir, const char *id, int timeout_ms, sbx_error **err)
{
        sbx_autofree char *path = sbx_registry_path(state_dir, id, id ? "lock" : ".lock");

        if (!path)
                return sbx_error_errno(err, ENOMEM, "lock");
        sbx_autoclose int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return sbx_error_errno(err, errno, "open lock %s", path);
        int r = lock_with_timeout(fd, timeout_ms);
        if (r < 0)
                return sbx_error_errno(err, -r, "lock %s", path);
        return sbx_steal_fd(fd);
}

static json_t *strv_json(const struct sbx_strv *v)
{
        json_t *a = json_array();

        for (size_t i = 0; a && i < v->n; i++)
                json_array_append_new(a, json_string(v->items[i]));
        return a;
}

static json_t *config_json(const struct sbx_sandbox *sb)
{
        char policy[32];
        json_t *spec = NULL;

        sbx_restart_policy_format(&sb->restart, policy, sizeof(policy));
        if (sb->spec_json)
                spec = json_loads(sb->spec_json, 0, NULL);
        return json_pack("{s:o, s:s?, s:s?, s:o?, s:s, s:I}", "argv", strv_json(&sb->argv),
                         "workspace", sb->workspace, "term", sb->term, "spec", spec, "restart",
                         policy, "log_max", (json_int_t)sb->log_max);
}

static json_t *limits_json(const struct sbx_sandbox *sb)
{
        return json_pack("{s:I, s:I, s:I, s:I}", "memory", (json_int_t)sb->limit_memory, "pids",
                         (json_int_t)sb->limit_pids, "cpu_millis", (json_int_t)sb->limit_cpu,
                         "timeout_ms", (json_int_t)sb->limit_timeout_ms);
}

void *sbx_sandbox_to_json(const struct sbx_sandbox *sb, bool full)
{
        json_t *o = json_pack("{s:s, s:s?, s:s?, s:s?, s:s, s:s?, s:I, s:I, s:I, s:I, s:I, s:I, "
                              "s:s?, s:s?, s:o, s:b}",
                              "id", sb->id, "name", sb->name, "profile", sb->profile,
                              "created_at", sb->created_at, "status",
                              sbx_status_to_string(sb->status), "reason", sb->reason,
                              "restarts", (json_int_t)sb->restarts, "uid", (json_int_t)sb->uid,
                              "pid", (json_int_t)sb->supervisor_pid, "pid_start_time",
                              (json_int_t)sb->supervisor_start, "init_pid",
                              (json_int_t)sb->init_pid, "init_start_time",
                              (json_int_t)sb->init_start, "cgroup", sb->cgroup, "cgroup_parent",
                              sb->cgroup_parent, "limits", limits_json(sb), "long_lived",
                              sb->long_lived);
        if (!o)
                return NULL;
        if (sb->has_exit)
                json_object_set_new(o, "exit",
                                    json_pack("{s:i, s:i}", "code", sb->exit_code, "signal",
                                              sb->exit_signal));
        if (full && sb->long_lived)
                json_object_set_new(o, "config", config_json(sb));
        return o;
}

static int dup_string(json_t *o, const char *key, char **ret)
{
        json_t *v = json_object_get(o, key);

        if (!v || json_is_null(v))
                return 0;
        if (!json_is_string(v))
                return -EINVAL;
        *ret = strdup(json_string_value(v));
        return *ret ? 0 : -ENOMEM;
}

static uint64_t get_uint(json_t *o, const char *key)
{
        json_t *v = json_object_get(o, key);

        return json_is_integer(v) && json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v)
                                                                : 0;
}

static int parse_config(json_t *c, struct sbx_sandbox *sb)
{
        json_t *argv = json_object_get(c, "argv"), *v;
        const char *policy = json_string_value(json_object_get(c, "restart"));
        size_t i;
        int r = 0;

        sb->long_lived = true;
        json_array_foreach(argv, i, v) {
                if (!json_is_string(v))
                        return -EINVAL;
                r = sbx_strv_push(&sb->argv, json_string_value(v));
                if (r < 0)
                        return r;
        }
        if (policy && sbx_restart_policy_parse(policy, &sb->restart, NULL) < 0)
                return -EINVAL;
        sb->log_max = get_uint(c, "log_max");
        json_t *spec = json_object_get(c, "spec");
        if (json_is_object(spec) && !(sb->spec_json = json_dumps(spec, JSON_COMPACT)))
                return -ENOMEM;
        if ((r = dup_string(c, "workspace", &sb->workspace)) < 0)
                return r;
        return dup_string(c, "term", &sb->term);
}

static int parse_strings(json_t *o, struct sbx_sandbox *sb)
{
        const char *id = json_string_value(json_object_get(o, "id"));
        const char *status = json_string_value(json_object_get(o, "status"));
        int r;

        if (!id || strlen(id) != SBX_ID_LEN)
                return -EINVAL;
        memcpy(sb->id, id, SBX_ID_LEN + 1);
        /* run's state.json has no status: it is running while its supervisor lives. */
        if (!status)
                sb->status = SBX_STATUS_RUNNING;
        else if (sbx_status_from_string(status, &sb->status) < 0)
                return -EINVAL;
        if ((r = dup_string(o, "name", &sb->name)) < 0 ||
            (r = dup_string(o, "profile", &sb->profile)) < 0 ||
            (r = dup_string(o, "created_at", &sb->created_at)) < 0 ||
            (r = dup_string(o, "reason", &sb->reason)) < 0 ||
            (r = dup_string(o, "cgroup", &sb->cgroup)) < 0)
                return r;
        return dup_string(o, "cgroup_parent", &sb->cgroup_parent);
}

static int sandbox_from_json(json_t *o, struct sbx_sandbox *sb)
{
        int r;

        if (!json_is_object(o))
                return -EINVAL;
        r = parse_strings(o, sb);
        if (r < 0)
                return r;
        sb->restarts = (unsigned)get_uint(o, "restarts");
        sb->uid = (uid_t)get_uint(o, "uid");
        sb->supervisor_pid = (pid_t)get_uint(o, "pid");
        sb->supervisor_start = get_uint(o, "pid_start_time");
        sb->init_pid = (pid_t)get_uint(o, "init_pid");
        sb->init_start = get_uint(o, "init_start_time");
        json_t *l = json_object_get(o, "limits");
        sb->limit_memory = get_uint(l, "memory");
        sb->limit_pids = get_uint(l, "pids");
        sb->limit_cpu = (uint32_t)get_uint(l, "cpu_millis");
        sb->limit_timeout_ms = get_uint(l, "timeout_ms");
        json_t *ex = json_object_get(o, "exit");
        if (json_is_object(ex)) {
                sb->has_exit = true;
                sb->exit_code = (int)json_integer_value(json_object_get(ex, "code"));
                sb->exit_signal = (int)json_integer_value(json_object_get(ex, "signal"));
        }
        json_t *c = json_object_get(o, "config");
        return json_is_object(c) ? parse_config(c, sb) : 0;
}

void sbx_format_iso8601(const struct timespec *ts, char *buf, size_t len)
{
        struct tm tm;
        char date[32];

        gmtime_r(&ts->tv_sec, &tm);
        strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(buf, len, "%s.%03ldZ", date, ts->tv_nsec / 1000000L);
}

int sbx_pid_start_time(pid_t pid, uint64_t *ret_ticks, sbx_error **err)
{
        char path[64], buf[1024];

        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        sbx_autoclose int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return sbx_error_errno(err, errno == ENOENT ? ESRCH : errno, "open %s", path);
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        if (n < 0)
                return sbx_error_errno(err, errno == ENOENT ? ESRCH : errno, "read %s", path);
        buf[n] = '\0';
        /* The command name may hold spaces and parentheses: skip to the last ')'. */
        char *p = strrchr(buf, ')');
        unsigned long long start;
        char state;
        /* After ")": state (field 3) ... starttime (field 22). */
        if (!p || sscanf(p + 1, " %c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d "
                                "%*d %*d %*d %*d %llu", &state, &start) != 2)
                return sbx_error_set(err, EINVAL, "parse %s: no start time", path);
        /* Exited, not yet reaped (a killed supervisor waits for its reaper):
         * gone for every caller, which asks whether it still runs. */
        if (state == 'Z' || state == 'X')
                return sbx_error_set(err, ESRCH, "process %d has exited", (int)pid);
        *ret_ticks = start;
        return 0;
}

static bool process_alive(pid_t pid, uint64_t start)
{
        uint64_t now;

        if (pid <= 0)
                return false;
        return sbx_pid_start_time(pid, &now, NULL) >= 0 && now == start;
}

bool sbx_sandbox_supervisor_alive(const struct sbx_sandbox *sb)
{
        return process_alive(sb->supervisor_pid, sb->supervisor_start);
}

bool sbx_sandbox_init_alive(const struct sbx_sandbox *sb)
{
        return process_alive(sb->init_pid, sb->init_start);
}

/* A sandbox whose supervisor is gone is in error, whatever the file says;
 * a state dir being created gets a grace period (its supervisor may not be
 * recorded yet). */
static int check_liveness(struct sbx_sandbox *sb)
{
        if (sbx_sandbox_supervisor_alive(sb))
                return 0;
        if (sb->status == SBX_STATUS_CREATING && sb->supervisor_pid == 0)
                return 0;
        sb->supervisor_dead = true;
        sb->init_pid = 0;
        if (sb->status == SBX_STATUS_ERROR && sb->reason)
                return 0;
        sb->status = SBX_STATUS_ERROR;
        free(sb->reason);
        sb->reason = strdup("supervisor died");
        return sb->reason ? 0 : -ENOMEM;
}

#define STATE_MAX (4 << 20) /* a state.json is a few KiB */

static int load_state(const char *path, json_t **ret, sbx_error **err)
{
        sbx_autoclose int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        sbx_autofree char *text = NULL;
        json_error_t jerr;
        size_t len = 0;

        if (fd < 0)
                return sbx_error_errno(err, errno, "open %s", path);
        /* One buffer: json_loadfd() would read() byte by byte (1500 system
         * calls for one state.json, per sandbox listed). */
        int r = sbx_read_fd(fd, STATE_MAX, &text, &len);
        if (r < 0)
                return sbx_error_errno(err, -r, "read %s", path);
        *ret = json_loadb(text, len, 0, &jerr);
        if (!*ret)
                return sbx_error_set(err, EBADMSG, "parse %s: line %d: %s", path, jerr.line,
                                     jerr.text);
        return 0;
}

int sbx_registry_read(const char *state_dir, const char *id, struct sbx_sandbox **ret,
                      sbx_error **err)
{
        sbx_autofree char *path = sbx_registry_path(state_dir, id, "state.json");
        __attribute__((cleanup(json_decrefp))) json_t *o = NULL;

        if (!path)
                return sbx_error_errno(err, ENOMEM, "read state of %s", id);
        int q = load_state(path, &o, err);
        if (q < 0)
                return q;
        __attribute__((cleanup(sbx_sandbox_freep))) struct sbx_sandbox *sb = calloc(1, sizeof(*sb));
        if (!sb)
                return sbx_error_errno(err, ENOMEM, "read %s", path);
        int r = sandbox_from_json(o, sb);
        if (r == -EINVAL)
                return sbx_error_set(err, EBADMSG, "parse %s: not a sandbox state", path);
        if (r >= 0)
                r = check_liveness(sb);
        if (r < 0)
                return sbx_error_errno(err, -r, "read %s", path);
        *ret = sbx_steal_ptr(sb);
        return 0;
}

static int write_all(int fd, const char *text, size_t len)
{
        while (len > 0) {
                ssize_t n = write(fd, text, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return n < 0 ? -errno : -EIO;
                text += n;
                len -= (size_t)n;
        }
        return 0;
}

static int fsync_dir(const char *dir)
{
        sbx_autoclose int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0 || fsync(fd) < 0)
                return -errno;
        return 0;
}

int registry_write_state(const char *state_dir, const struct sbx_sandbox *sb, bool durable,
                         sbx_error **err)
{
        sbx_autofree char *dir = sbx_registry_path(state_dir, sb->id, NULL);
        sbx_autofree char *final = sbx_registry_path(state_dir, sb->id, "state.json");
        sbx_autofree char *tmp = NULL;
        __attribute__((cleanup(json_decrefp))) json_t *o = sbx_sandbox_to_json(sb, true);
        sbx_autofree char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;

        if (!dir || !final || !text || asprintf(&tmp, "%s.%d.tmp", final, (int)getpid()) < 0)
                return sbx_error_errno(err, ENOMEM, "write state of %s", sb->id);
        sbx_autoclose int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
                                    0600);
        if (fd < 0)
                return sbx_error_errno(err, errno, "create %s", tmp);
        int r = write_all(fd, text, strlen(text));
        if (r >= 0 && durable && fsync(fd) < 0)
                r = -errno;
        if (r >= 0 && rename(tmp, final) < 0)
                r = -errno;
        if (r < 0) {
                unlink(tmp);
                return sbx_error_errno(err, -r, "write %s", final);
        }
        r = durable ? fsync_dir(dir) : 0;
        if (r < 0)
                return sbx_error_errno(err, -r, "fsync %s", dir);
        return 0;
}

int sbx_registry_write(const char *state_dir, const struct sbx_sandbox *sb, sbx_error **err)
{
        return registry_write_state(state_dir, sb, true, err);
}
