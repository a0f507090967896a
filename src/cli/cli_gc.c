/* cli_gc: `sandboxctl gc`, remove what dead sandboxes left behind. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "sandboxctl/gc.h"
#include "sandboxctl/runtime.h"

static void gc_usage(void)
{
        printf("Usage: sandboxctl gc [--dry-run] [--force] [--json] [--state-dir DIR]\n"
               "\n"
               "Remove what sandboxes whose supervisor is gone (after a crash or a SIGKILL)\n"
               "left: their cgroup, their state dir and control socket; each removal is a\n"
               "'destroyed' event. Running sandboxes are never touched.\n"
               "\n"
               "Options:\n"
               "  -n, --dry-run        only say what would be removed\n"
               "  -f, --force          also remove, at once, state dirs whose state.json is\n"
               "                       broken (else kept for a minute: being created?),\n"
               "                       unless a supervisor still answers on its socket\n"
               "      --json           print the result as JSON\n"
               "      --state-dir DIR  state directory (default $SANDBOXCTL_STATE_DIR or\n"
               "                       /run/sandboxctl)\n"
               "  -h, --help           show this help\n");
}

static json_t *gc_entry_json(const struct sbx_gc_entry *e)
{
        return json_pack("{s:s, s:b, s:b, s:s?, s:s?}", "id", e->id, "dead", e->dead, "removed",
                         e->removed, "reason", e->reason, "error", e->error);
}

static int gc_print_json(const struct sbx_gc_entry *v, size_t n, bool dry_run)
{
        json_t *a = json_array();

        for (size_t i = 0; a && i < n; i++)
                json_array_append_new(a, gc_entry_json(&v[i]));
        return cli_print_json(json_pack("{s:b, s:o}", "dry_run", dry_run, "sandboxes", a));
}

static int gc_print_text(const struct sbx_gc_entry *v, size_t n, bool dry_run)
{
        int code = CLI_EXIT_OK;

        for (size_t i = 0; i < n; i++) {
                const struct sbx_gc_entry *e = &v[i];
                if (e->error) {
                        sbx_log_error("remove %s: %s", e->id, e->error);
                        code = CLI_EXIT_FAILURE;
                } else if (e->removed) {
                        printf("removed %s (%s)\n", e->id, e->reason ? e->reason : "dead");
                } else if (e->dead && dry_run) {
                        printf("would remove %s (%s)\n", e->id, e->reason ? e->reason : "dead");
                }
        }
        return code;
}

enum { OPT_JSON = 256, OPT_STATE_DIR };

static const struct option gc_longopts[] = {
        { "dry-run", no_argument, NULL, 'n' },
        { "force", no_argument, NULL, 'f' },
        { "json", no_argument, NULL, OPT_JSON },
        { "state-dir", required_argument, NULL, OPT_STATE_DIR },
        { "help", no_argument, NULL, 'h' },
        { 0 },
};

int cli_gc(int argc, char **argv)
{
        bool dry_run = false, json = false;
        unsigned flags = 0;
        const char *state_dir = NULL;
        int c;

        optind = 0;
        while ((c = cli_getopt(argc, argv, "+nfh", gc_longopts, "gc")) != -1) {
                if (c == '?')
                        return CLI_EXIT_USAGE;
                if (c == 'h') {
                        gc_usage();
                        return CLI_EXIT_OK;
                }
                if (c == 'n')
                        dry_run = true;
                else if (c == 'f')
                        flags |= SBX_GC_FORCE;
                else if (c == OPT_JSON)
                        json = true;
                else if (c == OPT_STATE_DIR)
                        state_dir = optarg;
        }
        if (optind < argc)
                return cli_usage_error("gc", "unexpected argument '%s'", argv[optind]);

        struct sbx_gc_entry *v = NULL;
        size_t n = 0;
        sbx_autoerror e = NULL;
        if (dry_run)
                flags |= SBX_GC_DRY_RUN;
        if (sbx_gc_flags(state_dir, flags, &v, &n, &e) < 0) {
                sbx_log_error("gc: %s", e ? e->message : "unknown error");
                return CLI_EXIT_FAILURE;
        }
        int code = json ? gc_print_json(v, n, dry_run) : gc_print_text(v, n, dry_run);
        for (size_t i = 0; json && i < n; i++)
                if (v[i].error)
                        code = CLI_EXIT_FAILURE;
        sbx_gc_entries_free(v, n);
        return code;
}
