/* sv_checkpoint: the supervisor's "checkpoint" control request (see
 * sv_checkpoint.h). */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sandboxctl/control.h"
#include "sandboxctl/snapshot.h"
#include "sandboxctl/util.h"
#include "src/lib/run-internal.h"
#include "sv_checkpoint.h"
#include "sv_internal.h"

#define FREEZE_WAIT_MS 2000

struct ckpt {
        const char *data_dir;
        const char *label;
        bool fs_only, running, frozen, prune;
        char *criu_version;
        char *images; /* full: the images dir inside the store */
        int64_t start_ns;
        struct sbx_snapshot_info info;
};

static int64_t mono_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static const char *kind_name(bool fs_only)
{
        return fs_only ? "fs-only" : "full";
}

static int write_cgroup_file(const char *dir, const char *file, const char *value)
{
        sbx_autofree char *path = NULL;

        if (asprintf(&path, "%s/%s", dir, file) < 0)
                return -ENOMEM;
        sbx_autoclose int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        return write(fd, value, strlen(value)) < 0 ? -errno : 0;
}

/* cgroup.events says "frozen 1"; polled (the kernel signals it with
 * POLLPRI) for at most FREEZE_WAIT_MS. */
static int wait_frozen(const char *dir)
{
        sbx_autofree char *path = NULL;
        char buf[512];

        if (asprintf(&path, "%s/cgroup.events", dir) < 0)
                return -ENOMEM;
        sbx_autoclose int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        int64_t end = mono_ns() + (int64_t)FREEZE_WAIT_MS * 1000000;
        for (;;) {
                ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
                if (n < 0)
                        return -errno;
                buf[n] = '\0';
                if (strstr(buf, "frozen 1"))
                        return 0;
                int64_t left = (end - mono_ns()) / 1000000;
                if (left <= 0)
                        return -ETIMEDOUT;
                struct pollfd p = { .fd = fd, .events = POLLPRI };
                poll(&p, 1, (int)left);
        }
}

/* A consistent cut of the files, and of the files with the processes: the
 * cgroup stays frozen until the copy is made (cgroup v2 freezer; on v1 the
 * copy is made with the sandbox running). */
static int freeze(struct sv *s, struct ckpt *c, sbx_error **err)
{
        const char *dir = s->sb->cgroup;

        if (!c->running || !dir)
                return 0;
        int r = write_cgroup_file(dir, "cgroup.freeze", "1");
        if (r == -ENOENT)
                return 0;
        c->frozen = r >= 0;
        if (r >= 0)
                r = wait_frozen(dir);
        if (r < 0)
                return sbx_error_set(err, -r, "freeze the cgroup %s: %s", dir, strerror(-r));
        return 0;
}

static void thaw(struct sv *s, struct ckpt *c)
{
        if (c->frozen)
                write_cgroup_file(s->sb->cgroup, "cgroup.freeze", "0");
        c->frozen = false;
}

/* The inodes of the sandbox's pipes to the supervisor (SV_CKPT_FDS_FILE). */
static int save_fds(struct sv *s, struct ckpt *c, sbx_error **err)
{
        struct stat log, msg;
        sbx_autofree char *path = NULL;

        if (fstat(s->log_fd, &log) < 0 || fstat(s->msg_fd, &msg) < 0)
                return sbx_error_errno(err, errno, "checkpoint: stat the sandbox's pipes");
        if (asprintf(&path, "%s/%s", c->images, SV_CKPT_FDS_FILE) < 0)
                return sbx_error_errno(err, ENOMEM, "checkpoint");
        FILE *f = fopen(path, "we");
        if (!f)
                return sbx_error_errno(err, errno, "create %s", path);
        fprintf(f, "log %lu msg %lu\n", (unsigned long)log.st_ino, (unsigned long)msg.st_ino);
        if (fclose(f) != 0)
                return sbx_error_errno(err, errno, "write %s", path);
        return 0;
}

/* Full: dump the tree from the init into a temp dir of the store (".tmp-"
 * names are removed by the next snapshot if this one is interrupted). */
static int dump(struct sv *s, struct ckpt *c, struct sbx_snapshot_store *st, sbx_error **err)
{
        if (asprintf(&c->images, "%s/.tmp-criu-XXXXXX", sbx_snapshot_store_path(st)) < 0) {
                c->images = NULL;
                return sbx_error_errno(err, ENOMEM, "checkpoint");
        }
        if (!mkdtemp(c->images))
                return sbx_error_errno(err, errno, "mkdir %s", c->images);
        struct sbx_criu_dump_opts o = {
                .pid = s->init_pid,
                .images_dir = c->images,
                .freezer = s->sb->cgroup,
                .leave_running = true,
                /* Frozen already (v2): CRIU leaves it frozen, and the
                 * files are copied before the thaw, for one cut. */
                .keep_frozen = c->frozen,
        };
        int r = sbx_criu_dump(&o, err);
        if (r >= 0)
                r = save_fds(s, c, err);
        if (r >= 0 && !s->spec->filesystem.rootfs) {
                sbx_autofree char *root = NULL;
                if (asprintf(&root, "%s/root", c->images) < 0)
                        return sbx_error_errno(err, ENOMEM, "checkpoint");
                r = sbx_snapshot_root_save(s->init_pid, root, err);
        }
        return r;
}

static int take(struct sv *s, struct ckpt *c, sbx_error **err)
{
        __attribute__((cleanup(sbx_snapshot_store_freep))) struct sbx_snapshot_store *st = NULL;
        struct sbx_snapshot_source src = { "workspace", s->sb->workspace };
        bool ws = s->spec->checkpoint.workspace && s->sb->workspace;
        int r = sbx_snapshot_store_open(c->data_dir, s->sb->id, &st, err);

        if (r >= 0)
                r = freeze(s, c, err);
        if (r >= 0 && !c->fs_only)
                r = dump(s, c, st, err);
        if (r < 0)
                return r;
        struct sbx_snapshot_params p = {
                .label = c->label,
                .kind = c->fs_only ? SBX_SNAPSHOT_FS_ONLY : SBX_SNAPSHOT_FULL,
                .sources = ws ? &src : NULL,
                .n_sources = ws ? 1 : 0,
                .spec = s->spec,
                .criu_images = c->images,
                .criu_version = c->criu_version,
        };
        r = sbx_snapshot_create(st, &p, &c->info, err);
        thaw(s, c);
        if (r >= 0 && c->prune && s->spec->checkpoint.keep)
                sbx_snapshot_prune(st, s->spec->checkpoint.keep, NULL);
        return r;
}

static json_t *snapshot_json(const struct ckpt *c)
{
        const struct sbx_snapshot_info *i = &c->info;

        return json_pack("{s:I, s:s?, s:s, s:I, s:I, s:I, s:s, s:I, s:I}", "version",
                         (json_int_t)i->version, "label", i->label, "kind", kind_name(c->fs_only),
                         "size", (json_int_t)i->size, "new_bytes", (json_int_t)i->new_bytes,
                         "files", (json_int_t)i->files, "checksum", i->checksum, "parent",
                         (json_int_t)i->parent, "duration_ms",
                         (json_int_t)((mono_ns() - c->start_ns) / 1000000));
}

static int fail(struct sv *s, struct ckpt *c, int r, sbx_error **err)
{
        sbx_error_prefix(err, r, "sandbox %s", s->sb->id);
        sv_event(s, "checkpoint_failed",
                 json_pack("{s:s, s:s}", "kind", kind_name(c->fs_only), "reason",
                           err && *err ? (*err)->message : "failed"));
        return r;
}

static int parse(struct sv *s, json_t *req, struct ckpt *c, sbx_error **err)
{
        c->data_dir = json_string_value(json_object_get(req, "data_dir"));
        c->label = json_string_value(json_object_get(req, "label"));
        c->fs_only = json_is_true(json_object_get(req, "fs_only"));
        c->prune = !json_is_false(json_object_get(req, "prune"));
        c->running = s->pidfd >= 0;
        c->start_ns = mono_ns();
        if (!c->data_dir || c->data_dir[0] != '/')
                return sbx_error_set(err, EINVAL, "checkpoint without an absolute \"data_dir\"");
        if (s->stopping || s->sb->status == SBX_STATUS_CHECKPOINTING)
                return sbx_error_set(err, EBUSY, "sandbox %s is %s", s->sb->id,
                                     sbx_status_to_string(s->sb->status));
        if (!c->fs_only && !c->running)
                return sbx_error_set(err, ESRCH,
                                     "sandbox %s is not running: a full checkpoint needs its "
                                     "processes (use --fs-only for the files)",
                                     s->sb->id);
        return 0;
}

static void finish(struct sv *s, struct ckpt *c, enum sbx_status before)
{
        if (s->sb->status == SBX_STATUS_CHECKPOINTING)
                s->sb->status = before;
        sv_save(s);
        free(c->criu_version);
        if (c->images) {
                /* Moved into the version on success; removed on failure. */
                sbx_remove_tree_at(AT_FDCWD, c->images, NULL);
                free(c->images);
        }
}

int sv_checkpoint_control(struct sv *s, int fd, void *req, sbx_error **err)
{
        struct ckpt c = { 0 };
        int r = parse(s, req, &c, err);

        if (r < 0)
                return fail(s, &c, r, err);
        if (!c.fs_only && (r = sbx_criu_probe(&c.criu_version, err)) < 0) {
                r = -ENOTSUP;
                if (err && *err)
                        (*err)->code = ENOTSUP;
                return fail(s, &c, r, err);
        }
        enum sbx_status before = s->sb->status;
        s->sb->status = SBX_STATUS_CHECKPOINTING;
        sv_save(s);
        sv_event(s, "checkpoint_started", json_pack("{s:s, s:s?}", "kind", kind_name(c.fs_only),
                                                    "label", c.label));
        r = take(s, &c, err);
        thaw(s, &c);
        finish(s, &c, before);
        if (r < 0) {
                sbx_snapshot_info_clear(&c.info);
                return fail(s, &c, r, err);
        }
        json_t *snap = snapshot_json(&c);
        sbx_snapshot_info_clear(&c.info);
        sv_event(s, "checkpoint_done", json_incref(snap));
        json_t *o = json_pack("{s:b, s:o}", "ok", 1, "snapshot", snap);
        if (o) {
                json_object_set_new(o, "state", sbx_sandbox_to_json(s->sb, false));
                sbx_control_send(fd, o, NULL);
        }
        json_decref(o);
        close(fd);
        return 1;
}
