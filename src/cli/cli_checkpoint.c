/* cli_checkpoint: `checkpoint` and `rollback` go through the sandbox's
 * supervisor; `restore` of files, `snapshots` and `snapshot rm|prune` work on
 * the snapshot store directly (docs/checkpoint.md). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli_checkpoint.h"
#include "cli_sandbox.h"
#include "sandboxctl/events.h"
#include "sandboxctl/profile.h"
#include "sandboxctl/snapshot.h"
#include "sandboxctl/util.h"

#define CKPT_CONTROL_MS 600000 /* a checkpoint copies the workspace */
#define CKPT_STOP_MS 120000    /* stop, start */

struct ck_opts {
        const char *where;
        const char *state_dir, *data_dir, *label, *version, *as;
        bool json, leave_running, fs_only, has_keep;
        unsigned long keep;
        const char *pos[2];
        int npos;
};

enum {
        OPT_STATE_DIR = 256,
        OPT_DATA_DIR,
        OPT_JSON,
        OPT_NAME,
        OPT_LEAVE_RUNNING,
        OPT_FS_ONLY,
        OPT_VERSION,
        OPT_AS,
        OPT_KEEP,
};

#define CK_COMMON_OPTS                                                   \
        { "state-dir", required_argument, NULL, OPT_STATE_DIR },         \
        { "data-dir", required_argument, NULL, OPT_DATA_DIR },           \
        { "help", no_argument, NULL, 'h' }

const char *cli_data_dir(const char *opt)
{
        const char *env = getenv(CLI_DATA_DIR_ENV);

        if (opt && *opt)
                return opt;
        return env && *env ? env : CLI_DATA_DIR_DEFAULT;
}

static const char *data_dir(const struct ck_opts *o)
{
        return cli_data_dir(o->data_dir);
}

static int take_option(struct ck_opts *o, int c)
{
        char *end;

        switch (c) {
        case OPT_STATE_DIR: o->state_dir = optarg; break;
        case OPT_DATA_DIR: o->data_dir = optarg; break;
        case OPT_JSON: o->json = true; break;
        case OPT_NAME: o->label = optarg; break;
        case OPT_LEAVE_RUNNING: o->leave_running = true; break;
        case OPT_FS_ONLY: o->fs_only = true; break;
        case OPT_VERSION: o->version = optarg; break;
        case OPT_AS: o->as = optarg; break;
        case OPT_KEEP:
                errno = 0;
                o->keep = strtoul(optarg, &end, 10);
                if (errno || end == optarg || *end || optarg[0] == '-' || o->keep > UINT32_MAX)
                        return cli_usage_error(o->where, "%s: invalid --keep '%s'", o->where,
                                               optarg);
                o->has_keep = true;
                break;
        default: return CLI_EXIT_USAGE;
        }
        return CLI_EXIT_OK;
}

/* Returns -1 after --help, else an exit code; npos positional arguments
 * are required (`names` says what they are, for the message). */
static int parse(int argc, char **argv, struct ck_opts *o, const struct option *opts, int npos,
                 const char *names, void (*usage)(void))
{
        int c, r;

        optind = 0;
        while ((c = cli_getopt(argc, argv, "h", opts, o->where)) != -1) {
                if (c == 'h') {
                        usage();
                        return -1;
                }
                if ((r = take_option(o, c)) != CLI_EXIT_OK)
                        return r;
        }
        for (; optind < argc; optind++) {
                if (o->npos >= npos)
                        return cli_usage_error(o->where, "%s: unexpected argument '%s'", o->where,
                                               argv[optind]);
                o->pos[o->npos++] = argv[optind];
        }
        if (o->npos < npos)
                return cli_usage_error(o->where, "%s: missing %s", o->where, names);
        return CLI_EXIT_OK;
}

static int open_store(const struct ck_opts *o, const struct sbx_sandbox *sb,
                      struct sbx_snapshot_store **ret)
{
        sbx_autoerror e = NULL;

        if (sbx_snapshot_store_open(data_dir(o), sb->id, ret, &e) < 0)
                return cli_fail(e, o->where);
        return CLI_EXIT_OK;
}

static int control(const struct ck_opts *o, const struct sbx_sandbox *sb, json_t *req,
                   int timeout_ms, json_t **ret)
{
        sbx_autoerror e = NULL;
        const char *state_dir = cli_state_dir(o->state_dir);

        if (!req)
                return cli_fail(NULL, o->where);
        int r = cli_control(state_dir, sb, req, timeout_ms, (void **)ret, &e);
        json_decref(req);
        if (r >= 0)
                return CLI_EXIT_OK;
        if (e && e->code == ENOTSUP) {
                sbx_log_error("%s: %s", o->where, e->message);
                if (cli_log_format() == SBX_LOG_FORMAT_TEXT)
                        fprintf(stderr, "hint: 'sandboxctl %s --fs-only' saves the files "
                                        "without CRIU; a newer CRIU may support this kernel\n",
                                o->where);
                return CLI_EXIT_NO_CRIU;
        }
        return cli_fail(e, o->where);
}

static const char *reply_status(json_t *reply)
{
        return json_string_value(json_object_get(json_object_get(reply, "state"), "status"));
}

/* ---- checkpoint ---- */

static void checkpoint_usage(void)
{
        printf("Usage: sandboxctl checkpoint [OPTIONS] ID\n"
               "\n"
               "Save a sandbox's processes (with CRIU) and its workspace as a new numbered\n"
               "snapshot, then stop the sandbox (unless --leave-running). The cgroup is\n"
               "frozen during the dump and the copy and thawed after. Old snapshots beyond\n"
               "the profile's checkpoint.keep (default 10) are pruned.\n"
               "\n"
               "Options:\n"
               "      --name LABEL     label the snapshot (unique, not all digits)\n"
               "      --leave-running  keep the sandbox running after the checkpoint\n"
               "      --fs-only        save the files and the configuration only (no CRIU;\n"
               "                       restoring it starts the command fresh)\n"
               "      --json           print the new snapshot as JSON\n"
               "      --data-dir DIR   snapshot directory (default $SANDBOXCTL_DATA_DIR,\n"
               "                       else /var/lib/sandboxctl)\n"
               "      --state-dir DIR  state directory\n"
               "  -h, --help           show this help\n"
               "\n"
               "Exit status: 0 done; 1 failed; 2 usage error; 3 no such sandbox;\n"
               "5 label taken; 6 not running (full checkpoint); 7 CRIU cannot run here.\n"
               "\n"
               "Examples:\n"
               "  sandboxctl checkpoint --name before-upgrade web\n"
               "  sandboxctl checkpoint --fs-only --leave-running web\n");
}

static void print_snapshot(const char *id, json_t *s)
{
        const char *label = json_string_value(json_object_get(s, "label"));

        printf("%s: snapshot %" JSON_INTEGER_FORMAT "%s%s%s (%s, %" JSON_INTEGER_FORMAT
               " bytes, %" JSON_INTEGER_FORMAT " ms)\n",
               id, json_integer_value(json_object_get(s, "version")), label ? " \"" : "",
               label ? label : "", label ? "\"" : "",
               json_string_value(json_object_get(s, "kind")),
               json_integer_value(json_object_get(s, "size")),
               json_integer_value(json_object_get(s, "duration_ms")));
}

/* Ask the supervisor for a checkpoint; *ret is its reply. */
static int request_checkpoint(const struct ck_opts *o, const struct sbx_sandbox *sb, bool fs_only,
                              const char *label, json_t **ret)
{
        json_t *req = json_pack("{s:s, s:s, s:b}", "op", "checkpoint", "data_dir", data_dir(o),
                                "fs_only", fs_only);

        if (req && label)
                json_object_set_new(req, "label", json_string(label));
        return control(o, sb, req, CKPT_CONTROL_MS, ret);
}

static int stop_sandbox(const struct ck_opts *o, const struct sbx_sandbox *sb)
{
        __attribute__((cleanup(json_decrefp))) json_t *reply = NULL;

        return control(o, sb, json_pack("{s:s}", "op", "stop"), CKPT_STOP_MS, &reply);
}

static int start_sandbox(const struct ck_opts *o, const struct sbx_sandbox *sb)
{
        __attribute__((cleanup(json_decrefp))) json_t *reply = NULL;

        return control(o, sb, json_pack("{s:s}", "op", "start"), CKPT_STOP_MS, &reply);
}

int cli_checkpoint(int argc, char **argv)
{
        static const struct option opts[] = {
                { "name", required_argument, NULL, OPT_NAME },
                { "leave-running", no_argument, NULL, OPT_LEAVE_RUNNING },
                { "fs-only", no_argument, NULL, OPT_FS_ONLY },
                { "json", no_argument, NULL, OPT_JSON },
                CK_COMMON_OPTS,
                { 0 },
        };
        struct ck_opts o = { .where = "checkpoint" };
        __attribute__((cleanup(sbx_sandbox_freep))) struct sbx_sandbox *sb = NULL;
        __attribute__((cleanup(json_decrefp))) json_t *reply = NULL;
        int r = parse(argc, argv, &o, opts, 1, "sandbox id or name", checkpoint_usage);

        if (r != CLI_EXIT_OK)
                return r < 0 ? CLI_EXIT_OK : r;
        if ((r = cli_lookup(cli_state_dir(o.state_dir), o.pos[0], &sb)) != CLI_EXIT_OK)
                return r;
        if ((r = request_checkpoint(&o, sb, o.fs_only, o.label, &reply)) != CLI_EXIT_OK)
                return r;
        const char *status = reply_status(reply);
        if (!o.leave_running && status && strcmp(status, "running") == 0 &&
            (r = stop_sandbox(&o, sb)) != CLI_EXIT_OK)
                return r;
        json_t *snap = json_object_get(reply, "snapshot");
        if (o.json)
                return cli_print_json(json_incref(snap));
        print_snapshot(sb->id, snap);
        return CLI_EXIT_OK;
}

/* ---- snapshots ---- */

static void snapshots_usage(void)
{
        printf("Usage: sandboxctl snapshots [--json] [--data-dir DIR] [--state-dir DIR] ID\n"
               "\n"
               "List a sandbox's snapshots, oldest first: version, label, time, size, kind\n"
               "(full or fs-only), checksum and parent version.\n"
               "\n"
               "Options:\n"
               "      --json           print them as a JSON array\n"
               "      --data-dir DIR   snapshot directory\n"
               "      --state-dir DIR  state directory\n"
               "  -h, --help           show this help\n"
               "\n"
               "Exit status: 0 done; 1 failed; 2 usage error; 3 no such sandbox.\n"
               "\n"
               "Examples:\n"
               "  sandboxctl snapshots web\n"
               "  sandboxctl snapshots --json web\n");
}

static const char *kind_string(enum sbx_snapshot_kind k)
{
        return k == SBX_SNAPSHOT_FULL ? "full" : "fs-only";
}

static void format_time(int64_t ns, char *buf, size_t len)
{
        struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000), .tv_nsec = 0 };
        struct tm tm;

        gmtime_r(&ts.tv_sec, &tm);
        strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static json_t *info_json(const struct sbx_snapshot_info *i)
{
        char t[64];

        format_time(i->created_ns, t, sizeof(t));
        return json_pack("{s:I, s:s?, s:s, s:I, s:I, s:I, s:s, s:s, s:o}", "version",
                         (json_int_t)i->version, "label", i->label, "created", t, "created_ns",
                         (json_int_t)i->created_ns, "size", (json_int_t)i->size, "new_bytes",
                         (json_int_t)i->new_bytes, "kind", kind_string(i->kind), "checksum",
                         i->checksum, "parent",
                         i->parent ? json_integer(i->parent) : json_null());
}

static void print_table(const struct sbx_snapshot_list *l)
{
        printf("%-8s %-20s %-20s %12s %-8s %-12s %s\n", "VERSION", "LABEL", "TIME", "SIZE",
               "KIND", "CHECKSUM", "PARENT");
        for (size_t n = 0; n < l->n; n++) {
                const struct sbx_snapshot_info *i = &l->items[n];
                char t[64], parent[16] = "-";
                format_time(i->created_ns, t, sizeof(t));
                if (i->parent)
                        snprintf(parent, sizeof(parent), "%u", i->parent);
                printf("%-8u %-20s %-20s %12" PRIu64 " %-8s %-12.12s %s\n", i->version,
                       i->label ? i->label : "-", t, i->size, kind_string(i->kind), i->checksum,
                       parent);
        }
}

int cli_snapshots(int argc, char **argv)
{
        static const struct option opts[] = {
                { "json", no_argument, NULL, OPT_JSON },
                CK_COMMON_OPTS,
                { 0 },
        };
        struct ck_opts o = { .where = "snapshots" };
        __attribute__((cleanup(sbx_sandbox_freep))) struct sbx_sandbox *sb = NULL;
        __attribute__((cleanup(sbx_snapshot_store_freep))) struct sbx_snapshot_store *st = NULL;
        struct sbx_snapshot_list l = { 0 };
        sbx_autoerror e = NULL;
        int r = parse(argc, argv, &o, opts, 1, "sandbox id or name", snapshots_usage);

        if (r != CLI_EXIT_OK)
                return r < 0 ? CLI_EXIT_OK : r;
        if ((r = cli_lookup(cli_state_dir(o.state_dir), o.pos[0], &sb)) != CLI_EXIT_OK ||
            (r = open_store(&o, sb, &st)) != CLI_EXIT_OK)
                return r;
        if (sbx_snapshot_list(st, &l, &e) < 0)
                return cli_fail(e, o.where);
        if (o.json) {
                json_t *a = json_array();
                for (size_t i = 0; a && i < l.n; i++)
                        json_array_append_new(a, info_json(&l.items[i]));
                sbx_snapshot_list_clear(&l);
                return cli_print_json(a);
        }
        print_table(&l);
        sbx_snapshot_list_clear(&l);
        return CLI_EXIT_OK;
}

/* ---- snapshot rm | prune ---- */

static void snapshot_rm_usage(void)
{
        printf("Usage: sandboxctl snapshot rm [--data-dir DIR] [--state-dir DIR] ID N|LABEL\n"
               "\n"
               "Remove one snapshot of a sandbox, named by its version number or its label.\n"
               "Snapshots whose parent it was take its parent. Version numbers are never\n"
               "reused.\n"
               "\n"
               "Exit status: 0 done; 1 failed; 2 usage error; 3 no such sandbox or snapshot.\n"
               "\n"
               "Examples:\n"
               "  sandboxctl snapshot rm web 3\n"
               "  sandboxctl snapshot rm web before-upgrade\n");
}

static int snapshot_rm(int argc, char **argv)
{
        static const struct option opts[] = { CK_COMMON_OPTS, { 0 } };
        struct ck_opts o = { .where = "snapshot rm" };
        __attribute__((cleanup(sbx_sandbox_freep))) struct sbx_sandbox *sb = NULL;
        __attribute__((cleanup(sbx_snapshot_store_freep))) struct sbx_snapshot_store *st = NULL;
        struct sbx_snapshot_info info = { 0 };
        sbx_autoerror e = NULL;
        int r = parse(argc, argv, &o, opts, 2, "sandbox id and snapshot", snapshot_rm_usage);

        if (r != CLI_EXIT_OK)
                return r < 0 ? CLI_EXIT_OK : r;
        if ((r = cli_lookup(cli_state_dir(o.state_dir), o.pos[0], &sb)) != CLI_EXIT_OK ||
            (r = open_store(&o, sb, &st)) != CLI_EXIT_OK)
                return r;
        if (sbx_snapshot_find(st, o.pos[1], &info, &e) < 0 ||
            sbx_snapshot_remove(st, info.version, &e) < 0) {
                sbx_snapshot_info_clear(&info);
                return cli_fail(e, o.where);
        }
        printf("%s: removed snapshot %u\n", sb->id, info.version);
        sbx_snapshot_info_clear(&info);
        return CLI_EXIT_OK;
}

static void snapshot_prune_usage(void)
{
        printf("Usage: sandboxctl snapshot prune [--keep N] [--data-dir DIR] [--state-dir DIR] ID\n"
               "\n"
               "Remove a sandbox's oldest snapshots until N remain (default: the profile's\n"
               "checkpoint.keep, 10 unless set; 0 keeps all).\n"
               "\n"
               "Exit status: 0 done; 1 failed; 2 usage error; 3 no such sandbox.\n"
               "\n"
               "Examples:\n"
               "  sandboxctl snapshot prune --keep 3 web\n");
}

/* The sandbox's checkpoint.keep, from its stored spec. */
static uint32_t stored_keep(const struct sbx_sandbox *sb)
{
        struct sbx_spec *spec = NULL;
        uint32_t keep = 10;

        if (sb->spec_json &&
            sbx_profile_load_string(sb->spec_json, strlen(sb->spec_json), "state.json", &spec,
                                    NULL) >= 0)
                keep = spec->checkpoint.keep;
        sbx_spec_free(spec);
        return keep;
}

static int snapshot_prune(int argc, char **argv)
{
        static const struct option opts[] = {
                { "keep", required_argument, NULL, OPT_KEEP },
                CK_COMMON_OPTS,
                { 0 },
        };
        struct ck_opts o = { .where = "snapshot prune" };
        __attribute__((cleanup(sbx_sandbox_freep))) struct sbx_sandbox *sb = NULL;
        __attribute__((cleanup(sbx_snapshot_store_freep))) struct sbx_snapshot_store *st = NULL;
        sbx_autoerror e = NULL;
        int r = parse(argc, argv, &o, opts, 1, "sandbox id or name", snapshot_prune_usage);

        if (r != CLI_EXIT_OK)
                return r < 0 ? CLI_EXIT_OK : r;
        if ((r = cli_lookup(cli_state_dir(o.state_dir), o.pos[0], &sb)) != CLI_EXIT_OK ||
            (r = open_store(&o, sb, &st)) != CLI_EXIT_OK)
                return r;
        uint32_t keep = o.has_keep ? (uint32_t)o.keep : stored_keep(sb);
        if ((r = sbx_snapshot_prune(st, keep, &e)) < 0)
                return cli_fail(e, o.where);
        printf("%s: removed %d snapshot%s\n", sb->id, r, r == 1 ? "" : "s");
        return CLI_EXIT_OK;
}

static void snapshot_usage(void)
{
        printf("Usage: sandboxctl snapshot COMMAND [ARGS...]\n"
               "\n"
               "Manage the snapshots of a sandbox.\n"
               "\n"
               "Commands:\n"
               "  rm     Remove one snapshot (by version or label)\n"
               "  prune  Remove the oldest snapshots until N remain\n"
               "\n"
               "Run 'sandboxctl snapshot COMMAND --help' for more.\n");
}

int cli_snapshot(int argc, char **argv)
{
        static const struct cli_command table[] = {
                { "rm", snapshot_rm, "Remove one snapshot (by version or label)" },
                { "prune", snapshot_prune, "Remove the oldest snapshots until N remain" },
                { NULL, NULL, NULL },
        };
        return cli_dispatch("snapshot", table, argc, argv, snapshot_usage);
}

/* ---- restore and rollback ---- */

/* Put the workspace of `version` back (the sandbox is stopped). */
static int restore_files(const struct ck_opts *o, const struct sbx_sandbox *sb,
                         struct sbx_snapshot_store *st, const struct sbx_snapshot_info *info)
{
        sbx_autoerror e = NULL;
        sbx_autofree char *dir = NULL;

        if (!sb->workspace)
                return CLI_EXIT_OK;
        if (sbx_snapshot_dir(st, info->version, &dir, &e) < 0)
                return cli_fail(e, o->where);
        sbx_autofree char *ws = NULL;
        if (asprintf(&ws, "%s/fs/workspace", dir) < 0)
                return CLI_EXIT_FAILURE;
        if (access(ws, F_OK) < 0) {
                /* Taken with checkpoint.workspace: false: verify only. */
                if (sbx_snapshot_verify(st, info->version, &e) < 0)
                        return cli_fail(e, o->where);
                return CLI_EXIT_OK;
        }
        if (sbx_snapshot_restore_fs(st, info->version, "workspace", sb->workspace, &e) < 0)
                return cli_fail(e, o->where);
        return CLI_EXIT_OK;
}

static int find_version(const struct ck_opts *o, struct sbx_snapshot_store *st,
                        struct sbx_snapshot_info *ret)
{
        sbx_autoerror e = NULL;
        struct sbx_snapshot_list l = { 0 };

        if (o->version) {
                if (sbx_snapshot_find(st, o->version, ret, &e) < 0)
                        return cli_fail(e, o->where);
                return CLI_EXIT_OK;
        }
        if (sbx_snapshot_list(st, &l, &e) < 0)
                return cli_fail(e, o->where);
        if (l.n == 0) {
                sbx_snapshot_list_clear(&l);
                sbx_log_error("%s: sandbox has no snapshots", o->where);
                return CLI_EXIT_NOT_FOUND;
        }
        *ret = l.items[l.n - 1];
        l.items[l.n - 1] = (struct sbx_snapshot_info){ 0 };
        sbx_snapshot_list_clear(&l);
        return CLI_EXIT_OK;
}

static void append_event(const struct ck_opts *o, const struct sbx_sandbox *sb, const char *type,
                         const struct sbx_snapshot_info *info, uint32_t saved)
{
        json_t *f = json_pack("{s:I, s:s?, s:s, s:I}", "version", (json_int_t)info->version,
                              "label", info->label, "kind", kind_string(info->kind), "size",
                              (json_int_t)info->size);

        if (f && saved)
                json_object_set_new(f, "saved_as", json_integer(saved));
        sbx_event_append(cli_state_dir(o->state_dir), sb->id, type, f, NULL);
        json_decref(f);
}

static void restore_usage(void)
{
        printf("Usage: sandboxctl restore [--version N|LABEL] [--as NEW_NAME] [OPTIONS] ID\n"
               "\n"
               "Bring a stopped sandbox back to a snapshot (default: the newest): its\n"
               "workspace becomes exactly the snapshot's (checksums verified first; a\n"
               "corrupted snapshot changes nothing), then it starts: the processes of a\n"
               "full snapshot come back as they were (CRIU); an fs-only snapshot starts\n"
               "the command fresh on the restored files.\n"
               "\n"
               "Options:\n"
               "      --version N|LABEL  the snapshot to restore\n"
               "      --as NEW_NAME      restore a copy as a new sandbox (not supported yet)\n"
               "      --data-dir DIR     snapshot directory\n"
               "      --state-dir DIR    state directory\n"
               "  -h, --help             show this help\n"
               "\n"
               "Exit status: 0 done; 1 failed (or corrupted snapshot); 2 usage error;\n"
               "3 no such sandbox or snapshot; 5 the sandbox is running; 7 CRIU cannot run\n"
               "here (full snapshot).\n"
               "\n"
               "Examples:\n"
               "  sandboxctl restore web\n"
               "  sandboxctl restore --version before-upgrade web\n");
}

/* A full snapshot needs CRIU to bring the processes back. */
static int check_full_restore(const struct ck_opts *o, const struct sbx_snapshot_info *info)
{
        sbx_autoerror e = NULL;
        sbx_autofree char *version = NULL;

        if (info->kind != SBX_SNAPSHOT_FULL)
                return CLI_EXIT_OK;
        if (sbx_criu_probe(&version, &e) < 0) {
                sbx_log_error("%s: snapshot %u holds processes: %s", o->where, info->version,
                              e->message);
                return CLI_EXIT_NO_CRIU;
        }
        return CLI_EXIT_OK;
}

/* Bring the processes of a full snapshot back: the supervisor restores
 * them from the version's CRIU images (verified with the files before). */
static int restore_processes(const struct ck_opts *o, const struct sbx_sandbox *sb,
                             struct sbx_snapshot_store *st, const struct sbx_snapshot_info *info)
{
        sbx_autoerror e = NULL;
        sbx_autofree char *dir = NULL, *images = NULL;
        json_t *reply = NULL;

        if (!sb->workspace && sbx_snapshot_verify(st, info->version, &e) < 0)
                return cli_fail(e, o->where);
        if (sbx_snapshot_dir(st, info->version, &dir, &e) < 0)
                return cli_fail(e, o->where);
        if (asprintf(&images, "%s/criu", dir) < 0)
                return CLI_EXIT_FAILURE;
        int r = control(o, sb, json_pack("{s:s, s:s}", "op", "restore", "images", images),
                        CKPT_STOP_MS, &reply);
        json_decref(reply);
        return r;
}

static bool is_running(const struct sbx_sandbox *sb)
{
        return sb->status == SBX_STATUS_RUNNING || sb->status == SBX_STATUS_RELOADING ||
               sb->status == SBX_STATUS_CHECKPOINTING || sb->status == SBX_STATUS_STOPPING;
}

int cli_restore(int argc, char **argv)
{
        static const struct option opts[] = {
                { "version", required_argument, NULL, OPT_VERSION },
                { "as", required_argument, NULL, OPT_AS },
                CK_COMMON_OPTS,
                { 0 },
        };
        struct ck_opts o = { .where = "restore" };
        __attribute__((cleanup(sbx_sandbox_freep))) struct sbx_sandbox *sb = NULL;
        __attribute__((cleanup(sbx_snapshot_store_freep))) struct sbx_snapshot_store *st = NULL;
        struct sbx_snapshot_info info = { 0 };
        int r = parse(argc, argv, &o, opts, 1, "sandbox id or name", restore_usage);

        if (r != CLI_EXIT_OK)
                return r < 0 ? CLI_EXIT_OK : r;
        if ((r = cli_lookup(cli_state_dir(o.state_dir), o.pos[0], &sb)) != CLI_EXIT_OK)
                return r;
        if (o.as) {
                sbx_log_error("restore --as %s: restoring a copy as a new sandbox is not "
                              "supported yet", o.as);
                return CLI_EXIT_FAILURE;
        }
        if (is_running(sb)) {
                sbx_log_error("restore: sandbox %s is %s: stop it first (or use rollback)",
                              sb->id, sbx_status_to_string(sb->status));
                return CLI_EXIT_CONFLICT;
        }
        if ((r = open_store(&o, sb, &st)) == CLI_EXIT_OK && (r = find_version(&o, st, &info)) ==
                                                                    CLI_EXIT_OK &&
            (r = check_full_restore(&o, &info)) == CLI_EXIT_OK &&
            (r = restore_files(&o, sb, st, &info)) == CLI_EXIT_OK &&
            (r = info.kind == SBX_SNAPSHOT_FULL ? restore_processes(&o, sb, st, &info)
                                                : start_sandbox(&o, sb)) == CLI_EXIT_OK) {
                append_event(&o, sb, "restored", &info, 0);
                printf("%s: restored snapshot %u\n", sb->id, info.version);
        }
        sbx_snapshot_info_clear(&info);
        return r;
}

static void rollback_usage(void)
{
        printf("Usage: sandboxctl rollback --version N|LABEL [OPTIONS] ID\n"
               "\n"
               "Put a sandbox back to a snapshot. The sandbox is stopped first and its\n"
               "current state saved as a new snapshot, so a rollback can be undone (full,\n"
               "with its processes, when the target is a full snapshot and the sandbox\n"
               "ran; else its files). Then the workspace becomes the snapshot's, and the\n"
               "snapshot's processes come back (full, with CRIU), or the command starts\n"
               "again if it was running (fs-only, which works without CRIU).\n"
               "\n"
               "Options:\n"
               "      --version N|LABEL  the snapshot to go back to (required)\n"
               "      --data-dir DIR     snapshot directory\n"
               "      --state-dir DIR    state directory\n"
               "  -h, --help             show this help\n"
               "\n"
               "Exit status: 0 done; 1 failed (or corrupted snapshot: nothing changed);\n"
               "2 usage error; 3 no such sandbox or snapshot; 7 CRIU cannot run here\n"
               "(full snapshot: nothing changed).\n"
               "\n"
               "Examples:\n"
               "  sandboxctl rollback --version 1 web\n"
               "  sandboxctl rollback --version before-upgrade web\n");
}

/* Save the current files (not pruned: the target must stay); returns the
 * new version in *ret. */
static int save_current(const struct ck_opts *o, const struct sbx_sandbox *sb, bool fs_only,
                        uint32_t *ret)
{
        __attribute__((cleanup(json_decrefp))) json_t *reply = NULL;
        json_t *req = json_pack("{s:s, s:s, s:b, s:b}", "op", "checkpoint", "data_dir",
                                data_dir(o), "fs_only", fs_only, "prune", 0);
        int r = control(o, sb, req, CKPT_CONTROL_MS, &reply);

        if (r == CLI_EXIT_OK)
                *ret = (uint32_t)json_integer_value(
                        json_object_get(json_object_get(reply, "snapshot"), "version"));
        return r;
}

/* Stop the sandbox if it runs and keep its current state as a new version:
 * a full one (processes too) when rolling back to a full snapshot of a
 * running sandbox, else its files. */
static int save_and_stop(const struct ck_opts *o, const struct sbx_sandbox *sb, bool full,
                         uint32_t *saved)
{
        bool running = is_running(sb);
        int r;

        if (running && full)
                return (r = save_current(o, sb, false, saved)) != CLI_EXIT_OK
                               ? r
                               : stop_sandbox(o, sb);
        if (running && (r = stop_sandbox(o, sb)) != CLI_EXIT_OK)
                return r;
        return save_current(o, sb, true, saved);
}

static int do_rollback(const struct ck_opts *o, const struct sbx_sandbox *sb,
                       struct sbx_snapshot_store *st, const struct sbx_snapshot_info *info)
{
        sbx_autoerror e = NULL;
        bool running = is_running(sb), full = info->kind == SBX_SNAPSHOT_FULL;
        uint32_t saved = 0;
        int r;

        /* Verify (and for processes, probe CRIU) before anything changes. */
        if (sbx_snapshot_verify(st, info->version, &e) < 0)
                return cli_fail(e, o->where);
        if ((r = check_full_restore(o, info)) != CLI_EXIT_OK ||
            (r = save_and_stop(o, sb, full, &saved)) != CLI_EXIT_OK ||
            (r = restore_files(o, sb, st, info)) != CLI_EXIT_OK)
                return r;
        if (full)
                r = restore_processes(o, sb, st, info);
        else if (running)
                r = start_sandbox(o, sb);
        if (r != CLI_EXIT_OK)
                return r;
        append_event(o, sb, "rolled_back", info, saved);
        printf("%s: rolled back to snapshot %u (the state before saved as %u)\n", sb->id,
               info->version, saved);
        return CLI_EXIT_OK;
}

int cli_rollback(int argc, char **argv)
{
        static const struct option opts[] = {
                { "version", required_argument, NULL, OPT_VERSION },
                CK_COMMON_OPTS,
                { 0 },
        };
        struct ck_opts o = { .where = "rollback" };
        __attribute__((cleanup(sbx_sandbox_freep))) struct sbx_sandbox *sb = NULL;
        __attribute__((cleanup(sbx_snapshot_store_freep))) struct sbx_snapshot_store *st = NULL;
        struct sbx_snapshot_info info = { 0 };
        int r = parse(argc, argv, &o, opts, 1, "sandbox id or name", rollback_usage);

        if (r != CLI_EXIT_OK)
                return r < 0 ? CLI_EXIT_OK : r;
        if (!o.version)
                return cli_usage_error("rollback", "rollback: missing --version N|LABEL");
        if ((r = cli_lookup(cli_state_dir(o.state_dir), o.pos[0], &sb)) != CLI_EXIT_OK ||
            (r = open_store(&o, sb, &st)) != CLI_EXIT_OK ||
            (r = find_version(&o, st, &info)) != CLI_EXIT_OK)
                return r;
        r = do_rollback(&o, sb, st, &info);
        sbx_snapshot_info_clear(&info);
        return r;
}
