/* cgroup_v1: create, limit and remove a sandbox cgroup on v1 and hybrid
 * hosts: one directory per hierarchy (co-mounted controllers share one),
 * the memory one nested under our own memory cgroup (see cgroup.c).
 *
 * This is plain mkdir, write and rmdir, like the v2 side, and not libcgroup:
 * libcgroup 2.0.2's cgroup_init() zeroes an 820 KB mount table (200 dirty
 * pages that stay resident in the supervisor for the sandbox's whole life,
 * most of a sandbox's memory overhead), and each cgroup_create_cgroup() and
 * cgroup_modify_cgroup() reads /proc/mounts again (11 times per sandbox);
 * its attach writes a thread id to `tasks` and its create walks ancestors
 * we do not own. None of that is needed to make one directory per
 * hierarchy we already know from /proc/self/mountinfo. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sandboxctl/util.h"
#include "src/lib/cgroup_internal.h"

bool sbx_cg_v1_has_memsw(const struct sbx_cg_host *h)
{
        const char *mnt = h->v1_mount[SBX_CG_MEMORY];
        if (mnt && sbx_cg_file_exists(mnt, "memory.memsw.limit_in_bytes"))
                return true;
        return !sbx_cg_host_has_swap();
}

static int set_value(const struct sbx_cgroup *cg, int c, const char *file, uint64_t v,
                     sbx_error **err)
{
        char buf[32];

        snprintf(buf, sizeof(buf), "%" PRIu64, v);
        return sbx_cg_write_file(cg->place.dir[c], file, buf, err);
}

static int set_limits(const struct sbx_cgroup *cg, const struct sbx_limits *lim, unsigned apply,
                      sbx_error **err)
{
        int r = 0;
        if (apply & SBX_LIMIT_MEMORY) {
                r = set_value(cg, SBX_CG_MEMORY, "memory.limit_in_bytes", lim->memory, err);
                if (r < 0)
                        return sbx_error_prefix(err, r, "limit memory to %" PRIu64, lim->memory);
        }
        if ((apply & SBX_LIMIT_MEMORY_SWAP) &&
            sbx_cg_file_exists(cg->place.dir[SBX_CG_MEMORY], "memory.memsw.limit_in_bytes")) {
                uint64_t total = lim->memory + lim->memory_swap;
                r = set_value(cg, SBX_CG_MEMORY, "memory.memsw.limit_in_bytes", total, err);
                if (r < 0)
                        return sbx_error_prefix(err, r, "limit memory+swap to %" PRIu64, total);
        }
        if (apply & SBX_LIMIT_PIDS) {
                r = set_value(cg, SBX_CG_PIDS, "pids.max", lim->pids, err);
                if (r < 0)
                        return sbx_error_prefix(err, r, "limit pids to %" PRIu64, lim->pids);
        }
        if (apply & SBX_LIMIT_CPU) {
                r = set_value(cg, SBX_CG_CPU, "cpu.cfs_period_us", SBX_CG_CPU_PERIOD_USEC, err);
                if (r >= 0)
                        r = set_value(cg, SBX_CG_CPU, "cpu.cfs_quota_us",
                                      sbx_cg_cpu_quota_usec(lim->cpu), err);
                if (r < 0)
                        return sbx_error_prefix(err, r, "limit cpu to %u.%03u CPUs",
                                                lim->cpu / 1000, lim->cpu % 1000);
        }
        return 0;
}

/* mkdir dir and the missing directories between the hierarchy's mount point
 * (dir without its last rel_len bytes) and it; the leaf must be new. The
 * parents are there for every sandbox but the first: try the leaf alone. */
static int mkdir_chain(const char *dir, size_t rel_len, sbx_error **err)
{
        if (mkdir(dir, 0755) == 0)
                return 0;
        if (errno != ENOENT)
                return sbx_error_errno(err, errno, "mkdir %s", dir);
        sbx_autofree char *path = strdup(dir);
        if (!path)
                return sbx_error_errno(err, ENOMEM, "mkdir %s", dir);
        size_t len = strlen(path);
        for (size_t i = len - rel_len + 1; i < len; i++) {
                if (path[i] != '/')
                        continue;
                path[i] = '\0';
                int r = mkdir(path, 0755);
                path[i] = '/';
                if (r < 0 && errno != EEXIST)
                        return sbx_error_errno(err, errno, "mkdir %.*s", (int)i, path);
        }
        if (mkdir(path, 0755) < 0)
                return sbx_error_errno(err, errno, "mkdir %s", path);
        return 0;
}

int sbx_cg_v1_create(struct sbx_cgroup *cg, const struct sbx_limits *lim, unsigned apply,
                     sbx_error **err)
{
        for (int c = 0; c < SBX_CG_N; c++) {
                if (!cg->place.dir[c] || cg->place.dup[c])
                        continue;
                int r = mkdir_chain(cg->place.dir[c], strlen(cg->place.rel[c]), err);
                if (r < 0)
                        return r;
        }
        return set_limits(cg, lim, apply, err);
}

/* rmdir of each leaf; waits (bounded) for tasks that are still exiting. */
int sbx_cg_v1_remove(struct sbx_cgroup *cg, sbx_error **err)
{
        int ret = 0;
        for (int c = 0; c < SBX_CG_N; c++) {
                if (!cg->place.dir[c] || cg->place.dup[c])
                        continue;
                int r = sbx_cg_rmdir(cg->place.dir[c], ret < 0 ? NULL : err);
                if (r < 0 && ret == 0)
                        ret = r;
        }
        return ret;
}
