/* cli_run_options: the options of `run` and `create`, from one table. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "cli_run_options.h"
#include "sandboxctl/runtime.h"
#include "sandboxctl/units.h"
#include "sandboxctl/util.h"

enum {
        OPT_ROOTFS = 256, OPT_MEMORY, OPT_PIDS, OPT_CPU, OPT_TIMEOUT, OPT_NETWORK, OPT_HOSTNAME,
        OPT_NAME, OPT_STATE_DIR, OPT_CGROUP_PARENT, OPT_REPORT, OPT_RESTART, OPT_LOG_MAX,
        OPT_NO_START, OPT_JSON, OPT_WATCH,
};

#define BOTH (CLI_RUN_CMD_RUN | CLI_RUN_CMD_CREATE)
#define RUN CLI_RUN_CMD_RUN
#define CREATE CLI_RUN_CMD_CREATE

/* One row per option and help text, in help order. An option whose meaning
 * differs between the commands has one row for each. A '\n' in help starts
 * a continuation line. */
struct run_option {
        const char *name;
        int has_arg, val;
        unsigned commands;
        const char *label, *help;
};

static const struct run_option run_options[] = {
        { "profile", required_argument, 'p', BOTH, "-p, --profile NAME|PATH",
          "security profile (default: medium)" },
        { "name", required_argument, OPT_NAME, CREATE, "    --name NAME",
          "a name, unique among live sandboxes" },
        { "workspace", required_argument, 'w', BOTH, "-w, --workspace DIR",
          "host directory bound at the workspace path, the cwd" },
        { "rootfs", required_argument, OPT_ROOTFS, BOTH, "    --rootfs DIR",
          "directory used as the root file system" },
        { "memory", required_argument, OPT_MEMORY, BOTH, "    --memory SIZE",
          "memory limit, e.g. 256M (the sandbox's cgroup)" },
        { "pids", required_argument, OPT_PIDS, BOTH, "    --pids N",
          "process limit (the sandbox's cgroup)" },
        { "cpu", required_argument, OPT_CPU, BOTH, "    --cpu PCT",
          "CPU limit, e.g. 50% or 1.5 CPUs (the sandbox's cgroup)" },
        { "timeout", required_argument, OPT_TIMEOUT, BOTH, "    --timeout DUR",
          "wall-clock limit of each run, e.g. 30s, 5m;\nnone (or unlimited, 0s) for no limit" },
        { "network", required_argument, OPT_NETWORK, BOTH, "    --network MODE",
          "none (private, loopback only) or host" },
        { "env", required_argument, 'e', BOTH, "-e, --env KEY=VALUE",
          "set an environment variable (repeatable)" },
        { "hostname", required_argument, OPT_HOSTNAME, BOTH, "    --hostname NAME",
          "host name inside the sandbox" },
        { "report", required_argument, OPT_REPORT, RUN, "    --report FILE|-",
          "write a JSON usage report to FILE (- = stderr)" },
        { "name", required_argument, OPT_NAME, RUN, "    --name NAME",
          "a name for the sandbox (state and report)" },
        { "restart", required_argument, OPT_RESTART, CREATE, "    --restart POLICY",
          "no (default), on-failure[:N] or always" },
        { "log-max", required_argument, OPT_LOG_MAX, CREATE, "    --log-max SIZE",
          "size of the logs file before rotation (default 1M)" },
        { "state-dir", required_argument, OPT_STATE_DIR, BOTH, "    --state-dir DIR",
          "state directory (default $SANDBOXCTL_STATE_DIR\nor /run/sandboxctl)" },
        { "cgroup-parent", required_argument, OPT_CGROUP_PARENT, BOTH, "    --cgroup-parent PATH",
          "cgroup under which the sandbox's cgroup is made\n"
          "(default $SANDBOXCTL_CGROUP_PARENT or sandboxctl)" },
        { "watch", required_argument, OPT_WATCH, RUN, "    --watch PATH",
          "watch PATH (repeatable; the workspace, default the\n"
          "cwd, or a directory in it): each change rebuilds\n"
          "(watch.rebuild) and restarts COMMAND, until Ctrl-C" },
        { "watch", required_argument, OPT_WATCH, CREATE, "    --watch PATH",
          "watch PATH (repeatable; replaces watch.paths): a\n"
          "change rebuilds and reloads (see 'watch --help')" },
        { "no-start", no_argument, OPT_NO_START, CREATE, "    --no-start",
          "create it stopped" },
        { "quiet", no_argument, 'q', RUN, "-q, --quiet",
          "no notices from sandboxctl: timeout, limit hits,\n"
          "skipped best_effort limits (errors still print)" },
        { "json", no_argument, OPT_JSON, RUN, "    --json",
          "sandboxctl's own messages as JSON lines" },
        { "json", no_argument, OPT_JSON, CREATE, "    --json",
          "print {\"id\", \"name\", \"status\"} as JSON" },
        { "quiet", no_argument, 'q', CREATE, "-q, --quiet", "print nothing on success" },
        { "help", no_argument, 'h', BOTH, "-h, --help", "show this help" },
};

#define LABEL_WIDTH 24

void cli_run_options_help(enum cli_run_command command)
{
        for (size_t i = 0; i < SBX_ARRAY_SIZE(run_options); i++) {
                const struct run_option *ro = &run_options[i];
                const char *line = ro->help;

                if (!(ro->commands & command))
                        continue;
                printf("  %-*s %.*s\n", LABEL_WIDTH, ro->label, (int)strcspn(line, "\n"), line);
                while ((line = strchr(line, '\n'))) {
                        line++;
                        printf("  %-*s %.*s\n", LABEL_WIDTH, "", (int)strcspn(line, "\n"), line);
                }
        }
}

static void take_option(int c, const char *arg, struct cli_run_options *o)
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
        case OPT_CGROUP_PARENT: o->cgroup_parent = arg; break;
        case OPT_REPORT: o->report = arg; break;
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

/* The getopt table of one command (ends with a zero row). */
static void fill_longopts(enum cli_run_command command, struct option *ret)
{
        size_t n = 0;

        for (size_t i = 0; i < SBX_ARRAY_SIZE(run_options); i++)
                if (run_options[i].commands & command)
                        ret[n++] = (struct option){ run_options[i].name, run_options[i].has_arg,
                                                    NULL, run_options[i].val };
        ret[n] = (struct option){ 0 };
}

static const char *command_name(enum cli_run_command command)
{
        return command == CLI_RUN_CMD_RUN ? "run" : "create";
}

static int check_command(int argc, char **argv, int dash, const char *where, char ***ret_cmd)
{
        if (dash >= argc)
                return cli_usage_error(where, "missing '--' before the command");
        if (optind < dash)
                return cli_usage_error(where,
                                       "unexpected argument '%s': put the command after '--'",
                                       argv[optind]);
        if (dash + 1 >= argc)
                return cli_usage_error(where, "missing command after '--'");
        *ret_cmd = argv + dash + 1;
        return CLI_EXIT_OK;
}

int cli_run_options_parse(enum cli_run_command command, int argc, char **argv,
                          void (*usage)(void), struct cli_run_options *o, char ***ret_cmd)
{
        struct option longopts[SBX_ARRAY_SIZE(run_options) + 1];
        const char *where = command_name(command);
        int dash = 1, c;

        o->command = command;
        while (dash < argc && strcmp(argv[dash], "--") != 0)
                dash++;
        o->env = calloc((size_t)argc, sizeof(*o->env));
        o->watch = calloc((size_t)argc, sizeof(*o->watch));
        if (!o->env || !o->watch)
                return cli_usage_error(where, "out of memory");
        fill_longopts(command, longopts);
        optind = 0;
        while ((c = cli_getopt(dash, argv, "+p:w:e:qh", longopts, where)) != -1) {
                if (c == '?')
                        return CLI_EXIT_USAGE;
                if (c == 'h') {
                        usage();
                        return -1;
                }
                take_option(c, optarg, o);
        }
        return check_command(argc, argv, dash, where, ret_cmd);
}

void cli_run_options_clear(struct cli_run_options *o)
{
        free(o->env);
        free(o->watch);
        o->env = NULL;
        o->watch = NULL;
}

/* ---- applying them ---- */

static bool is_no_limit(const char *s)
{
        return strcmp(s, "none") == 0 || strcmp(s, "unlimited") == 0;
}

int cli_parse_timeout(const char *s, uint64_t *ret_ms, sbx_error **err)
{
        if (is_no_limit(s)) {
                *ret_ms = 0;
                return 0;
        }
        return sbx_parse_duration(s, ret_ms, err);
}

static int parse_pids(const char *s, uint64_t *ret, sbx_error **err)
{
        if (is_no_limit(s)) {
                *ret = 0;
                return 0;
        }
        return sbx_parse_count(s, 1, UINT32_MAX, ret, err);
}

static int parse_memory(const char *s, uint64_t *ret, sbx_error **err)
{
        if (is_no_limit(s)) {
                *ret = 0;
                return 0;
        }
        return sbx_parse_size(s, ret, err);
}

static int parse_cpu(const char *s, uint32_t *ret, sbx_error **err)
{
        if (is_no_limit(s)) {
                *ret = 0;
                return 0;
        }
        return sbx_parse_cpu(s, ret, err);
}

static int apply_limits(const struct cli_run_options *o, struct sbx_spec *spec, sbx_error **err)
{
        struct sbx_limits *l = &spec->limits;
        int r = 0;

        if (o->memory && (r = parse_memory(o->memory, &l->memory, err)) < 0)
                return sbx_error_prefix(err, r, "--memory");
        if (o->pids && (r = parse_pids(o->pids, &l->pids, err)) < 0)
                return sbx_error_prefix(err, r, "--pids");
        if (o->cpu && (r = parse_cpu(o->cpu, &l->cpu, err)) < 0)
                return sbx_error_prefix(err, r, "--cpu");
        if (o->timeout && (r = cli_parse_timeout(o->timeout, &l->timeout_ms, err)) < 0)
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

/* create checks the rootfs now (the sandbox starts later, in the
 * background); run's set-up reports a missing one (exit 125). */
static int apply_rootfs(const struct cli_run_options *o, struct sbx_spec *spec, sbx_error **err)
{
        char *abs = NULL;
        int r;

        if (o->command == CLI_RUN_CMD_CREATE) {
                abs = realpath(o->rootfs, NULL);
                r = abs ? 0 : sbx_error_errno(err, errno, "--rootfs %s", o->rootfs);
        } else {
                r = absolute_path(o->rootfs, &abs, err);
        }
        if (r < 0)
                return r;
        free(spec->filesystem.rootfs);
        spec->filesystem.rootfs = abs;
        return 0;
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

int cli_run_options_apply(const struct cli_run_options *o, struct sbx_spec *spec,
                          sbx_error **err)
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
                r = apply_rootfs(o, spec, err);
        return r;
}

int cli_run_options_workspace(const char *dir, char **ret, sbx_error **err)
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
