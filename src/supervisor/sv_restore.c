/* sv_restore: the supervisor's "restore" control request (see
 * sv_checkpoint.h): the sandbox's processes come back from the CRIU images
 * of a full snapshot, in a fresh cgroup with the sandbox's limits (the
 * cgroup the supervisor creates for every start), on the same rootfs, with
 * their log and message pipes connected to this supervisor again. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandboxctl/snapshot.h"
#include "sandboxctl/util.h"
#include "src/lib/run-internal.h"
#include "sv_checkpoint.h"
#include "sv_internal.h"

#define ROOT_DIR "criu-root"
#define REEXEC_WAIT_MS 2000

struct restore {
        const char *images;
        unsigned long ino[2]; /* log, msg */
        int pipes[2][2];      /* log, msg: read, write */
};

static int read_fds_file(struct restore *rs, sbx_error **err)
{
        sbx_autofree char *path = NULL;

        if (asprintf(&path, "%s/%s", rs->images, SV_CKPT_FDS_FILE) < 0)
                return sbx_error_errno(err, ENOMEM, "restore");
        FILE *f = fopen(path, "re");
        if (!f)
                return sbx_error_errno(err, errno, "open %s", path);
        int n = fscanf(f, "log %lu msg %lu", &rs->ino[0], &rs->ino[1]);
        fclose(f);
        if (n != 2)
                return sbx_error_set(err, EBADMSG, "%s: not 'log INODE msg INODE'", path);
        return 0;
}

/* The root CRIU mounts the sandbox on: a directory rootfs itself, else a
 * fresh copy of the saved skeleton of the host-root tmpfs. */
static int restore_root(struct sv *s, const char *scratch, const struct restore *rs,
                        char **ret, sbx_error **err)
{
        if (s->spec->filesystem.rootfs) {
                *ret = strdup(s->spec->filesystem.rootfs);
                return *ret ? 0 : sbx_error_errno(err, ENOMEM, "restore");
        }
        sbx_autofree char *src = NULL, *dst = NULL;
        if (asprintf(&src, "%s/root", rs->images) < 0 ||
            asprintf(&dst, "%s/%s", scratch, ROOT_DIR) < 0)
                return sbx_error_errno(err, ENOMEM, "restore");
        sbx_autoclose int dir = open(scratch, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir < 0)
                return sbx_error_errno(err, errno, "open %s", scratch);
        sbx_remove_tree_at(dir, ROOT_DIR, NULL);
        int r = sbx_snapshot_root_copy(src, dst, err);
        if (r < 0)
                return r;
        *ret = sbx_steal_ptr(dst);
        return 0;
}

static void close_pipes(struct restore *rs)
{
        for (int i = 0; i < 2; i++)
                for (int j = 0; j < 2; j++)
                        sbx_closep(&rs->pipes[i][j]);
}

/* The pipes the restored tree writes to, in place of the dumped ones: their
 * write ends go to criu (not close-on-exec) as --inherit-fd. */
static int open_pipes(struct restore *rs, sbx_error **err)
{
        for (int i = 0; i < 2; i++) {
                if (pipe2(rs->pipes[i], O_CLOEXEC) < 0 ||
                    fcntl(rs->pipes[i][1], F_SETFD, 0) < 0)
                        return sbx_error_errno(err, errno, "restore: pipe");
        }
        return 0;
}

static int criu_restore(struct sv *s, const char *scratch, const char *root, struct restore *rs,
                        sbx_error **err)
{
        char keys[2][64];
        const char *key_ptrs[2] = { keys[0], keys[1] };
        int fds[2] = { rs->pipes[0][1], rs->pipes[1][1] };

        for (int i = 0; i < 2; i++)
                snprintf(keys[i], sizeof(keys[i]), "pipe:[%lu]", rs->ino[i]);
        struct sbx_criu_restore_opts o = {
                .images_dir = rs->images,
                /* The log and stats in the scratch dir: a snapshot is
                 * never written after it is taken. */
                .work_dir = scratch,
                .root = root,
                .inherit_fds = fds,
                .inherit_keys = key_ptrs,
                .n_inherit = 2,
        };
        pid_t pid = 0;
        int r = sbx_criu_restore(&o, &pid, err);
        if (r < 0)
                return r;
        int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (pidfd < 0)
                return sbx_error_errno(err, errno, "pidfd_open of the restored init %d",
                                       (int)pid);
        s->init_pid = pid;
        s->pidfd = pidfd;
        s->log_fd = sbx_steal_fd(rs->pipes[0][0]);
        s->msg_fd = sbx_steal_fd(rs->pipes[1][0]);
        fcntl(s->msg_fd, F_SETFL, O_NONBLOCK);
        fcntl(s->log_fd, F_SETFL, O_NONBLOCK);
        return 0;
}

/* Is signal sig pending for pid (queued, not yet taken by sigwaitinfo)? */
static bool signal_pending(pid_t pid, int sig)
{
        char path[64], line[256];
        bool pending = false;

        snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
        FILE *f = fopen(path, "re");
        while (f && fgets(line, sizeof(line), f)) {
                unsigned long long mask;
                if ((sscanf(line, "SigPnd: %llx", &mask) == 1 ||
                     sscanf(line, "ShdPnd: %llx", &mask) == 1) &&
                    (mask & (1ULL << (sig - 1))))
                        pending = true;
        }
        if (f)
                fclose(f);
        return pending;
}

/* Have the restored init exec itself again (SBX_INIT_REEXEC_SIGNAL), so
 * that its memory belongs to the sandbox's user namespace and the next
 * checkpoint can dump it; wait (bounded) until it took the signal. */
static void reexec_init(struct sv *s)
{
        if (syscall(SYS_pidfd_send_signal, s->pidfd, SBX_INIT_REEXEC_SIGNAL, NULL, 0) < 0)
                return;
        for (int i = 0; i < REEXEC_WAIT_MS && signal_pending(s->init_pid,
                                                              SBX_INIT_REEXEC_SIGNAL); i++)
                usleep(1000);
}

static int do_restore(struct sv *s, const char *scratch, void *arg, sbx_error **err)
{
        struct restore *rs = arg;
        sbx_autofree char *root = NULL;
        int r = read_fds_file(rs, err);

        if (r >= 0)
                r = restore_root(s, scratch, rs, &root, err);
        if (r >= 0)
                r = open_pipes(rs, err);
        if (r >= 0)
                r = criu_restore(s, scratch, root, rs, err);
        close_pipes(rs);
        if (r >= 0)
                reexec_init(s);
        return r;
}

int sv_restore_control(struct sv *s, int fd, void *req, sbx_error **err)
{
        struct restore rs = { .pipes = { { -1, -1 }, { -1, -1 } } };

        (void)fd;
        rs.images = json_string_value(json_object_get(req, "images"));
        if (!rs.images || rs.images[0] != '/')
                return sbx_error_set(err, EINVAL, "restore without an absolute \"images\"");
        if (s->pidfd >= 0 || s->stopping)
                return sbx_error_set(err, EALREADY, "sandbox %s is running: stop it first",
                                     s->sb->id);
        int r = sv_start_restored(s, do_restore, &rs, err);
        if (r < 0)
                return sbx_error_prefix(err, r, "restore sandbox %s from %s", s->sb->id,
                                        rs.images);
        return 0;
}
