/* main: sandboxctl's global options and the command dispatch table. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_checkpoint.h"
#include "cli_watch.h"
#include "config.h"
#include "src/supervisor/supervisor.h"

/* One row per command: name, function, one-line summary (shown by --help in
 * this order). */
const struct cli_command cli_commands[] = {
        { "run", cli_run, "Run a command in a new throwaway sandbox" },
        { "gc", cli_gc, "Remove what dead sandboxes left behind" },
        { "create", cli_create, "Create a long-lived sandbox under its own supervisor" },
        { "start", cli_start, "Start a stopped sandbox" },
        { "stop", cli_stop, "Stop a sandbox (stop signal, grace period, then kill)" },
        { "restart", cli_restart, "Stop and start a sandbox" },
        { "kill", cli_kill, "Send a signal to the processes of a sandbox" },
        { "destroy", cli_destroy, "Stop a sandbox and remove everything it has" },
        { "list", cli_list, "List sandboxes with status and usage" },
        { "info", cli_info, "Show everything known about a sandbox" },
        { "stats", cli_stats, "Show the live resource usage of a sandbox" },
        { "ps", cli_ps, "List the processes inside a sandbox" },
        { "exec", cli_exec, "Run a command inside a running sandbox" },
        { "logs", cli_logs, "Show the output of a sandbox's command" },
        { "events", cli_events, "Show or follow lifecycle, limit and audit events" },
        { "watch", cli_watch, "Show, start or stop a sandbox's watch, rebuild and reload" },
        { "checkpoint", cli_checkpoint, "Save a sandbox's processes and files as a snapshot" },
        { "restore", cli_restore, "Bring a stopped sandbox back to a snapshot" },
        { "rollback", cli_rollback, "Put a sandbox's workspace back to a snapshot" },
        { "snapshots", cli_snapshots, "List the snapshots of a sandbox" },
        { "snapshot", cli_snapshot, "Remove or prune the snapshots of a sandbox" },
        { "profile", cli_profile, "List, show and validate security profiles" },
        { "version", cli_version, "Show the versions of sandboxctl, its libraries and the kernel" },
        { "help", cli_help, "Show help for sandboxctl or one of its commands" },
        { NULL, NULL, NULL },
};

static enum sbx_log_format log_format = SBX_LOG_FORMAT_TEXT;

enum sbx_log_format cli_log_format(void)
{
        return log_format;
}

static void main_usage(void)
{
        printf("Usage: sandboxctl [OPTIONS] COMMAND [ARGS...]\n"
               "\n"
               "Run commands in Linux sandboxes (namespaces, cgroups, seccomp) configured\n"
               "by YAML security profiles.\n"
               "\n"
               "Commands:\n");
        cli_print_commands(cli_commands);
        printf("\n"
               "Options:\n"
               "  --log-level LEVEL    error, warn, info or debug (default: warn)\n"
               "  --log-format FORMAT  text or json: how messages on stderr are written\n"
               "                       (default: text)\n"
               "  -h, --help           Show this help and exit\n"
               "  -V, --version        Show the version and exit\n"
               "\n"
               "Exit status: 0 success, 1 the operation failed, 2 usage error.\n"
               "\n"
               "Examples:\n"
               "  sandboxctl profile list\n"
               "  sandboxctl profile show medium --json\n"
               "  sandboxctl profile validate profiles/*.yaml\n"
               "\n"
               "Run 'sandboxctl help COMMAND' or 'sandboxctl COMMAND --help' for more.\n");
}

int cli_help(int argc, char **argv)
{
        if (argc < 2) {
                main_usage();
                return CLI_EXIT_OK;
        }
        if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
                printf("Usage: sandboxctl help [COMMAND [SUBCOMMAND]]\n"
                       "\n"
                       "Show the help of sandboxctl, or of COMMAND (the same as\n"
                       "'sandboxctl COMMAND --help').\n"
                       "\n"
                       "Examples:\n"
                       "  sandboxctl help\n"
                       "  sandboxctl help profile validate\n");
                return CLI_EXIT_OK;
        }
        if (argc > 3)
                return cli_usage_error("help", "help: unexpected argument '%s'", argv[3]);
        /* "help profile show" is "profile show --help" */
        char *args[4] = { argv[1], argc > 2 ? argv[2] : (char *)"--help",
                          argc > 2 ? (char *)"--help" : NULL, NULL };
        return cli_run_command(NULL, cli_commands, argc, args);
}

static int set_log_level(const char *value)
{
        enum sbx_log_level level;
        if (sbx_log_level_from_string(value, &level) < 0)
                return cli_usage_error(
                        NULL, "invalid log level '%s' (expected error, warn, info or debug)",
                        value);
        sbx_log_set_level(level);
        return CLI_EXIT_OK;
}

static int set_log_format(const char *value)
{
        enum sbx_log_format format;
        if (sbx_log_format_from_string(value, &format) < 0)
                return cli_usage_error(NULL, "invalid log format '%s' (expected text or json)",
                                       value);
        log_format = format;
        sbx_log_set_format(format);
        return CLI_EXIT_OK;
}

enum {
        OPT_LOG_LEVEL = 0x100,
        OPT_LOG_FORMAT,
};

/* Parse the global options; returns -1 to go on, or an exit code. */
static int parse_global_options(int argc, char **argv)
{
        static const struct option opts[] = {
                { "log-level", required_argument, NULL, OPT_LOG_LEVEL },
                { "log-format", required_argument, NULL, OPT_LOG_FORMAT },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                { 0 },
        };
        int c, r;
        optind = 0;
        while ((c = cli_getopt(argc, argv, "+hV", opts, NULL)) != -1) {
                switch (c) {
                case OPT_LOG_LEVEL:
                        r = set_log_level(optarg);
                        if (r != CLI_EXIT_OK)
                                return r;
                        break;
                case OPT_LOG_FORMAT:
                        r = set_log_format(optarg);
                        if (r != CLI_EXIT_OK)
                                return r;
                        break;
                case 'h':
                        main_usage();
                        return CLI_EXIT_OK;
                case 'V':
                        printf("sandboxctl %s\n", SBX_VERSION);
                        return CLI_EXIT_OK;
                default:
                        return CLI_EXIT_USAGE;
                }
        }
        return -1;
}

int main(int argc, char **argv)
{
        /* A supervisor re-executing itself (src/supervisor/spawn.c). */
        if (argc > 1 && strcmp(argv[1], SBX_SUPERVISE_COMMAND) == 0)
                return sbx_supervisor_main(argc - 1, argv + 1);
        int r = parse_global_options(argc, argv);
        if (r >= 0)
                return r;
        if (optind >= argc)
                return cli_usage_error(NULL, "missing command");
        r = cli_run_command(NULL, cli_commands, argc - optind, argv + optind);
        if (fflush(stdout) == EOF && r == CLI_EXIT_OK) {
                sbx_log_error("write standard output: %s", strerror(errno));
                r = CLI_EXIT_FAILURE;
        }
        return r;
}
