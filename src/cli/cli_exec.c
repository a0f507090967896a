/* cli_exec: `sandboxctl exec`, a command inside a running sandbox. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli_sandbox.h"
#include "sandboxctl/events.h"
#include "sandboxctl/join.h"
#include "sandboxctl/profile.h"
#include "sandboxctl/runtime.h"
#include "sandboxctl/util.h"

static void exec_usage(void)
{
        printf("Usage: sandboxctl exec [-t] [-e KEY=VALUE]... [--state-dir DIR] ID -- COMMAND [ARG...]\n"
               "\n"
               "Run COMMAND inside a running sandbox: in all its namespaces and its cgroup, on\n"
               "its root file system, in its workspace (or /), with the same capabilities,\n"
               "seccomp filter, no_new_privs and rlimits as its command, never more.\n"
               "\n"
               "Options:\n"
               "  -t, --tty            give COMMAND a terminal (a pty of the sandbox's devpts)\n"
               "  -e, --env KEY=VALUE  set an environment variable (repeatable)\n"
               "      --state-dir DIR  state directory\n"
               "  -h, --help           show this help\n"
               "\n"
               "Exit status: the command's; 128+N if it died of signal N; 126 not\n"
               "executable; 127 not found; 125 the sandbox could not be joined; 2 usage;\n"
               "3 no such sandbox; 4 ambiguous id prefix; 6 the sandbox is not running.\n");
}

static const struct option exec_longopts[] = {
        { "tty", no_argument, NULL, 't' },
        { "env", required_argument, NULL, 'e' },
        { "state-dir", required_argument, NULL, 's' },
        { "help", no_argument, NULL, 'h' },
        { 0 },
};

struct exec_opts {
        const char *state_dir, *ref;
        const char **env;
        size_t n_env;
        bool tty;
        char **cmd;
};

static int parse_exec(int argc, char **argv, struct exec_opts *o)
{
        int dash = 1, c;

        while (dash < argc && strcmp(argv[dash], "--") != 0)
                dash++;
        o->env = calloc((size_t)argc, sizeof(*o->env));
        if (!o->env)
                return CLI_EXIT_FAILURE;
        optind = 0;
        while ((c = cli_getopt(dash, argv, "te:h", exec_longopts, "exec")) != -1) {
                switch (c) {
                case 't': o->tty = true; break;
                case 'e': o->env[o->n_env++] = optarg; break;
                case 's': o->state_dir = optarg; break;
                case 'h': exec_usage(); return -1;
                default: return CLI_EXIT_USAGE;
                }
        }
        if (optind >= dash)
                return cli_usage_error("exec", "exec: missing sandbox id or name");
        if (optind + 1 < dash)
                return cli_usage_error("exec", "exec: unexpected argument '%s': put the command after '--'",
                                       argv[optind + 1]);
        if (dash + 1 >= argc)
                return cli_usage_error("exec", "exec: missing command after '--'");
        o->ref = argv[optind];
        o->cmd = argv + dash + 1;
        return CLI_EXIT_OK;
}

static int load_spec(const struct sbx_sandbox *sb, struct sbx_spec **ret, sbx_error **err)
{
        if (!sb->long_lived || !sb->spec_json)
                return sbx_error_set(err, EOPNOTSUPP, "sandbox %s has no stored spec", sb->id);
        /* The stored spec is whole: its limits are the sandbox's. */
        return sbx_profile_load_string(sb->spec_json, strlen(sb->spec_json), "state.json", ret,
                                       err);
}

static void audit(const char *state_dir, const struct sbx_sandbox *sb, const struct sbx_spec *spec,
                  char **cmd)
{
        if (spec->audit != SBX_AUDIT_FULL)
                return;
        json_t *argv = json_array();
        for (size_t i = 0; cmd[i]; i++)
                json_array_append_new(argv, json_string(cmd[i]));
        __attribute__((cleanup(json_decrefp))) json_t *f =
                json_pack("{s:I, s:o}", "uid", (json_int_t)getuid(), "argv", argv);
        sbx_event_append(state_dir, sb->id, "exec", f, NULL);
}

static int exec_in(const struct exec_opts *o)
{
        __attribute__((cleanup(sbx_sandbox_freep))) struct sbx_sandbox *sb = NULL;
        __attribute__((cleanup(sbx_spec_freep))) struct sbx_spec *spec = NULL;
        struct sbx_strv env = { 0 };
        sbx_autoerror e = NULL;
        const char *state_dir = cli_state_dir(o->state_dir);
        int r = cli_lookup(state_dir, o->ref, &sb), code = SBX_EXIT_SETUP;

        if (r != CLI_EXIT_OK)
                return r;
        /* Before anything else: a stopped sandbox has nothing to join. */
        if (sb->status != SBX_STATUS_RUNNING || sb->init_pid <= 0) {
                sbx_log_error("exec: sandbox %s is not running (%s%s%s)", sb->id,
                              sbx_status_to_string(sb->status), sb->reason ? ": " : "",
                              sb->reason ? sb->reason : "");
                return CLI_EXIT_NOT_RUNNING;
        }
        if (load_spec(sb, &spec, &e) < 0)
                return cli_fail(e, "exec");
        const char *cwd = sb->workspace ? spec->filesystem.workspace_path : "/";
        r = sbx_run_environment(spec, cwd, getenv("TERM"), &env, &e);
        for (size_t i = 0; r >= 0 && i < o->n_env; i++)
                r = sbx_env_set(&env, o->env[i], &e);
        if (r < 0) {
                sbx_strv_clear(&env);
                return cli_usage_error("exec", "exec: %s", e->message);
        }
        audit(state_dir, sb, spec, o->cmd);
        struct sbx_join_config cfg = { .sb = sb, .spec = spec, .argv = o->cmd, .envp = env.items,
                                       .cwd = cwd, .tty = o->tty };
        fflush(stdout);
        r = sbx_join_exec(&cfg, &code, &e);
        sbx_strv_clear(&env);
        if (r == -ESRCH)
                return cli_fail(e, "exec");
        if (r < 0) {
                sbx_log_error("exec: %s", e ? e->message : "failed");
                return code;
        }
        return code;
}

int cli_exec(int argc, char **argv)
{
        struct exec_opts o = { 0 };
        int r = parse_exec(argc, argv, &o);

        if (r == CLI_EXIT_OK)
                r = exec_in(&o);
        else if (r < 0)
                r = CLI_EXIT_OK;
        free(o.env);
        return r;
}
