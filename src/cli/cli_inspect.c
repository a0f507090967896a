/* cli_inspect: list, info, stats and ps. They read the state dir and the
 * cgroup; they never need the supervisor. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli_sandbox.h"
#include "sandboxctl/cgroup.h"
#include "sandboxctl/units.h"
#include "sandboxctl/util.h"

enum { OPT_STATE_DIR = 256, OPT_JSON, OPT_ALL, OPT_WATCH, OPT_COUNT };

static const struct option inspect_longopts[] = {
        { "state-dir", required_argument, NULL, OPT_STATE_DIR },
        { "json", no_argument, NULL, OPT_JSON },
        { "all", no_argument, NULL, OPT_ALL },
        { "watch", no_argument, NULL, OPT_WATCH },
        { "count", required_argument, NULL, OPT_COUNT },
        { "help", no_argument, NULL, 'h' },
        { 0 },
};

struct inspect_opts {
        const char *state_dir;
        const char *ref;
        bool json, all, watch;
        long count;
};

static int parse_count(const char *s, long *ret)
{
        char *end;
        long v;

        errno = 0;
        v = strtol(s, &end, 10);
        if (errno || end == s || *end || v <= 0)
                return -EINVAL;
        *ret = v;
        return 0;
}

/* `allowed`: a = --all, w = --watch/--count, i = takes an ID. */
static int parse_inspect(int argc, char **argv, const char *name, const char *allowed,
                         void (*usage)(void), struct inspect_opts *o)
{
        int c;

        optind = 0;
        while ((c = cli_getopt(argc, argv, "h", inspect_longopts, name)) != -1) {
                if (c == '?')
                        return CLI_EXIT_USAGE;
                if (c == 'h') {
                        usage();
                        return -1;
                }
                if ((c == OPT_ALL && !strchr(allowed, 'a')) ||
                    ((c == OPT_WATCH || c == OPT_COUNT) && !strchr(allowed, 'w')))
                        return cli_usage_error(name, "%s: unknown option '%s'", name,
                                               argv[optind - 1]);
                switch (c) {
                case OPT_STATE_DIR: o->state_dir = optarg; break;
                case OPT_JSON: o->json = true; break;
                case OPT_ALL: o->all = true; break;
                case OPT_WATCH: o->watch = true; break;
                case OPT_COUNT:
                        if (parse_count(optarg, &o->count) < 0)
                                return cli_usage_error(name,
                                                       "%s: --count: expected a positive "
                                                       "number, not '%s'", name, optarg);
                        break;
                default: break;
                }
        }
        if (o->count > 0 && !o->watch)
                return cli_usage_error(name, "%s: --count needs --watch", name);
        bool wants_id = strchr(allowed, 'i') != NULL;
        if (wants_id && optind >= argc)
                return cli_usage_error(name, "%s: missing sandbox id or name", name);
        if (optind + (wants_id ? 1 : 0) < argc)
                return cli_usage_error(name, "%s: unexpected argument '%s'", name,
                                       argv[optind + (wants_id ? 1 : 0)]);
        if (wants_id)
                o->ref = argv[optind];
        return CLI_EXIT_OK;
}

static bool sample_usage(const struct sbx_sandbox *sb, struct sbx_cgroup_usage *u)
{
        __attribute__((cleanup(sbx_cgroup_freep))) struct sbx_cgroup *cg = NULL;

        memset(u, 0, sizeof(*u));
        if (sb->broken || sb->supervisor_dead || !sb->cgroup)
                return false;
        if (sbx_cgroup_open(sb->cgroup_parent, sb->id, &cg, NULL) < 0)
                return false;
        return sbx_cgroup_sample(cg, u, NULL) >= 0;
}

static json_t *usage_json(const struct sbx_cgroup_usage *u)
{
        return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "memory_bytes",
                         (json_int_t)u->memory_current, "memory_peak_bytes",
                         (json_int_t)u->memory_peak, "pids", (json_int_t)u->pids_current,
                         "pids_peak", (json_int_t)u->pids_peak, "cpu_usec",
                         (json_int_t)u->cpu_usec, "cpu_throttled_usec",
                         (json_int_t)u->cpu_throttled_usec, "oom_kills",
                         (json_int_t)u->oom_kills, "pids_limit_hits",
                         (json_int_t)u->pids_limit_hits);
}

static json_t *sandbox_json(const struct sbx_sandbox *sb, bool full)
{
        struct sbx_cgroup_usage u;
        json_t *o = sb->broken ? json_pack("{s:s, s:s, s:s, s:s}", "id", sb->id, "status", "error",
                                           "reason", "broken state file", "broken", sb->broken)
                               : sbx_sandbox_to_json(sb, full);

        if (o && !sb->broken && sample_usage(sb, &u))
                json_object_set_new(o, "usage", usage_json(&u));
        return o;
}

static void status_text(const struct sbx_sandbox *sb, char *buf, size_t len)
{
        if (sb->status == SBX_STATUS_ERROR && sb->reason)
                snprintf(buf, len, "error(%s)", sb->reason);
        else
                snprintf(buf, len, "%s", sbx_status_to_string(sb->status));
}

static void print_row(const struct sbx_sandbox *sb)
{
        struct sbx_cgroup_usage u;
        char status[96], age[32], mem[32] = "-", pids[32] = "-", cpu[32] = "-";

        status_text(sb, status, sizeof(status));
        cli_format_age(cli_age_ms(sb->created_at), age, sizeof(age));
        if (sample_usage(sb, &u)) {
                if (u.have & SBX_CGROUP_HAVE_MEMORY)
                        sbx_format_size(u.memory_current, mem, sizeof(mem));
                if (u.have & SBX_CGROUP_HAVE_PIDS)
                        snprintf(pids, sizeof(pids), "%llu", (unsigned long long)u.pids_current);
                if (u.have & SBX_CGROUP_HAVE_CPU)
                        snprintf(cpu, sizeof(cpu), "%.2fs", (double)u.cpu_usec / 1e6);
        }
        if (sb->broken) {
                printf("%-16s  %-12s  %-24s  %s\n", sb->id, "-", "error(broken)", sb->broken);
                return;
        }
        printf("%-16s  %-12s  %-24s  %-8s  %-6s  %-5s  %-8s  %-8s  %u\n", sb->id,
               sb->name ? sb->name : "-", status, sb->profile ? sb->profile : "-", age, pids, mem,
               cpu, sb->restarts);
}

static void list_usage(void)
{
        printf("Usage: sandboxctl list [--json] [--all] [--state-dir DIR]\n"
               "\n"
               "List the long-lived sandboxes: id, name, status, profile, age, processes,\n"
               "memory, CPU time and restarts. A sandbox whose supervisor died shows as\n"
               "error(supervisor died); a broken state file as error(broken), with its path.\n"
               "\n"
               "Options:\n"
               "      --all            also the throwaway sandboxes of 'sandboxctl run'\n"
               "      --json           a JSON array of the sandboxes' states\n"
               "      --state-dir DIR  state directory\n"
               "  -h, --help           show this help\n");
}

int cli_list(int argc, char **argv)
{
        struct inspect_opts o = { 0 };
        struct sbx_sandbox **v = NULL;
        sbx_autoerror e = NULL;
        size_t n = 0;
        int r = parse_inspect(argc, argv, "list", "a", list_usage, &o);

        if (r != CLI_EXIT_OK)
                return r < 0 ? CLI_EXIT_OK : r;
        if (sbx_registry_list(cli_state_dir(o.state_dir), &v, &n, &e) < 0)
                return cli_fail(e, "list");
        json_t *arr = o.json ? json_array() : NULL;
        if (!o.json)
                printf("%-16s  %-12s  %-24s  %-8s  %-6s  %-5s  %-8s  %-8s  %s\n", "ID", "NAME",
                       "STATUS", "PROFILE", "AGE", "PIDS", "MEMORY", "CPU", "RESTARTS");
        for (size_t i = 0; i < n; i++) {
                if (!o.all && !v[i]->long_lived && !v[i]->broken)
                        continue;
                if (arr)
                        json_array_append_new(arr, sandbox_json(v[i], false));
                else
                        print_row(v[i]);
        }
        sbx_sandboxes_free(v, n);
        return arr ? cli_print_json(arr) : CLI_EXIT_OK;
}

static void info_usage(void)
{
        printf("Usage: sandboxctl info [--json] [--state-dir DIR] ID\n"
               "\n"
               "Everything known about a sandbox: state, command, limits, cgroup path,\n"
               "supervisor and init pids, last exit, restart policy, usage.\n"
               "\n"
               "Options:\n"
               "      --json           as JSON\n"
               "      --state-dir DIR  state directory\n"
               "  -h, --help           show this help\n");
}

static void print_info_text(const struct sbx_sandbox *sb)
{
        char status[128], policy[32], sz[32], dur[32];

        status_text(sb, status, sizeof(status));
        sbx_restart_policy_format(&sb->restart, policy, sizeof(policy));
        printf("ID:          %s\nName:        %s\nStatus:      %s\nProfile:     %s\n", sb->id,
               sb->name ? sb->name : "-", status, sb->profile ? sb->profile : "-");
        printf("Created:     %s\nCommand:    ", sb->created_at ? sb->created_at : "-");
        for (size_t i = 0; i < sb->argv.n; i++)
                printf(" %s", sb->argv.items[i]);
        printf("\nWorkspace:   %s\nRestart:     %s (restarts: %u)\n",
               sb->workspace ? sb->workspace : "-", policy, sb->restarts);
        printf("Supervisor:  %d\nInit:        %d\nCgroup:      %s\n", (int)sb->supervisor_pid,
               (int)sb->init_pid, sb->cgroup ? sb->cgroup : "-");
        sbx_format_size(sb->limit_memory, sz, sizeof(sz));
        sbx_format_duration(sb->limit_timeout_ms, dur, sizeof(dur));
        printf("Limits:      memory %s, pids %llu, cpu %.2f, timeout %s\n",
               sb->limit_memory ? sz : "none", (unsigned long long)sb->limit_pids,
               (double)sb->limit_cpu / 1000.0, sb->limit_timeout_ms ? dur : "none");
        if (sb->has_exit)
                printf("Last exit:   code %d, signal %d\n", sb->exit_code, sb->exit_signal);
}

int cli_info(int argc, char **argv)
{
        struct inspect_opts o = { 0 };
        __attribute__((cleanup(sbx_sandbox_freep))) struct sbx_sandbox *sb = NULL;
        int r = parse_inspect(argc, argv, "info", "i", info_usage, &o);

        if (r != CLI_EXIT_OK)
                return r < 0 ? CLI_EXIT_OK : r;
        r = cli_lookup(cli_state_dir(o.state_dir), o.ref, &sb);
        if (r != CLI_EXIT_OK)
                return r;
        if (o.json)
                return cli_print_json(sandbox_json(sb, true));
        if (sb->broken) {
                printf("ID:          %s\nStatus:      error(broken)\nBroken:      %s\n", sb->id,
                       sb->broken);
                return CLI_EXIT_OK;
        }
        print_info_text(sb);
        return CLI_EXIT_OK;
}

static void stats_usage(void)
{
        printf("Usage: sandboxctl stats [--json] [--watch [--count N]] [--state-dir DIR] ID\n"
               "\n"
               "Live usage of a sandbox from its cgroup: memory (current, peak), processes,\n"
               "CPU time, throttling, OOM kills, refused forks.\n"
               "\n"
               "Options:\n"
               "      --watch          refresh every second, like top (Ctrl-C ends)\n"
               "      --count N        with --watch: stop after N samples\n"
               "      --json           as JSON (one object per sample with --watch)\n"
               "      --state-dir DIR  state directory\n"
               "  -h, --help           show this help\n");
}

static void print_stats_text(const struct sbx_sandbox *sb, const struct sbx_cgroup_usage *u)
{
        char cur[32], peak[32];

        sbx_format_size(u->memory_current, cur, sizeof(cur));
        sbx_format_size(u->memory_peak, peak, sizeof(peak));
        printf("%-16s  mem %s (peak %s)  pids %llu (peak %llu)  cpu %.2fs  throttled %.2fs  "
               "oom %llu  forks refused %llu\n",
               sb->id, cur, peak, (unsigned long long)u->pids_current,
               (unsigned long long)u->pids_peak, (double)u->cpu_usec / 1e6,
               (double)u->cpu_throttled_usec / 1e6, (unsigned long long)u->oom_kills,
               (unsigned long long)u->pids_limit_hits);
}

static int stats_once(const struct inspect_opts *o, const struct sbx_sandbox *sb)
{
        struct sbx_cgroup_usage u;

        if (sb->status != SBX_STATUS_RUNNING || !sample_usage(sb, &u)) {
                sbx_log_error("stats: sandbox %s is not running (%s%s%s)", sb->id,
                              sbx_status_to_string(sb->status), sb->reason ? ": " : "",
                              sb->reason ? sb->reason : "");
                return CLI_EXIT_NOT_RUNNING;
        }
        if (o->json) {
                json_t *j = usage_json(&u);
                json_object_set_new(j, "id", json_string(sb->id));
                return cli_print_json(j);
        }
        print_stats_text(sb, &u);
        return CLI_EXIT_OK;
}

int cli_stats(int argc, char **argv)
{
        struct inspect_opts o = { 0 };
        __attribute__((cleanup(sbx_sandbox_freep))) struct sbx_sandbox *sb = NULL;
        int r = parse_inspect(argc, argv, "stats", "iw", stats_usage, &o);

        if (r != CLI_EXIT_OK)
                return r < 0 ? CLI_EXIT_OK : r;
        r = cli_lookup(cli_state_dir(o.state_dir), o.ref, &sb);
        if (r != CLI_EXIT_OK || !o.watch)
                return r != CLI_EXIT_OK ? r : stats_once(&o, sb);
        for (long i = 0; o.count <= 0 || i < o.count; i++) {
                if (i > 0) {
                        /* Read the state again: a sandbox stopped meanwhile ends the watch. */
                        char id[SBX_ID_LEN + 1];
                        snprintf(id, sizeof(id), "%s", sb->id);
                        poll(NULL, 0, 1000);
                        sbx_sandbox_free(sbx_steal_ptr(sb));
                        r = cli_lookup(cli_state_dir(o.state_dir), id, &sb);
                        if (r != CLI_EXIT_OK)
                                return r;
                }
                if (!o.json && isatty(STDOUT_FILENO))
                        printf("\033[H\033[2J");
                r = stats_once(&o, sb);
                fflush(stdout);
                if (r != CLI_EXIT_OK)
                        return r;
        }
        return CLI_EXIT_OK;
}
