/* cli_watch: `sandboxctl watch ID [--on|--off]`, the --watch PATH option of
 * create and run, and `run --watch`: a one-off sandbox whose supervisor
 * loop (watch, rebuild, reload) runs in the foreground until Ctrl-C. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli_sandbox.h"
#include "cli_watch.h"
#include "sandboxctl/cgroup.h"
#include "sandboxctl/events.h"
#include "sandboxctl/runtime.h"
#include "sandboxctl/util.h"
#include "src/lib/run-internal.h"
#include "src/supervisor/supervisor.h"

#define WATCH_CONTROL_MS 15000

/* PATH (absolute, or relative to the cwd) as a path relative to the
 * workspace; "" for the workspace itself. */
static int relative_to(const char *workspace, const char *path, char **ret, sbx_error **err)
{
        sbx_autofree char *abs = realpath(path, NULL);
        size_t n = strlen(workspace);

        if (!abs)
                return sbx_error_errno(err, errno, "--watch %s", path);
        if (strncmp(abs, workspace, n) != 0 || (abs[n] != '\0' && abs[n] != '/'))
                return sbx_error_set(err, EINVAL, "--watch %s: not inside the workspace %s", path,
                                     workspace);
        *ret = strdup(abs[n] ? abs + n + 1 : "");
        return *ret ? 0 : sbx_error_errno(err, ENOMEM, "--watch");
}

int cli_watch_apply(struct sbx_spec *spec, char **workspace, const char *const *paths, size_t n,
                    sbx_error **err)
{
        bool whole = false;

        if (n == 0)
                return 0;
        if (!*workspace && !(*workspace = realpath(".", NULL)))
                return sbx_error_errno(err, errno, "--watch: the current directory");
        sbx_strv_clear(&spec->watch.paths);
        for (size_t i = 0; i < n; i++) {
                sbx_autofree char *rel = NULL;
                int r = relative_to(*workspace, paths[i], &rel, err);
                if (r < 0)
                        return r;
                whole |= rel[0] == '\0';
                if (rel[0] && sbx_strv_push(&spec->watch.paths, rel) < 0)
                        return sbx_error_errno(err, ENOMEM, "--watch");
        }
        if (whole)
                sbx_strv_clear(&spec->watch.paths);
        spec->has_watch = true;
        return 0;
}

/* ---- sandboxctl watch ---- */

static void watch_usage(void)
{
        printf("Usage: sandboxctl watch [--on | --off] [--json] [--state-dir DIR] ID\n"
               "\n"
               "Show whether a sandbox watches its workspace, and its rebuilds and reloads;\n"
               "with --on or --off, start or stop watching (through its supervisor). A\n"
               "build that runs when watching stops is stopped too.\n"
               "\n"
               "Options:\n"
               "      --on             start watching (the sandbox needs a watch section or\n"
               "                       create --watch PATH)\n"
               "      --off            stop watching\n"
               "      --json           print the status as JSON\n"
               "      --state-dir DIR  state directory\n"
               "  -h, --help           show this help\n"
               "\n"
               "Exit status: 0 done; 1 failed; 2 usage error; 3 no such sandbox;\n"
               "6 the sandbox's supervisor is not running.\n"
               "\n"
               "Examples:\n"
               "  sandboxctl watch web\n"
               "  sandboxctl watch --off web\n");
}

static void print_status(const char *id, json_t *w)
{
        json_t *last = json_object_get(w, "last_build");

        printf("%s: watch %s, %s, %lld watches\n", id,
               json_is_true(json_object_get(w, "enabled")) ? "on" : "off",
               json_string_value(json_object_get(w, "state")) ?: "-",
               (long long)json_integer_value(json_object_get(w, "watches")));
        printf("rebuild: %s%s\n", json_string_value(json_object_get(w, "rebuild")) ?: "(none)",
               json_is_true(json_object_get(w, "building")) ? " (running)" : "");
        printf("builds %lld, failed %lld, reloads %lld, rollbacks %lld\n",
               (long long)json_integer_value(json_object_get(w, "builds")),
               (long long)json_integer_value(json_object_get(w, "failures")),
               (long long)json_integer_value(json_object_get(w, "reloads")),
               (long long)json_integer_value(json_object_get(w, "rollbacks")));
        if (last)
                printf("last build: exit %lld in %lld ms\n",
                       (long long)json_integer_value(json_object_get(last, "exit_code")),
                       (long long)json_integer_value(json_object_get(last, "duration_ms")));
}

struct watch_opts {
        const char *state_dir, *ref;
        int on; /* -1: ask only */
        bool json;
};

static int parse_watch(int argc, char **argv, struct watch_opts *o)
{
        enum { OPT_ON = 256, OPT_OFF, OPT_JSON, OPT_STATE_DIR };
        static const struct option opts[] = {
                { "on", no_argument, NULL, OPT_ON },
                { "off", no_argument, NULL, OPT_OFF },
                { "json", no_argument, NULL, OPT_JSON },
                { "state-dir", required_argument, NULL, OPT_STATE_DIR },
                { "help", no_argument, NULL, 'h' },
                { 0 },
        };
        int c;

        optind = 0;
        while ((c = cli_getopt(argc, argv, "h", opts, "watch")) != -1) {
                switch (c) {
                case OPT_ON: o->on = 1; break;
                case OPT_OFF: o->on = 0; break;
                case OPT_JSON: o->json = true; break;
                case OPT_STATE_DIR: o->state_dir = optarg; break;
                case 'h': watch_usage(); return -1;
                default: return CLI_EXIT_USAGE;
                }
        }
        if (optind >= argc)
                return cli_usage_error("watch", "watch: missing sandbox id or name");
        o->ref = argv[optind++];
        if (optind < argc)
                return cli_usage_error("watch", "watch: unexpected argument '%s'", argv[optind]);
        return CLI_EXIT_OK;
}

int cli_watch(int argc, char **argv)
{
        struct watch_opts o = { .on = -1 };
        __attribute__((cleanup(sbx_sandbox_freep))) struct sbx_sandbox *sb = NULL;
        __attribute__((cleanup(json_decrefp))) json_t *reply = NULL;
        sbx_autoerror e = NULL;
        int r = parse_watch(argc, argv, &o);

        if (r != CLI_EXIT_OK)
                return r < 0 ? CLI_EXIT_OK : r;
        const char *state_dir = cli_state_dir(o.state_dir);
        if ((r = cli_lookup(state_dir, o.ref, &sb)) != CLI_EXIT_OK)
                return r;
        __attribute__((cleanup(json_decrefp))) json_t *req = json_pack("{s:s}", "op", "watch");
        if (o.on >= 0)
                json_object_set_new(req, "on", json_boolean(o.on));
        if (cli_control(state_dir, sb, req, WATCH_CONTROL_MS, (void **)&reply, &e) < 0)
                return cli_fail(e, "watch");
        json_t *w = json_object_get(reply, "watch");
        if (o.json)
                return cli_print_json(json_incref(w));
        print_status(sb->id, w);
        return CLI_EXIT_OK;
}

/* ---- run --watch ---- */

static int fill_sandbox(const struct cli_run_watch *rw, struct sbx_sandbox *sb, sbx_error **err)
{
        const char *parent = rw->cgroup_parent ? rw->cgroup_parent : getenv(SBX_CGROUP_PARENT_ENV);
        struct timespec now;
        char ts[64];
        int r = sbx_sandbox_id_new(sb->id, err);

        if (r < 0)
                return r;
        clock_gettime(CLOCK_REALTIME, &now);
        sbx_format_iso8601(&now, ts, sizeof(ts));
        sb->created_at = strdup(ts);
        sb->profile = strdup(rw->profile);
        sb->name = rw->name ? strdup(rw->name) : NULL;
        sb->cgroup_parent = parent && *parent ? strdup(parent) : NULL;
        sb->term = getenv("TERM") ? strdup(getenv("TERM")) : NULL;
        sb->workspace = strdup(rw->workspace);
        if (!sb->created_at || !sb->profile || !sb->workspace)
                return sbx_error_errno(err, ENOMEM, "run --watch");
        sb->status = SBX_STATUS_CREATING;
        sb->uid = geteuid();
        sb->long_lived = true;
        sb->supervisor_pid = getpid();
        return sbx_pid_start_time(getpid(), &sb->supervisor_start, err);
}

/* The whole spec, as create stores it: a valid profile, limits included
 * ("unlimited" and "none" too), so that every reader of state.json (the
 * supervisor, exec, checkpoint) gets the sandbox's own limits. */
static int fill_config(const struct cli_run_watch *rw, struct sbx_sandbox *sb, sbx_error **err)
{
        const struct sbx_spec *spec = rw->spec;
        sbx_autofree char *text = NULL;
        int r = sbx_spec_to_json(spec, false, &text, err);

        if (r < 0)
                return r;
        __attribute__((cleanup(json_decrefp))) json_t *o = json_loads(text, 0, NULL);
        sb->spec_json = o ? json_dumps(o, JSON_COMPACT) : NULL;
        if (!sb->spec_json)
                return sbx_error_errno(err, ENOMEM, "encode the spec");
        for (size_t i = 0; rw->argv[i]; i++)
                if (sbx_strv_push(&sb->argv, rw->argv[i]) < 0)
                        return sbx_error_errno(err, ENOMEM, "run --watch");
        sb->limit_memory = spec->limits.memory;
        sb->limit_pids = spec->limits.pids;
        sb->limit_cpu = spec->limits.cpu;
        sb->limit_timeout_ms = spec->limits.timeout_ms;
        return 0;
}

int cli_run_watch(const struct cli_run_watch *rw)
{
        __attribute__((cleanup(sbx_sandbox_freep))) struct sbx_sandbox *sb = calloc(1, sizeof(*sb));
        const char *state_dir = cli_state_dir(rw->state_dir);
        sbx_autoerror e = NULL;

        if (!sb)
                return SBX_EXIT_SETUP;
        if (fill_sandbox(rw, sb, &e) < 0 || fill_config(rw, sb, &e) < 0 ||
            sbx_registry_create(state_dir, sb, &e) < 0) {
                sbx_log_error("sandbox setup failed: %s", e ? e->message : "unknown error");
                return SBX_EXIT_SETUP;
        }
        char *argv[] = { (char *)SBX_SUPERVISE_COMMAND, (char *)state_dir, sb->id, (char *)"-1",
                         (char *)"--start", (char *)"--foreground",
                         rw->json ? (char *)"--json" : NULL, NULL };
        int r = sbx_supervisor_main(rw->json ? 7 : 6, argv);
        /* Whatever the loop left (it removes everything when it ends well). */
        sbx_cgroup_remove_stale(sb->cgroup_parent, sb->id, NULL);
        sbx_registry_remove(state_dir, sb->id, NULL);
        return r == 0 ? CLI_EXIT_OK : SBX_EXIT_SETUP;
}
