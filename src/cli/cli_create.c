/* cli_create: `sandboxctl create`, a long-lived sandbox under its own
 * supervisor. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli_sandbox.h"
#include "cli_watch.h"
#include "sandboxctl/cgroup.h"
#include "sandboxctl/events.h"
#include "sandboxctl/profile.h"
#include "sandboxctl/runtime.h"
#include "sandboxctl/units.h"
#include "sandboxctl/util.h"
#include "src/lib/run-internal.h"
#include "src/supervisor/supervisor.h"

struct create_options {
        const char *profile, *workspace, *rootfs, *memory, *pids, *cpu, *timeout, *network;
        const char *hostname, *name, *state_dir, *restart, *log_max;
        const char **env;
        size_t n_env;
        const char **watch; /* --watch PATH (cli_watch.c) */
        size_t n_watch;
        bool no_start, json, quiet;
};

static void create_usage(void)
{
        printf("Usage: sandboxctl create [OPTIONS] -- COMMAND [ARG...]\n"
               "\n"
               "Create a long-lived sandbox running COMMAND under its own supervisor, and\n"
               "print its id. It keeps running after sandboxctl exits.\n"
               "\n"
               "Options (they override the profile):\n"
               "  -p, --profile NAME|PATH  security profile (default: medium)\n"
               "      --name NAME          a name, unique among live sandboxes\n"
               "  -w, --workspace DIR      host directory bound at the workspace path, the cwd\n"
               "      --rootfs DIR         directory used as the root file system\n"
               "      --memory SIZE        memory limit, e.g. 256M\n"
               "      --pids N             process limit\n"
               "      --cpu PCT            CPU limit, e.g. 50%% or 1.5\n"
               "      --timeout DUR        wall-clock limit of each run, e.g. 5m; 0s for none\n"
               "      --network MODE       none (private, loopback only) or host\n"
               "  -e, --env KEY=VALUE      set an environment variable (repeatable)\n"
               "      --hostname NAME      host name inside the sandbox\n"
               "      --restart POLICY     no (default), on-failure[:N] or always\n"
               "      --log-max SIZE       size of the logs file before rotation (default 1M)\n"
               "      --watch PATH         watch PATH (repeatable; replaces watch.paths): a\n"
               "                           change rebuilds and reloads (see 'watch --help')\n"
               "      --no-start           create it stopped\n"
               "      --state-dir DIR      state directory (default $SANDBOXCTL_STATE_DIR\n"
               "                           or /run/sandboxctl)\n"
               "      --json               print {\"id\", \"name\", \"status\"} as JSON\n"
               "  -q, --quiet              print nothing on success\n"
               "  -h, --help               show this help\n"
               "\n"
               "Exit status: 0 created; 1 failed; 2 usage error; 5 name already used.\n"
               "\n"
               "Examples:\n"
               "  sandboxctl create --name web -- python3 -m http.server\n"
               "  sandboxctl create --restart on-failure:3 --timeout 0s -- ./worker\n");
}

enum {
        OPT_ROOTFS = 256, OPT_MEMORY, OPT_PIDS, OPT_CPU, OPT_TIMEOUT, OPT_NETWORK, OPT_HOSTNAME,
        OPT_NAME, OPT_STATE_DIR, OPT_RESTART, OPT_LOG_MAX, OPT_NO_START, OPT_JSON, OPT_WATCH,
};

static const struct option create_longopts[] = {
        { "profile", required_argument, NULL, 'p' },
        { "workspace", required_argument, NULL, 'w' },
        { "rootfs", required_argument, NULL, OPT_ROOTFS },
        { "memory", required_argument, NULL, OPT_MEMORY },
        { "pids", required_argument, NULL, OPT_PIDS },
        { "cpu", required_argument, NULL, OPT_CPU },
        { "timeout", required_argument, NULL, OPT_TIMEOUT },
        { "network", required_argument, NULL, OPT_NETWORK },
        { "env", required_argument, NULL, 'e' },
        { "hostname", required_argument, NULL, OPT_HOSTNAME },
        { "name", required_argument, NULL, OPT_NAME },
        { "state-dir", required_argument, NULL, OPT_STATE_DIR },
        { "restart", required_argument, NULL, OPT_RESTART },
        { "log-max", required_argument, NULL, OPT_LOG_MAX },
        { "no-start", no_argument, NULL, OPT_NO_START },
        { "watch", required_argument, NULL, OPT_WATCH },
        { "json", no_argument, NULL, OPT_JSON },
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { 0 },
};

static void take_option(int c, const char *arg, struct create_options *o)
{
        switch (c) {
        case 'p': o->profile = arg; break;
        case 'w': o->workspace = arg; break;
        case OPT_ROOTFS: o->rootfs = arg; break;
        case OPT_MEMORY: o->memory = arg; break;
        case OPT_PIDS: o->pids = arg; break;
        case OPT_CPU: o->cpu = arg; break;
        case OPT_TIMEOUT: o->timeout = arg; break;
        case OPT_NETWORK: o->network = arg; break;
        case OPT_HOSTNAME: o->hostname = arg; break;
        case OPT_NAME: o->name = arg; break;
        case OPT_STATE_DIR: o->state_dir = arg; break;
        case OPT_RESTART: o->restart = arg; break;
        case OPT_LOG_MAX: o->log_max = arg; break;
        case OPT_NO_START: o->no_start = true; break;
        case OPT_JSON: o->json = true; break;
        case 'q': o->quiet = true; break;
        case 'e': o->env[o->n_env++] = arg; break;
        case OPT_WATCH: o->watch[o->n_watch++] = arg; break;
        default: break;
        }
}

static int parse_create_args(int argc, char **argv, struct create_options *o, char ***ret_cmd)
{
        int dash = 1, c;

        while (dash < argc && strcmp(argv[dash], "--") != 0)
                dash++;
        o->env = calloc((size_t)argc, sizeof(*o->env));
        o->watch = calloc((size_t)argc, sizeof(*o->watch));
        if (!o->env || !o->watch)
                return cli_usage_error("create", "out of memory");
        optind = 0;
        while ((c = cli_getopt(dash, argv, "+p:w:e:qh", create_longopts, "create")) != -1) {
                if (c == '?')
                        return CLI_EXIT_USAGE;
                if (c == 'h') {
                        create_usage();
                        return -1;
                }
                take_option(c, optarg, o);
        }
        if (dash >= argc)
                return cli_usage_error("create", "missing '--' before the command");
        if (optind < dash)
                return cli_usage_error("create",
                                       "unexpected argument '%s': put the command after '--'",
                                       argv[optind]);
        if (dash + 1 >= argc)
                return cli_usage_error("create", "missing command after '--'");
        *ret_cmd = argv + dash + 1;
        return CLI_EXIT_OK;
}

static int replace_string(char **field, const char *value)
{
        char *copy = strdup(value);

        if (!copy)
                return -ENOMEM;
        free(*field);
        *field = copy;
        return 0;
}

static int apply_limits(const struct create_options *o, struct sbx_spec *spec, sbx_error **err)
{
        struct sbx_limits *l = &spec->limits;
        int r = 0;

        if (o->memory && (r = sbx_parse_size(o->memory, &l->memory, err)) < 0)
                return sbx_error_prefix(err, r, "--memory");
        if (o->pids && (r = sbx_parse_count(o->pids, 1, UINT32_MAX, &l->pids, err)) < 0)
                return sbx_error_prefix(err, r, "--pids");
        if (o->cpu && (r = sbx_parse_cpu(o->cpu, &l->cpu, err)) < 0)
                return sbx_error_prefix(err, r, "--cpu");
        if (o->timeout && (r = sbx_parse_duration(o->timeout, &l->timeout_ms, err)) < 0)
                return sbx_error_prefix(err, r, "--timeout");
        return r;
}

static int apply_network(const char *mode, struct sbx_spec *spec, sbx_error **err)
{
        enum sbx_network_mode m;

        if (sbx_network_mode_from_string(mode, &m) < 0 ||
            (m != SBX_NETWORK_NONE && m != SBX_NETWORK_HOST))
                return sbx_error_set(err, EINVAL, "--network: '%s' is not one of none, host",
                                     mode);
        spec->network = m;
        if (m == SBX_NETWORK_NONE)
                spec->isolation.namespaces |= SBX_NS_NET;
        else
                spec->isolation.namespaces &= ~(unsigned)SBX_NS_NET;
        return 0;
}

static int apply_rootfs(const char *rootfs, struct sbx_spec *spec, sbx_error **err)
{
        char *abs = realpath(rootfs, NULL);

        if (!abs)
                return sbx_error_errno(err, errno, "--rootfs %s", rootfs);
        free(spec->filesystem.rootfs);
        spec->filesystem.rootfs = abs;
        return 0;
}

static int apply_overrides(const struct create_options *o, struct sbx_spec *spec, sbx_error **err)
{
        int r = apply_limits(o, spec, err);

        if (r >= 0 && o->network)
                r = apply_network(o->network, spec, err);
        for (size_t i = 0; r >= 0 && i < o->n_env; i++)
                if ((r = sbx_env_set(&spec->env, o->env[i], err)) < 0)
                        sbx_error_prefix(err, r, "--env");
        if (r >= 0 && o->hostname && replace_string(&spec->isolation.hostname, o->hostname) < 0)
                r = sbx_error_errno(err, ENOMEM, "--hostname");
        if (r >= 0 && o->rootfs)
                r = apply_rootfs(o->rootfs, spec, err);
        return r;
}

static int resolve_workspace(const char *dir, char **ret, sbx_error **err)
{
        struct stat st;
        char *abs = realpath(dir, NULL);

        if (!abs)
                return sbx_error_errno(err, errno, "--workspace %s", dir);
        if (stat(abs, &st) < 0 || !S_ISDIR(st.st_mode)) {
                free(abs);
                return sbx_error_set(err, ENOTDIR, "--workspace %s: not a directory", dir);
        }
        *ret = abs;
        return 0;
}

/* Options that are not spec overrides. */
static int check_other_options(const struct create_options *o, struct sbx_sandbox *sb,
                               sbx_error **err)
{
        int r = 0;

        if (o->name && (r = sbx_sandbox_name_check(o->name, err)) < 0)
                return sbx_error_prefix(err, r, "--name");
        if (o->restart && (r = sbx_restart_policy_parse(o->restart, &sb->restart, err)) < 0)
                return sbx_error_prefix(err, r, "--restart");
        if (o->log_max && (r = sbx_parse_size(o->log_max, &sb->log_max, err)) < 0)
                return sbx_error_prefix(err, r, "--log-max");
        return 0;
}

static int fill_identity(const struct create_options *o, struct sbx_sandbox *sb, sbx_error **err)
{
        struct timespec now;
        char ts[64];
        const char *parent = getenv(SBX_CGROUP_PARENT_ENV);
        const char *term = getenv("TERM");

        int r = sbx_sandbox_id_new(sb->id, err);
        if (r < 0)
                return r;
        clock_gettime(CLOCK_REALTIME, &now);
        sbx_format_iso8601(&now, ts, sizeof(ts));
        sb->created_at = strdup(ts);
        sb->profile = strdup(o->profile ? o->profile : SBX_PROFILE_DEFAULT);
        sb->name = o->name ? strdup(o->name) : NULL;
        sb->cgroup_parent = parent && *parent ? strdup(parent) : NULL;
        sb->term = term ? strdup(term) : NULL;
        if (!sb->created_at || !sb->profile || (o->name && !sb->name))
                return sbx_error_errno(err, ENOMEM, "create");
        sb->status = SBX_STATUS_CREATING;
        sb->uid = geteuid();
        sb->long_lived = true;
        /* Until the supervisor takes over, this process answers for the sandbox. */
        sb->supervisor_pid = getpid();
        return sbx_pid_start_time(getpid(), &sb->supervisor_start, err);
}

static int fill_config(const struct sbx_spec *spec, char **cmd, struct sbx_sandbox *sb,
                       sbx_error **err)
{
        sbx_autofree char *text = NULL;
        int r = sbx_spec_to_json(spec, false, &text, err);

        if (r < 0)
                return r;
        /* The whole spec: it is a valid profile ("unlimited", "none" included). */
        __attribute__((cleanup(json_decrefp))) json_t *o = json_loads(text, 0, NULL);
        sb->spec_json = o ? json_dumps(o, JSON_COMPACT) : NULL;
        if (!sb->spec_json)
                return sbx_error_errno(err, ENOMEM, "encode the spec");
        for (size_t i = 0; cmd[i]; i++)
                if (sbx_strv_push(&sb->argv, cmd[i]) < 0)
                        return sbx_error_errno(err, ENOMEM, "create");
        sb->limit_memory = spec->limits.memory;
        sb->limit_pids = spec->limits.pids;
        sb->limit_cpu = spec->limits.cpu;
        sb->limit_timeout_ms = spec->limits.timeout_ms;
        return 0;
}

/* A sandbox whose first start failed is removed again: create is all or nothing. */
static void undo_create(const char *state_dir, const char *id)
{
        __attribute__((cleanup(sbx_sandbox_freep))) struct sbx_sandbox *sb = NULL;

        if (sbx_registry_read(state_dir, id, &sb, NULL) >= 0 && !sb->supervisor_dead) {
                __attribute__((cleanup(json_decrefp))) json_t *req =
                        json_pack("{s:s, s:i}", "op", "destroy", "time_ms", 0);
                if (cli_control(state_dir, sb, req, 15000, NULL, NULL) >= 0)
                        return;
        }
        sbx_cgroup_remove_stale(sb ? sb->cgroup_parent : NULL, id, NULL);
        sbx_registry_remove(state_dir, id, NULL);
}

static int print_created(const struct create_options *o, const char *state_dir,
                         const struct sbx_sandbox *sb)
{
        if (o->quiet)
                return CLI_EXIT_OK;
        if (!o->json) {
                printf("%s\n", sb->id);
                return CLI_EXIT_OK;
        }
        __attribute__((cleanup(sbx_sandbox_freep))) struct sbx_sandbox *now = NULL;
        const char *status = sbx_registry_read(state_dir, sb->id, &now, NULL) >= 0
                                     ? sbx_status_to_string(now->status)
                                     : "unknown";
        return cli_print_json(json_pack("{s:s, s:s?, s:s}", "id", sb->id, "name", sb->name,
                                        "status", status));
}

static int create_sandbox(const struct create_options *o, const struct sbx_spec *spec,
                          char **cmd, struct sbx_sandbox *sb)
{
        const char *state_dir = cli_state_dir(o->state_dir);
        sbx_autoerror e = NULL;

        if (fill_identity(o, sb, &e) < 0 || fill_config(spec, cmd, sb, &e) < 0)
                return cli_fail(e, "create");
        if (sbx_registry_create(state_dir, sb, &e) < 0)
                return cli_fail(e, "create");
        __attribute__((cleanup(json_decrefp))) json_t *ev = json_pack(
                "{s:s?, s:s, s:I}", "name", sb->name, "profile", sb->profile, "uid",
                (json_int_t)sb->uid);
        sbx_event_append(state_dir, sb->id, "created", ev, NULL);
        if (sbx_supervisor_spawn(state_dir, sb->id, !o->no_start, &e) < 0) {
                undo_create(state_dir, sb->id);
                return cli_fail(e, "create: start");
        }
        return print_created(o, state_dir, sb);
}

static int create_with_options(const struct create_options *o, char **cmd)
{
        __attribute__((cleanup(sbx_spec_freep))) struct sbx_spec *spec = NULL;
        __attribute__((cleanup(sbx_sandbox_freep))) struct sbx_sandbox *sb = calloc(1, sizeof(*sb));
        sbx_autoerror e = NULL;

        if (!sb)
                return CLI_EXIT_FAILURE;
        if (sbx_profile_load(o->profile ? o->profile : SBX_PROFILE_DEFAULT, &spec, &e) < 0)
                return cli_fail(e, "profile");
        /* The profile's lifecycle.restart, unless --restart says otherwise. */
        sb->restart = spec->lifecycle.restart;
        if (apply_overrides(o, spec, &e) < 0 || sbx_spec_validate(spec, &e) < 0 ||
            check_other_options(o, sb, &e) < 0)
                return cli_usage_error("create", "%s", e ? e->message : "invalid option");
        spec->lifecycle.restart = sb->restart;
        if (o->workspace && resolve_workspace(o->workspace, &sb->workspace, &e) < 0)
                return cli_fail(e, "workspace");
        if (cli_watch_apply(spec, &sb->workspace, o->watch, o->n_watch, &e) < 0)
                return cli_usage_error("create", "%s", e->message);
        return create_sandbox(o, spec, cmd, sb);
}

int cli_create(int argc, char **argv)
{
        struct create_options o = { 0 };
        char **cmd = NULL;
        int r = parse_create_args(argc, argv, &o, &cmd);

        if (r == CLI_EXIT_OK)
                r = create_with_options(&o, cmd);
        else if (r < 0)
                r = CLI_EXIT_OK; /* --help */
        free(o.env);
        free(o.watch);
        return r;
}
