/* cli_create: `sandboxctl create`, a long-lived sandbox under its own
 * supervisor. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli_sandbox.h"
#include "cli_run_options.h"
#include "cli_watch.h"
#include "sandboxctl/cgroup.h"
#include "sandboxctl/events.h"
#include "sandboxctl/profile.h"
#include "sandboxctl/runtime.h"
#include "sandboxctl/units.h"
#include "sandboxctl/util.h"
#include "src/lib/run-internal.h"
#include "src/supervisor/supervisor.h"

static void create_usage(void)
{
        printf("Usage: sandboxctl create [OPTIONS] -- COMMAND [ARG...]\n"
               "\n"
               "Create a long-lived sandbox running COMMAND under its own supervisor, and\n"
               "print its id. It keeps running after sandboxctl exits.\n"
               "\n"
               "Options (they override the profile):\n");
        cli_run_options_help(CLI_RUN_CMD_CREATE);
        printf("\n"
               "Exit status: 0 created; 1 failed; 2 usage error; 5 name already used.\n"
               "\n"
               "Examples:\n"
               "  sandboxctl create --name web -- python3 -m http.server\n"
               "  sandboxctl create --restart on-failure:3 --timeout none -- ./worker\n");
}

/* Options that are not spec overrides. */
static int check_other_options(const struct cli_run_options *o, struct sbx_sandbox *sb,
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

static int fill_identity(const struct cli_run_options *o, struct sbx_sandbox *sb, sbx_error **err)
{
        struct timespec now;
        char ts[64];
        const char *parent = o->cgroup_parent ? o->cgroup_parent : getenv(SBX_CGROUP_PARENT_ENV);
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

static int print_created(const struct cli_run_options *o, const char *state_dir,
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

static int create_sandbox(const struct cli_run_options *o, const struct sbx_spec *spec,
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

static int create_with_options(const struct cli_run_options *o, char **cmd)
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
        if (cli_run_options_apply(o, spec, &e) < 0 || sbx_spec_validate(spec, &e) < 0 ||
            check_other_options(o, sb, &e) < 0)
                return cli_usage_error("create", "%s", e ? e->message : "invalid option");
        spec->lifecycle.restart = sb->restart;
        if (o->workspace && cli_run_options_workspace(o->workspace, &sb->workspace, &e) < 0)
                return cli_fail(e, "workspace");
        if (cli_watch_apply(spec, &sb->workspace, o->watch, o->n_watch, &e) < 0)
                return cli_usage_error("create", "%s", e->message);
        return create_sandbox(o, spec, cmd, sb);
}

int cli_create(int argc, char **argv)
{
        struct cli_run_options o = { 0 };
        char **cmd = NULL;
        int r = cli_run_options_parse(CLI_RUN_CMD_CREATE, argc, argv, create_usage, &o, &cmd);

        if (r == CLI_EXIT_OK)
                r = create_with_options(&o, cmd);
        else if (r < 0)
                r = CLI_EXIT_OK; /* --help */
        cli_run_options_clear(&o);
        return r;
}
