/* cgroup_v1: create, limit and remove a sandbox cgroup on v1 and hybrid
 * hosts, through libcgroup. One struct cgroup names one relative path in
 * every controller it holds, so the memory cgroup, nested under our own
 * memory cgroup, gets its own object ("group" below). Attach does not go
 * through libcgroup (it writes a thread id to `tasks`): see cgroup_files.c. */
#include <errno.h>
#include <inttypes.h>
#include <libcgroup.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sandboxctl/util.h"
#include "src/lib/cgroup_internal.h"

static void cgroup_free_one(struct cgroup *cg)
{
        cgroup_free(&cg);
}
SBX_DEFINE_CLEANUP(struct cgroup *, cgroup_free_one)

bool sbx_cg_v1_has_memsw(const struct sbx_cg_host *h)
{
        const char *mnt = h->v1_mount[SBX_CG_MEMORY];
        if (mnt && sbx_cg_file_exists(mnt, "memory.memsw.limit_in_bytes"))
                return true;
        return !sbx_cg_host_has_swap();
}

/* A libcgroup object for the controllers whose leaf has relative path rel. */
static int group_new(const struct sbx_cgroup *cg, const char *rel, struct cgroup **ret,
                     sbx_error **err)
{
        struct cgroup *g = cgroup_new_cgroup(rel);
        if (!g)
                return sbx_error_errno(err, ENOMEM, "libcgroup: new cgroup %s", rel);
        for (int c = 0; c < SBX_CG_N; c++) {
                if (!cg->place.rel[c] || cg->place.dup[c] || strcmp(cg->place.rel[c], rel) != 0)
                        continue;
                if (!cgroup_add_controller(g, sbx_cg_ctrl_name(c))) {
                        cgroup_free(&g);
                        return sbx_error_set(err, ENOMEM, "libcgroup: add controller %s to %s",
                                             sbx_cg_ctrl_name(c), rel);
                }
        }
        *ret = g;
        return 0;
}

/* Is rel the first controller's rel among the non-duplicate ones? Then it
 * starts a group. */
static bool group_starts_at(const struct sbx_cgroup *cg, int c)
{
        if (!cg->place.rel[c] || cg->place.dup[c])
                return false;
        for (int e = 0; e < c; e++)
                if (cg->place.rel[e] && !cg->place.dup[e] &&
                    strcmp(cg->place.rel[e], cg->place.rel[c]) == 0)
                        return false;
        return true;
}

static int set_value(const struct sbx_cgroup *cg, int c, const char *file, uint64_t v,
                     sbx_error **err)
{
        struct cgroup *g __attribute__((cleanup(cgroup_free_onep))) =
                cgroup_new_cgroup(cg->place.rel[c]);
        struct cgroup_controller *ctl = g ? cgroup_add_controller(g, sbx_cg_ctrl_name(c)) : NULL;
        if (!ctl)
                return sbx_error_errno(err, ENOMEM, "libcgroup: set %s", file);
        int r = cgroup_add_value_uint64(ctl, file, v);
        if (r == 0)
                r = cgroup_modify_cgroup(g);
        if (r != 0)
                return sbx_cg_libcgroup_error(err, r, "write %" PRIu64 " to %s/%s", v,
                                              cg->place.dir[c], file);
        return 0;
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

int sbx_cg_v1_create(struct sbx_cgroup *cg, const struct sbx_limits *lim, unsigned apply,
                     sbx_error **err)
{
        for (int c = 0; c < SBX_CG_N; c++) {
                if (!group_starts_at(cg, c))
                        continue;
                struct cgroup *g __attribute__((cleanup(cgroup_free_onep))) = NULL;
                int r = group_new(cg, cg->place.rel[c], &g, err);
                if (r < 0)
                        return r;
                /* ignore_ownership: keep root's, do not chown tasks files */
                r = cgroup_create_cgroup(g, 1);
                if (r != 0)
                        return sbx_cg_libcgroup_error(err, r, "mkdir %s", cg->place.dir[c]);
        }
        return set_limits(cg, lim, apply, err);
}

int sbx_cg_v1_remove(struct sbx_cgroup *cg, sbx_error **err)
{
        int ret = 0;
        for (int c = 0; c < SBX_CG_N; c++) {
                if (!group_starts_at(cg, c))
                        continue;
                struct cgroup *g __attribute__((cleanup(cgroup_free_onep))) = NULL;
                int r = group_new(cg, cg->place.rel[c], &g, err);
                if (r < 0)
                        return r;
                r = cgroup_delete_cgroup_ext(g, CGFLAG_DELETE_EMPTY_ONLY);
                if (r == 0)
                        continue;
                /* libcgroup stops at the first hierarchy that fails and does
                 * not wait for exiting tasks: finish with a bounded rmdir. */
                for (int e = c; e < SBX_CG_N; e++) {
                        if (!cg->place.dir[e] || cg->place.dup[e] ||
                            strcmp(cg->place.rel[e], cg->place.rel[c]) != 0)
                                continue;
                        r = sbx_cg_rmdir(cg->place.dir[e], err);
                        if (r < 0 && ret == 0)
                                ret = r;
                }
        }
        return ret;
}
