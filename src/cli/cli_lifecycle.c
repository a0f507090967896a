/* cli_lifecycle: start, stop, restart, kill and destroy a long-lived sandbox
 * through its supervisor's control socket. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "cli_checkpoint.h"
#include "cli_sandbox.h"
#include "sandboxctl/cgroup.h"
#include "sandboxctl/events.h"
#include "sandboxctl/snapshot.h"
#include "sandboxctl/units.h"
#include "sandboxctl/util.h"

/* How long to wait for the supervisor beyond the stop grace period. */
#define EXTRA_WAIT_MS 15000

struct id_command {
        const char *name;
        const char *usage;    /* after "sandboxctl NAME " */
        const char *summary;
        const char *options;  /* extra help lines */
        const char *state_dir;
        const char *data_dir; /* --data-dir (destroy) */
        const char *ref;
        const char *time;     /* --time */
        const char *signal;   /* --signal */
        bool keep_data, json;
};

enum { OPT_STATE_DIR = 256, OPT_TIME, OPT_SIGNAL, OPT_KEEP_DATA, OPT_DATA_DIR, OPT_JSON };

static const struct option id_longopts[] = {
        { "state-dir", required_argument, NULL, OPT_STATE_DIR },
        { "time", required_argument, NULL, OPT_TIME },
        { "signal", required_argument, NULL, OPT_SIGNAL },
        { "keep-data", no_argument, NULL, OPT_KEEP_DATA },
        { "data-dir", required_argument, NULL, OPT_DATA_DIR },
        { "json", no_argument, NULL, OPT_JSON },
        { "help", no_argument, NULL, 'h' },
        { 0 },
};

static void id_usage(const struct id_command *c)
{
        printf("Usage: sandboxctl %s %s\n\n%s\n\nOptions:\n%s"
               "      --state-dir DIR  state directory (default $SANDBOXCTL_STATE_DIR or\n"
               "                       /run/sandboxctl)\n"
               "      --json           print the sandbox's state as JSON\n"
               "  -h, --help           show this help\n"
               "\n"
               "ID is a sandbox id, a unique prefix of one, or a name.\n"
               "Exit status: 0 done; 1 failed; 2 usage error; 3 no such sandbox;\n"
               "4 ambiguous id prefix; 5 conflict (already running); 6 not running.\n",
               c->name, c->usage, c->summary, c->options);
}

/* Options allowed per command: "tskj" = time, signal, keep-data, json. */
static bool option_allowed(const char *allowed, int c)
{
        return (c == OPT_TIME && strchr(allowed, 't')) || (c == OPT_SIGNAL && strchr(allowed, 's')) ||
               ((c == OPT_KEEP_DATA || c == OPT_DATA_DIR) && strchr(allowed, 'k')) ||
               c == OPT_JSON ||
               c == OPT_STATE_DIR;
}

static int parse_id_command(int argc, char **argv, const char *allowed, struct id_command *c)
{
        int o;

        optind = 0;
        while ((o = cli_getopt(argc, argv, "h", id_longopts, c->name)) != -1) {
                if (o == '?')
                        return CLI_EXIT_USAGE;
                if (o == 'h') {
                        id_usage(c);
                        return -1;
                }
                if (!option_allowed(allowed, o))
                        return cli_usage_error(c->name, "%s: unknown option '%s'", c->name,
                                               argv[optind - 1]);
                switch (o) {
                case OPT_STATE_DIR: c->state_dir = optarg; break;
                case OPT_TIME: c->time = optarg; break;
                case OPT_SIGNAL: c->signal = optarg; break;
                case OPT_KEEP_DATA: c->keep_data = true; break;
                case OPT_DATA_DIR: c->data_dir = optarg; break;
                case OPT_JSON: c->json = true; break;
                default: break;
                }
        }
        if (optind >= argc)
                return cli_usage_error(c->name, "%s: missing sandbox id or name", c->name);
        if (optind + 1 < argc)
                return cli_usage_error(c->name, "%s: unexpected argument '%s'", c->name,
                                       argv[optind + 1]);
        c->ref = argv[optind];
        return CLI_EXIT_OK;
}

static int parse_signal(const char *s, int *ret)
{
        char *end;
        long n = strtol(s, &end, 10);

        if (*s && !*end && n > 0 && n < NSIG) {
                *ret = (int)n;
                return 0;
        }
        if (strncasecmp(s, "SIG", 3) == 0)
                s += 3;
        for (int sig = 1; sig < NSIG; sig++) {
                const char *abbrev = sigabbrev_np(sig);
                if (abbrev && strcasecmp(abbrev, s) == 0) {
                        *ret = sig;
                        return 0;
                }
        }
        return -EINVAL;
}

static int print_reply(const struct id_command *c, const struct sbx_sandbox *sb, json_t *reply)
{
        if (c->json) {
                json_t *st = json_object_get(reply, "state");
                return cli_print_json(st ? json_incref(st) : json_pack("{s:s}", "id", sb->id));
        }
        printf("%s\n", sb->id);
        return CLI_EXIT_OK;
}

/* The grace period the supervisor uses without --time: the stored spec's
 * lifecycle.stop_timeout (default 10 s). */
static uint64_t stored_stop_timeout(const struct sbx_sandbox *sb)
{
        __attribute__((cleanup(json_decrefp))) json_t *spec =
                sb->spec_json ? json_loads(sb->spec_json, 0, NULL) : NULL;
        const char *t = json_string_value(
                json_object_get(json_object_get(spec, "lifecycle"), "stop_timeout"));
        uint64_t ms = 10000;

        if (t && sbx_parse_duration(t, &ms, NULL) < 0)
                ms = 10000;
        return ms;
}

/* timeout_ms < 0: the sandbox's own stop timeout + EXTRA_WAIT_MS. */
static int request(const struct id_command *c, json_t *req, int timeout_ms)
{
        __attribute__((cleanup(sbx_sandbox_freep))) struct sbx_sandbox *sb = NULL;
        __attribute__((cleanup(json_decrefp))) json_t *reply = NULL;
        const char *state_dir = cli_state_dir(c->state_dir);
        sbx_autoerror e = NULL;

        int r = cli_lookup(state_dir, c->ref, &sb);
        if (r != CLI_EXIT_OK) {
                json_decref(req);
                return r;
        }
        if (timeout_ms < 0)
                timeout_ms = (int)stored_stop_timeout(sb) + EXTRA_WAIT_MS;
        r = cli_control(state_dir, sb, req, timeout_ms, (void **)&reply, &e);
        json_decref(req);
        if (r < 0)
                return cli_fail(e, c->name);
        return print_reply(c, sb, reply);
}

static int grace_ms(const struct id_command *c, uint64_t *ret)
{
        sbx_autoerror e = NULL;

        *ret = 10000;
        if (!c->time)
                return CLI_EXIT_OK;
        /* A plain number is seconds, as in `docker stop --time`. */
        char *end;
        unsigned long long n = strtoull(c->time, &end, 10);
        if (*c->time && !*end && n <= 86400) {
                *ret = n * 1000;
                return CLI_EXIT_OK;
        }
        if (sbx_parse_duration(c->time, ret, &e) < 0)
                return cli_usage_error(c->name, "--time: %s", e->message);
        return CLI_EXIT_OK;
}

int cli_start(int argc, char **argv)
{
        struct id_command c = { .name = "start", .usage = "[OPTIONS] ID",
                                .summary = "Start a stopped sandbox's command again.", .options = "" };
        int r = parse_id_command(argc, argv, "j", &c);

        if (r != CLI_EXIT_OK)
                return r < 0 ? CLI_EXIT_OK : r;
        return request(&c, json_pack("{s:s}", "op", "start"), 30000);
}

/* time_ms only with --time: else the supervisor uses lifecycle.stop_timeout. */
static json_t *stop_request(const struct id_command *c, const char *op, uint64_t grace)
{
        json_t *req = json_pack("{s:s}", "op", op);

        if (req && c->time)
                json_object_set_new(req, "time_ms", json_integer((json_int_t)grace));
        return req;
}

static int stop_like(int argc, char **argv, struct id_command *c, const char *op)
{
        uint64_t grace;
        int r = parse_id_command(argc, argv, "tj", c);

        if (r != CLI_EXIT_OK)
                return r < 0 ? CLI_EXIT_OK : r;
        r = grace_ms(c, &grace);
        if (r != CLI_EXIT_OK)
                return r;
        return request(c, stop_request(c, op, grace), c->time ? (int)grace + EXTRA_WAIT_MS : -1);
}

int cli_stop(int argc, char **argv)
{
        struct id_command c = {
                .name = "stop", .usage = "[--time N] ID",
                .summary = "Stop a sandbox: its stop signal (lifecycle.stop_signal, default\n"
                           "TERM) to its command, then, after the grace period, kill everything\n"
                           "in its cgroup. The sandbox stays, stopped.",
                .options = "      --time N         grace period in seconds, or a duration like\n"
                           "                       500ms (default lifecycle.stop_timeout, 10s)\n",
        };
        return stop_like(argc, argv, &c, "stop");
}

int cli_restart(int argc, char **argv)
{
        struct id_command c = {
                .name = "restart", .usage = "[--time N] ID",
                .summary = "Stop a sandbox (as 'stop' does) and start it again.",
                .options = "      --time N         grace period of the stop (default\n"
                           "                       lifecycle.stop_timeout, 10s)\n",
        };
        return stop_like(argc, argv, &c, "restart");
}

int cli_kill(int argc, char **argv)
{
        struct id_command c = {
                .name = "kill", .usage = "[--signal SIG] ID",
                .summary = "Send a signal to every process of a running sandbox (KILL: the\n"
                           "whole sandbox dies at once).",
                .options = "      --signal SIG     name (TERM, SIGUSR1) or number (default KILL)\n",
        };
        int sig = SIGKILL;
        int r = parse_id_command(argc, argv, "sj", &c);

        if (r != CLI_EXIT_OK)
                return r < 0 ? CLI_EXIT_OK : r;
        if (c.signal && parse_signal(c.signal, &sig) < 0)
                return cli_usage_error("kill", "--signal: unknown signal '%s'", c.signal);
        return request(&c, json_pack("{s:s, s:i}", "op", "kill", "signal", sig), 10000);
}

/* A sandbox without a live supervisor: remove what is left directly. */
static int destroy_orphan(const char *state_dir, const struct sbx_sandbox *sb)
{
        sbx_autoerror e = NULL;

        if (sbx_cgroup_collect(sb->cgroup_parent, sb->id, true, &e) < 0)
                return cli_fail(e, "destroy: cgroup");
        if (sbx_registry_remove(state_dir, sb->id, &e) < 0)
                return cli_fail(e, "destroy");
        __attribute__((cleanup(json_decrefp))) json_t *ev = json_pack("{s:s}", "by", "cli");
        sbx_event_append(state_dir, NULL, "destroyed", ev, NULL);
        return CLI_EXIT_OK;
}

/* The sandbox's snapshots go with it, unless --keep-data. */
static int delete_data(const struct id_command *c, const char *id)
{
        sbx_autoerror e = NULL;

        if (sbx_snapshot_store_delete(cli_data_dir(c->data_dir), id, &e) < 0)
                return cli_fail(e, "destroy");
        return CLI_EXIT_OK;
}

int cli_destroy(int argc, char **argv)
{
        struct id_command c = {
                .name = "destroy", .usage = "[--time N] [--keep-data] ID",
                .summary = "Stop a sandbox and remove it: its cgroup, its state and its\n"
                           "snapshots (unless --keep-data).",
                .options = "      --time N         grace period of the stop (default\n"
                           "                       lifecycle.stop_timeout, 10s)\n"
                           "      --keep-data      keep its snapshots (<data-dir>/ID)\n"
                           "      --data-dir DIR   where its snapshots are (default\n"
                           "                       $SANDBOXCTL_DATA_DIR or /var/lib/sandboxctl)\n",
        };
        __attribute__((cleanup(sbx_sandbox_freep))) struct sbx_sandbox *sb = NULL;
        uint64_t grace;
        int r = parse_id_command(argc, argv, "tkj", &c);

        if (r != CLI_EXIT_OK)
                return r < 0 ? CLI_EXIT_OK : r;
        if ((r = grace_ms(&c, &grace)) != CLI_EXIT_OK)
                return r;
        const char *state_dir = cli_state_dir(c.state_dir);
        if ((r = cli_lookup(state_dir, c.ref, &sb)) != CLI_EXIT_OK)
                return r;
        if (sb->broken || sb->supervisor_dead) {
                r = destroy_orphan(state_dir, sb);
                if (r == CLI_EXIT_OK && !c.json)
                        printf("%s\n", sb->id);
        } else {
                json_t *req = stop_request(&c, "destroy", grace);
                if (req)
                        json_object_set_new(req, "keep_data", json_boolean(c.keep_data));
                r = request(&c, req, c.time ? (int)grace + EXTRA_WAIT_MS : -1);
        }
        return r == CLI_EXIT_OK && !c.keep_data ? delete_data(&c, sb->id) : r;
}
