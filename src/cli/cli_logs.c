/* cli_logs: `logs` (the command's output) and `events` (the event log),
 * both readable once and followable. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli_sandbox.h"
#include "sandboxctl/events.h"
#include "sandboxctl/util.h"

SBX_DEFINE_CLEANUP(struct sbx_follow *, sbx_follow_free)

#define FOLLOW_TICK_MS 500

enum { OPT_STATE_DIR = 256, OPT_JSON, OPT_COUNT, OPT_BUILD };

static const struct option logs_longopts[] = {
        { "follow", no_argument, NULL, 'f' },
        { "state-dir", required_argument, NULL, OPT_STATE_DIR },
        { "json", no_argument, NULL, OPT_JSON },
        { "count", required_argument, NULL, OPT_COUNT },
        { "build", no_argument, NULL, OPT_BUILD },
        { "help", no_argument, NULL, 'h' },
        { 0 },
};

struct logs_opts {
        const char *state_dir, *ref;
        bool follow, json;
        bool build; /* logs --build: the rebuilds' output (src/supervisor/rebuild.c) */
        long count;
};

static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
        (void)sig;
        interrupted = 1;
}

static void catch_interrupts(void)
{
        struct sigaction sa = { .sa_handler = on_interrupt };

        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        signal(SIGPIPE, SIG_IGN);
}

static int parse_logs(int argc, char **argv, const char *name, bool id_required,
                      void (*usage)(void), struct logs_opts *o)
{
        int c;

        optind = 0;
        while ((c = cli_getopt(argc, argv, "fh", logs_longopts, name)) != -1) {
                switch (c) {
                case 'f': o->follow = true; break;
                case OPT_STATE_DIR: o->state_dir = optarg; break;
                case OPT_JSON: o->json = true; break;
                case OPT_COUNT: o->count = strtol(optarg, NULL, 10); break;
                case OPT_BUILD: o->build = true; break;
                case 'h': usage(); return -1;
                default: return CLI_EXIT_USAGE;
                }
        }
        if (optind < argc)
                o->ref = argv[optind++];
        if (id_required && !o->ref)
                return cli_usage_error(name, "%s: missing sandbox id or name", name);
        if (optind < argc)
                return cli_usage_error(name, "%s: unexpected argument '%s'", name, argv[optind]);
        return CLI_EXIT_OK;
}

static void logs_usage(void)
{
        printf("Usage: sandboxctl logs [-f] [--build] [--state-dir DIR] ID\n"
               "\n"
               "Print what the sandbox's command wrote on stdout and stderr, kept in a\n"
               "size-capped file (see create --log-max) with one rotated generation.\n"
               "\n"
               "Options:\n"
               "  -f, --follow         keep printing new output until the sandbox stops\n"
               "      --build          the output of the watch's rebuilds (build.log)\n"
               "      --state-dir DIR  state directory\n"
               "  -h, --help           show this help\n");
}

/* Following ends when the sandbox is gone or has stopped for good. */
static bool still_going(const char *state_dir, const char *id)
{
        __attribute__((cleanup(sbx_sandbox_freep))) struct sbx_sandbox *sb = NULL;

        if (sbx_registry_read(state_dir, id, &sb, NULL) < 0 || sb->supervisor_dead)
                return false;
        if (sb->status == SBX_STATUS_STOPPED)
                return sb->reason && strstr(sb->reason, "restarting");
        return sb->status != SBX_STATUS_ERROR;
}

static int copy_out(struct sbx_follow *f)
{
        char buf[65536];
        sbx_autoerror e = NULL;
        ssize_t n;

        while ((n = sbx_follow_read(f, buf, sizeof(buf), &e)) > 0)
                if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
                        return -EPIPE;
        fflush(stdout);
        return n < 0 ? (int)n : 0;
}

int cli_logs(int argc, char **argv)
{
        struct logs_opts o = { 0 };
        __attribute__((cleanup(sbx_sandbox_freep))) struct sbx_sandbox *sb = NULL;
        __attribute__((cleanup(sbx_follow_freep))) struct sbx_follow *f = NULL;
        sbx_autoerror e = NULL;
        int r = parse_logs(argc, argv, "logs", true, logs_usage, &o);

        if (r != CLI_EXIT_OK)
                return r < 0 ? CLI_EXIT_OK : r;
        const char *state_dir = cli_state_dir(o.state_dir);
        if ((r = cli_lookup(state_dir, o.ref, &sb)) != CLI_EXIT_OK)
                return r;
        sbx_autofree char *path = sbx_registry_path(state_dir, sb->id,
                                                    o.build ? "build.log" : "logs");
        if (!path || sbx_follow_open(path, true, &f, &e) < 0)
                return cli_fail(e, "logs");
        catch_interrupts();
        for (;;) {
                if (copy_out(f) < 0)
                        return CLI_EXIT_FAILURE;
                if (!o.follow || interrupted)
                        return CLI_EXIT_OK;
                bool going = still_going(state_dir, sb->id);
                r = sbx_follow_wait(f, FOLLOW_TICK_MS, &e);
                if (r < 0)
                        return cli_fail(e, "logs");
                if (!going && r == 0)
                        return copy_out(f) < 0 ? CLI_EXIT_FAILURE : CLI_EXIT_OK;
        }
}

static void events_usage(void)
{
        printf("Usage: sandboxctl events [-f] [--json] [--count N] [--state-dir DIR] [ID]\n"
               "\n"
               "Print the lifecycle, limit and audit events of all sandboxes, or of one\n"
               "(destroyed ones too, by full id), oldest first.\n"
               "\n"
               "Options:\n"
               "  -f, --follow         keep printing new events (Ctrl-C ends)\n"
               "      --json           one JSON object per line, as stored\n"
               "      --count N        stop after N events\n"
               "      --state-dir DIR  state directory\n"
               "  -h, --help           show this help\n"
               "\n"
               "Event types: created, started, exited, restarted, limit_hit, oom_kill,\n"
               "timeout, exec, control, stopped, destroyed, error.\n");
}

static void print_event_text(json_t *ev)
{
        const char *key;
        json_t *v;

        printf("%s  %s  %-9s", json_string_value(json_object_get(ev, "time")) ?: "-",
               json_string_value(json_object_get(ev, "id")) ?: "-",
               json_string_value(json_object_get(ev, "type")) ?: "-");
        json_object_foreach(ev, key, v) {
                if (!strcmp(key, "time") || !strcmp(key, "id") || !strcmp(key, "type"))
                        continue;
                sbx_autofree char *text = json_is_string(v) ? strdup(json_string_value(v))
                                                            : json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
                printf("  %s=%s", key, text ? text : "?");
        }
        printf("\n");
}

struct event_filter {
        const char *id; /* NULL: all */
        bool json;
        long left;      /* events still to print, <= 0: no limit */
        bool limited;
};

/* Print one event line if it passes the filter. */
static void print_lines(struct event_filter *flt, char *line)
{
        __attribute__((cleanup(json_decrefp))) json_t *ev = json_loads(line, 0, NULL);

        const char *id = json_string_value(json_object_get(ev, "id"));

        if (!ev || (flt->id && (!id || strcmp(id, flt->id) != 0)))
                return;
        if (flt->limited && flt->left <= 0)
                return;
        if (flt->json)
                printf("%s\n", line);
        else
                print_event_text(ev);
        flt->left--;
}

static int pump_events(struct sbx_follow *f, struct event_filter *flt, char **carry, size_t *len)
{
        char buf[65536];
        sbx_autoerror e = NULL;
        ssize_t n;

        while ((n = sbx_follow_read(f, buf, sizeof(buf), &e)) > 0) {
                char *nb = realloc(*carry, *len + (size_t)n + 1);
                if (!nb)
                        return -ENOMEM;
                memcpy(nb + *len, buf, (size_t)n);
                *len += (size_t)n;
                nb[*len] = '\0';
                *carry = nb;
                char *start = nb, *nl;
                while ((nl = strchr(start, '\n'))) {
                        *nl = '\0';
                        print_lines(flt, start);
                        start = nl + 1;
                }
                *len -= (size_t)(start - nb);
                memmove(nb, start, *len + 1);
        }
        fflush(stdout);
        return n < 0 ? (int)n : 0;
}

static int resolve_filter(const char *state_dir, const char *ref, char id[SBX_ID_LEN + 1])
{
        sbx_autoerror e = NULL;

        if (sbx_sandbox_id_valid(ref)) {
                memcpy(id, ref, SBX_ID_LEN + 1);
                return CLI_EXIT_OK;
        }
        if (sbx_registry_resolve(state_dir, ref, id, &e) < 0)
                return cli_fail(e, NULL);
        return CLI_EXIT_OK;
}

int cli_events(int argc, char **argv)
{
        struct logs_opts o = { 0 };
        __attribute__((cleanup(sbx_follow_freep))) struct sbx_follow *f = NULL;
        sbx_autoerror e = NULL;
        sbx_autofree char *carry = NULL;
        char id[SBX_ID_LEN + 1];
        size_t len = 0;
        int r = parse_logs(argc, argv, "events", false, events_usage, &o);

        if (r != CLI_EXIT_OK)
                return r < 0 ? CLI_EXIT_OK : r;
        const char *state_dir = cli_state_dir(o.state_dir);
        if (o.ref && (r = resolve_filter(state_dir, o.ref, id)) != CLI_EXIT_OK)
                return r;
        struct event_filter flt = { .id = o.ref ? id : NULL, .json = o.json, .left = o.count,
                                    .limited = o.count > 0 };
        sbx_autofree char *path = sbx_registry_path(state_dir, NULL, SBX_EVENTS_FILE);
        if (!path || sbx_follow_open(path, true, &f, &e) < 0)
                return cli_fail(e, "events");
        catch_interrupts();
        for (;;) {
                if (pump_events(f, &flt, &carry, &len) < 0)
                        return CLI_EXIT_FAILURE;
                if (!o.follow || interrupted || (flt.limited && flt.left <= 0))
                        return CLI_EXIT_OK;
                if (sbx_follow_wait(f, FOLLOW_TICK_MS, &e) < 0)
                        return cli_fail(e, "events");
        }
}
