/* cli_run: `sandboxctl run`, one throwaway sandbox. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_run_options.h"
#include "cli_watch.h"
#include "sandboxctl/profile.h"
#include "sandboxctl/report.h"
#include "sandboxctl/runtime.h"
#include "sandboxctl/units.h"
#include "sandboxctl/util.h"

static void run_usage(void)
{
        printf("Usage: sandboxctl run [OPTIONS] -- COMMAND [ARG...]\n"
               "\n"
               "Run COMMAND in a new throwaway sandbox and exit with its exit code.\n"
               "\n"
               "Options (they override the profile):\n");
        cli_run_options_help(CLI_RUN_CMD_RUN);
        printf("\n"
               "Exit status: the command's; 128+N if it died of signal N; 124 timeout;\n"
               "125 sandbox set-up failed (also: a limit the host cannot enforce); 126 command\n"
               "not executable; 127 not found; 2 usage error.\n"
               "\n"
               "Examples:\n"
               "  sandboxctl run -- /bin/true\n"
               "  sandboxctl run --profile ci --workspace . -- make test\n"
               "  sandboxctl run --timeout 2s --report - -- sleep 10\n"
               "  sandboxctl run --profile dev --watch src --timeout none -- ./server\n");
}

static void print_outcome(const struct cli_run_options *o, const struct sbx_spec *spec,
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

static int run_sandbox_and_report(const struct cli_run_options *o, const struct sbx_run_config *cfg)
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

static int run_watching(const struct cli_run_options *o, struct sbx_spec *spec, char **cmd,
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

static int run_with_options(const struct cli_run_options *o, char **cmd)
{
        __attribute__((cleanup(sbx_spec_freep))) struct sbx_spec *spec = NULL;
        sbx_autofree char *workspace = NULL;
        sbx_autoerror e = NULL;
        const char *profile = o->profile ? o->profile : SBX_PROFILE_DEFAULT;

        if (sbx_profile_load(profile, &spec, &e) < 0) {
                sbx_log_error("sandbox setup failed: profile: %s", e ? e->message : "unknown error");
                return SBX_EXIT_SETUP;
        }
        if (cli_run_options_apply(o, spec, &e) < 0 || sbx_spec_validate(spec, &e) < 0)
                return cli_usage_error("run", "%s", e ? e->message : "invalid option");
        if (o->workspace && cli_run_options_workspace(o->workspace, &workspace, &e) < 0) {
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
        struct cli_run_options o = { 0 };
        char **cmd = NULL;
        int r = cli_run_options_parse(CLI_RUN_CMD_RUN, argc, argv, run_usage, &o, &cmd);

        if (r == CLI_EXIT_OK) {
                if (o.json)
                        sbx_log_set_format(SBX_LOG_FORMAT_JSON);
                r = run_with_options(&o, cmd);
        } else if (r < 0) {
                r = CLI_EXIT_OK; /* --help */
        }
        cli_run_options_clear(&o);
        return r;
}
