/* cli_run: `sandboxctl run`, one throwaway sandbox. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "cli_watch.h"
#include "sandboxctl/profile.h"
#include "sandboxctl/report.h"
#include "sandboxctl/runtime.h"
#include "sandboxctl/units.h"
#include "sandboxctl/util.h"

/* What the command line asked for; applied onto the profile's spec. */
struct run_options {
        const char *profile;
        const char *workspace;
        const char *rootfs;
        const char *memory;
        const char *pids;
        const char *cpu;
        const char *timeout;
        const char *network;
        const char *hostname;
        const char *report;
        const char *name;
        const char *state_dir;
        const char *cgroup_parent;
        const char **env;
        size_t n_env;
        const char **watch; /* --watch PATH: the foreground watch loop (cli_watch.c) */
        size_t n_watch;
        bool quiet;
        bool json;
};

static void run_usage(void)
{
        printf("Usage: sandboxctl run [OPTIONS] -- COMMAND [ARG...]\n"
               "\n"
               "Run COMMAND in a new throwaway sandbox and exit with its exit code.\n"
               "\n"
               "Options (they override the profile):\n"
               "  -p, --profile NAME|PATH  security profile (default: medium)\n"
               "  -w, --workspace DIR      host directory bound at the workspace path, the cwd\n"
               "      --rootfs DIR         directory used as the root file system\n"
               "      --memory SIZE        memory limit, e.g. 256M (the sandbox's cgroup)\n"
               "      --pids N             process limit (the sandbox's cgroup)\n"
               "      --cpu PCT            CPU limit, e.g. 50%% or 1.5 CPUs (the sandbox's cgroup)\n"
               "      --timeout DUR        wall-clock limit, e.g. 30s, 5m; 0s for none\n"
               "      --network MODE       none (private, loopback only) or host\n"
               "  -e, --env KEY=VALUE      set an environment variable (repeatable)\n"
               "      --hostname NAME      host name inside the sandbox\n"
               "      --report FILE|-      write a JSON usage report to FILE (- = stderr)\n"
               "      --name NAME          a name for the sandbox (state and report)\n"
               "      --state-dir DIR      state directory (default $SANDBOXCTL_STATE_DIR\n"
               "                           or /run/sandboxctl)\n"
               "      --cgroup-parent PATH cgroup under which the sandbox's cgroup is made\n"
               "                           (default $SANDBOXCTL_CGROUP_PARENT or sandboxctl)\n"
               "      --watch PATH         watch PATH (repeatable; the workspace, default the\n"
               "                           cwd, or a directory in it): each change rebuilds\n"
               "                           (watch.rebuild) and restarts COMMAND, until Ctrl-C\n"
               "  -q, --quiet              no notices from sandboxctl: timeout, limit hits,\n"
               "                           skipped best_effort limits (errors still print)\n"
               "      --json               sandboxctl's own messages as JSON lines\n"
               "  -h, --help               show this help\n"
               "\n"
               "Exit status: the command's; 128+N if it died of signal N; 124 timeout;\n"
               "125 sandbox set-up failed (also: a limit the host cannot enforce); 126 command\n"
               "not executable; 127 not found; 2 usage error.\n"
               "\n"
               "Examples:\n"
               "  sandboxctl run -- /bin/true\n"
               "  sandboxctl run --profile ci --workspace . -- make test\n"
               "  sandboxctl run --timeout 2s --report - -- sleep 10\n"
               "  sandboxctl run --profile dev --watch src --timeout 0s -- ./server\n");
}

enum {
        OPT_ROOTFS = 256,
        OPT_MEMORY,
        OPT_PIDS,
        OPT_CPU,
        OPT_TIMEOUT,
        OPT_NETWORK,
        OPT_HOSTNAME,
        OPT_REPORT,
        OPT_NAME,
        OPT_STATE_DIR,
        OPT_CGROUP_PARENT,
        OPT_JSON,
        OPT_WATCH,
};

static const struct option run_longopts[] = {
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
        { "report", required_argument, NULL, OPT_REPORT },
        { "name", required_argument, NULL, OPT_NAME },
        { "state-dir", required_argument, NULL, OPT_STATE_DIR },
        { "cgroup-parent", required_argument, NULL, OPT_CGROUP_PARENT },
        { "quiet", no_argument, NULL, 'q' },
        { "json", no_argument, NULL, OPT_JSON },
        { "watch", required_argument, NULL, OPT_WATCH },
        { "help", no_argument, NULL, 'h' },
        { 0 },
};

static int take_option(int c, const char *arg, struct run_options *o)
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
        case OPT_REPORT: o->report = arg; break;
        case OPT_NAME: o->name = arg; break;
        case OPT_STATE_DIR: o->state_dir = arg; break;
        case OPT_CGROUP_PARENT: o->cgroup_parent = arg; break;
        case 'q': o->quiet = true; break;
        case OPT_JSON: o->json = true; break;
        case 'e': o->env[o->n_env++] = arg; break;
        case OPT_WATCH: o->watch[o->n_watch++] = arg; break;
        default: return -EINVAL;
        }
        return 0;
}

/* Parse argv up to the first "--"; *ret_cmd is what follows it. Returns
 * CLI_EXIT_OK, CLI_EXIT_USAGE, or -1 for --help (printed). */
static int parse_run_args(int argc, char **argv, struct run_options *o, char ***ret_cmd)
{
        int dash = 1;
        int c;

        while (dash < argc && strcmp(argv[dash], "--") != 0)
                dash++;
        o->env = calloc((size_t)argc, sizeof(*o->env));
        o->watch = calloc((size_t)argc, sizeof(*o->watch));
        if (!o->env || !o->watch)
                return cli_usage_error("run", "out of memory");
        optind = 0;
        while ((c = cli_getopt(dash, argv, "+p:w:e:qh", run_longopts, "run")) != -1) {
                if (c == '?')
                        return CLI_EXIT_USAGE;
                if (c == 'h') {
                        run_usage();
                        return -1;
                }
                take_option(c, optarg, o);
        }
        if (dash >= argc)
                return cli_usage_error("run", "missing '--' before the command");
        if (optind < dash)
                return cli_usage_error("run", "unexpected argument '%s': put the command after '--'",
                                       argv[optind]);
        if (dash + 1 >= argc)
                return cli_usage_error("run", "missing command after '--'");
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

static int apply_limits(const struct run_options *o, struct sbx_spec *spec, sbx_error **err)
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

static int absolute_path(const char *path, char **ret, sbx_error **err)
{
        char cwd[PATH_MAX];

        if (path[0] == '/') {
                *ret = strdup(path);
        } else {
                if (!getcwd(cwd, sizeof(cwd)))
                        return sbx_error_errno(err, errno, "getcwd");
                if (asprintf(ret, "%s/%s", cwd, path) < 0)
                        *ret = NULL;
        }
        return *ret ? 0 : sbx_error_errno(err, ENOMEM, "%s", path);
}

static int apply_overrides(const struct run_options *o, struct sbx_spec *spec, sbx_error **err)
{
        int r = apply_limits(o, spec, err);

        if (r >= 0 && o->network)
                r = apply_network(o->network, spec, err);
        for (size_t i = 0; r >= 0 && i < o->n_env; i++)
                if ((r = sbx_env_set(&spec->env, o->env[i], err)) < 0)
                        sbx_error_prefix(err, r, "--env");
        if (r >= 0 && o->hostname && replace_string(&spec->isolation.hostname, o->hostname) < 0)
                r = sbx_error_errno(err, ENOMEM, "--hostname");
        if (r >= 0 && o->rootfs) {
                char *abs = NULL;
                r = absolute_path(o->rootfs, &abs, err);
                if (r >= 0) {
                        free(spec->filesystem.rootfs);
                        spec->filesystem.rootfs = abs;
                }
        }
        return r;
}

/* The workspace as an absolute, existing host directory. */
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

static void print_outcome(const struct run_options *o, const struct sbx_spec *spec,
                          const struct sbx_run_result *res)
{
        char dur[32];

        if (res->timed_out && !o->quiet) {
                sbx_format_duration(spec->limits.timeout_ms, dur, sizeof(dur));
                sbx_log_error("timeout %s reached: sandbox killed", dur);
        } else if (res->exit_code == SBX_EXIT_SETUP && res->failed_step) {
                sbx_log_error("sandbox setup failed: %s: %s", res->failed_step,
                              res->failure ? res->failure : "unknown error");
        } else if (res->failed_step) {
                sbx_log_error("%s", res->failure ? res->failure : "exec failed");
        }
        if (res->cleanup_error && !o->quiet)
                sbx_log_warn("clean up sandbox %s: %s", res->id, res->cleanup_error);
}

/* One line per kind of limit the sandbox ran into. CPU throttling is the
 * quota doing its job and fails nothing: it is in the report only. */
static void print_limit_hits(const struct sbx_run_result *res)
{
        const struct sbx_cgroup_usage *u = &res->cgroup_usage;
        const struct sbx_cgroup_limits *l = &res->cgroup_limits;
        char size[32];

        if ((u->have & SBX_CGROUP_HAVE_OOM) && u->oom_kills > 0 && l->memory) {
                sbx_format_size(l->memory, size, sizeof(size));
                if (u->oom_kills == 1)
                        sbx_log_error("memory limit %s reached: process killed by the OOM killer",
                                      size);
                else
                        sbx_log_error("memory limit %s reached: %" PRIu64
                                      " processes killed by the OOM killer",
                                      size, u->oom_kills);
        }
        if ((u->have & SBX_CGROUP_HAVE_PIDS_HITS) && u->pids_limit_hits > 0 && l->pids)
                sbx_log_error("pids limit %" PRIu64 " reached: %" PRIu64 " fork%s refused",
                              l->pids, u->pids_limit_hits, u->pids_limit_hits == 1 ? "" : "s");
}

static void warn_line(void *data, const char *message)
{
        (void)data;
        sbx_log_warn("%s", message);
}

static int run_sandbox_and_report(const struct run_options *o, const struct sbx_run_config *cfg)
{
        sbx_autoerror e = NULL;
        struct sbx_run_result res;

        if (sbx_run(cfg, &res, &e) < 0) {
                sbx_log_error("sandbox setup failed: %s", e ? e->message : "unknown error");
                return SBX_EXIT_SETUP;
        }
        print_outcome(o, cfg->spec, &res);
        if (!o->quiet)
                print_limit_hits(&res);
        if (o->report && sbx_report_write(o->report, cfg, &res, &e) < 0)
                sbx_log_error("report: %s", e ? e->message : "unknown error");
        int code = res.exit_code;
        sbx_run_result_clear(&res);
        return code;
}

static int run_watching(const struct run_options *o, struct sbx_spec *spec, char **cmd,
                        char **workspace, const char *profile)
{
        sbx_autoerror e = NULL;

        if (cli_watch_apply(spec, workspace, o->watch, o->n_watch, &e) < 0)
                return cli_usage_error("run", "%s", e->message);
        struct cli_run_watch rw = {
                .spec = spec, .argv = cmd, .workspace = *workspace, .state_dir = o->state_dir,
                .cgroup_parent = o->cgroup_parent, .name = o->name, .profile = profile,
                .json = o->json,
        };
        return cli_run_watch(&rw);
}

static int run_with_options(const struct run_options *o, char **cmd)
{
        __attribute__((cleanup(sbx_spec_freep))) struct sbx_spec *spec = NULL;
        sbx_autofree char *workspace = NULL;
        sbx_autoerror e = NULL;
        const char *profile = o->profile ? o->profile : SBX_PROFILE_DEFAULT;

        if (sbx_profile_load(profile, &spec, &e) < 0) {
                sbx_log_error("sandbox setup failed: profile: %s", e ? e->message : "unknown error");
                return SBX_EXIT_SETUP;
        }
        if (apply_overrides(o, spec, &e) < 0 || sbx_spec_validate(spec, &e) < 0)
                return cli_usage_error("run", "%s", e ? e->message : "invalid option");
        if (o->workspace && resolve_workspace(o->workspace, &workspace, &e) < 0) {
                sbx_log_error("sandbox setup failed: workspace: %s", e->message);
                return SBX_EXIT_SETUP;
        }
        if (o->n_watch)
                return run_watching(o, spec, cmd, &workspace, profile);
        const char *term = getenv("TERM");
        struct sbx_run_config cfg = {
                .spec = spec,
                .argv = cmd,
                .workspace = workspace,
                .state_dir = o->state_dir,
                .name = o->name,
                .profile = profile,
                .term = term,
                .cgroup_parent = o->cgroup_parent,
                .warn = o->quiet ? NULL : warn_line,
        };
        return run_sandbox_and_report(o, &cfg);
}

int cli_run(int argc, char **argv)
{
        struct run_options o = { 0 };
        char **cmd = NULL;
        int r = parse_run_args(argc, argv, &o, &cmd);

        if (r == CLI_EXIT_OK) {
                if (o.json)
                        sbx_log_set_format(SBX_LOG_FORMAT_JSON);
                r = run_with_options(&o, cmd);
        } else if (r < 0) {
                r = CLI_EXIT_OK; /* --help */
        }
        free(o.env);
        free(o.watch);
        return r;
}
