/* report: the JSON usage report of one run, built with jansson. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run-internal.h"
#include "sandboxctl/report.h"
#include "sandboxctl/units.h"
#include "sandboxctl/util.h"


static json_t *json_size_or_null(uint64_t bytes)
{
        char buf[64];

        if (bytes == 0)
                return json_null();
        sbx_format_size(bytes, buf, sizeof(buf));
        return json_string(buf);
}

static json_t *limits_json(const struct sbx_limits *l)
{
        char cpu[32], timeout[32];

        sbx_format_cpu(l->cpu, cpu, sizeof(cpu));
        sbx_format_duration(l->timeout_ms, timeout, sizeof(timeout));
        return json_pack("{s:o, s:o, s:o, s:o}", "memory", json_size_or_null(l->memory), "pids",
                         l->pids ? json_integer((json_int_t)l->pids) : json_null(), "cpu",
                         l->cpu ? json_string(cpu) : json_null(), "timeout",
                         l->timeout_ms ? json_string(timeout) : json_null());
}

static json_t *limit_bits_json(unsigned bits)
{
        static const struct {
                unsigned bit;
                const char *name;
        } names[] = {
                { SBX_LIMIT_MEMORY, "memory" },
                { SBX_LIMIT_MEMORY_SWAP, "memory_swap" },
                { SBX_LIMIT_PIDS, "pids" },
                { SBX_LIMIT_CPU, "cpu" },
        };
        json_t *a = json_array();

        for (size_t i = 0; a && i < SBX_ARRAY_SIZE(names); i++)
                if (bits & names[i].bit)
                        json_array_append_new(a, json_string(names[i].name));
        return a;
}

/* The configured limits, plus which the kernel enforces and which were
 * skipped (best_effort) when there was a cgroup. */
static json_t *report_limits_json(const struct sbx_limits *l, const struct sbx_run_result *res)
{
        json_t *o = limits_json(l);

        if (!o || !res->cgroup_path)
                return o;
        json_object_set_new(o, "applied", limit_bits_json(res->cgroup_limits.applied));
        json_object_set_new(o, "skipped", limit_bits_json(res->cgroup_limits.skipped));
        return o;
}

static json_t *counter_json(const struct sbx_cgroup_usage *u, unsigned have, uint64_t v)
{
        return (u->have & have) ? json_integer((json_int_t)v) : json_null();
}

/* The cgroup figures; a counter the host does not have is null. */
static int add_cgroup_json(json_t *o, const struct sbx_run_result *res)
{
        const struct sbx_cgroup_usage *u = &res->cgroup_usage;
        json_t *c = json_pack(
                "{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "cgroup",
                res->cgroup_path ? json_string(res->cgroup_path) : json_null(), "cgroup_version",
                res->cgroup_version ? json_integer(res->cgroup_version) : json_null(),
                "memory_peak_bytes", counter_json(u, SBX_CGROUP_HAVE_MEMORY, u->memory_peak),
                "pids_peak", counter_json(u, SBX_CGROUP_HAVE_PIDS, u->pids_peak), "cpu_usec",
                counter_json(u, SBX_CGROUP_HAVE_CPU, u->cpu_usec), "cpu_throttled_usec",
                counter_json(u, SBX_CGROUP_HAVE_THROTTLE, u->cpu_throttled_usec), "oom_kills",
                counter_json(u, SBX_CGROUP_HAVE_OOM, u->oom_kills), "pids_limit_hits",
                counter_json(u, SBX_CGROUP_HAVE_PIDS_HITS, u->pids_limit_hits));
        if (!c)
                return -ENOMEM;
        json_t *w = json_array();
        for (size_t i = 0; w && res->cgroup_warnings && res->cgroup_warnings[i]; i++)
                json_array_append_new(w, json_string(res->cgroup_warnings[i]));
        if (!w || json_object_set_new(c, "cgroup_warnings", w) < 0 || json_object_update(o, c) < 0) {
                json_decref(c);
                return -ENOMEM;
        }
        json_decref(c);
        return 0;
}

static json_t *namespaces_json(unsigned ns)
{
        json_t *a = json_array();

        for (unsigned bit = 1; a && bit & SBX_NS_ALL; bit <<= 1)
                if (ns & bit)
                        json_array_append_new(a, json_string(sbx_namespace_to_string(bit)));
        return a;
}

static json_t *strv_json(char *const *argv)
{
        json_t *a = json_array();

        for (size_t i = 0; a && argv[i]; i++)
                json_array_append_new(a, json_string(argv[i]));
        return a;
}

static json_t *signal_json(int sig)
{
        char name[32];
        const char *abbrev = sig > 0 ? sigabbrev_np(sig) : NULL;

        if (sig <= 0)
                return json_null();
        if (abbrev)
                snprintf(name, sizeof(name), "SIG%s", abbrev);
        else
                snprintf(name, sizeof(name), "SIG%d", sig);
        return json_string(name);
}

static json_t *setup_error_json(const struct sbx_run_result *res)
{
        if (!res->failed_step)
                return json_null();
        return json_pack("{s:s, s:s?}", "step", res->failed_step, "message", res->failure);
}

int sbx_report_to_json(const struct sbx_run_config *cfg, const struct sbx_run_result *res,
                       char **ret_json, sbx_error **err)
{
        char started[64];
        const struct sbx_spec *spec = cfg->spec;

        sbx_format_iso8601(&res->started_at, started, sizeof(started));
        __attribute__((cleanup(json_decrefp))) json_t *o = json_pack(
                "{s:s, s:s?, s:s?, s:o, s:i, s:o, s:b, s:I, s:I, s:I, s:I, s:s, s:o, s:o, s:s, s:o}",
                "id", res->id, "name", cfg->name, "profile", cfg->profile, "command",
                strv_json(cfg->argv), "exit_code", res->exit_code, "signal",
                signal_json(res->signal), "timed_out", res->timed_out, "wall_time_ms",
                (json_int_t)res->wall_time_ms, "user_cpu_ms", (json_int_t)res->user_cpu_ms,
                "system_cpu_ms", (json_int_t)res->system_cpu_ms, "max_rss_bytes",
                (json_int_t)res->max_rss_bytes, "started_at", started, "limits",
                report_limits_json(&spec->limits, res), "namespaces", namespaces_json(sbx_ns_for_spec(spec)),
                "network", sbx_network_mode_to_string(spec->network), "setup_error",
                setup_error_json(res));
        if (!o || add_cgroup_json(o, res) < 0)
                return sbx_error_set(err, ENOMEM, "build report");
        char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (!text)
                return sbx_error_set(err, ENOMEM, "build report");
        *ret_json = text;
        return 0;
}

static int write_all(int fd, const char *text, size_t len)
{
        while (len > 0) {
                ssize_t n = write(fd, text, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                text += n;
                len -= (size_t)n;
        }
        return 0;
}

static int write_file_atomic(const char *path, const char *text, sbx_error **err)
{
        sbx_autofree char *tmp = NULL;

        if (asprintf(&tmp, "%s.tmp.%d", path, (int)getpid()) < 0) {
                tmp = NULL;
                return sbx_error_errno(err, ENOMEM, "write %s", path);
        }
        sbx_autoclose int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return sbx_error_errno(err, errno, "create %s", tmp);
        int r = write_all(fd, text, strlen(text));
        if (r >= 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0) {
                unlink(tmp);
                return sbx_error_errno(err, -r, "write %s", path);
        }
        return 0;
}

int sbx_report_write(const char *path, const struct sbx_run_config *cfg,
                     const struct sbx_run_result *res, sbx_error **err)
{
        sbx_autofree char *json = NULL;
        sbx_autofree char *line = NULL;
        int r = sbx_report_to_json(cfg, res, &json, err);

        if (r < 0)
                return r;
        if (asprintf(&line, "%s\n", json) < 0) {
                line = NULL;
                return sbx_error_errno(err, ENOMEM, "write report");
        }
        if (strcmp(path, "-") != 0)
                return write_file_atomic(path, line, err);
        r = write_all(STDERR_FILENO, line, strlen(line));
        if (r < 0)
                return sbx_error_errno(err, -r, "write report to stderr");
        return 0;
}
