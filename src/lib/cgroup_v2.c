/* cgroup_v2: create, limit and remove a sandbox cgroup on a unified (v2)
 * hierarchy. Done with direct file operations (cgroup_files.c says why not
 * libcgroup): we enable controllers only in the parent chain below the base
 * (the root, or our own cgroup), which is ours; never in the base itself or
 * above it. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sandboxctl/util.h"
#include "src/lib/cgroup_internal.h"

/* The v2 controllers we use, as bits of 1u << SBX_CG_*. */
#define V2_WANTED ((1u << SBX_CG_MEMORY) | (1u << SBX_CG_PIDS) | (1u << SBX_CG_CPU))
/* Always there on v2: cpu.stat usage (core) and cgroup.freeze. */
#define V2_CORE ((1u << SBX_CG_CPUACCT) | (1u << SBX_CG_FREEZER))

static int read_controllers(const char *dir, const char *file, unsigned *ret, sbx_error **err)
{
        sbx_autofree char *text = NULL;
        int r = sbx_cg_read_file(dir, file, &text, err);
        if (r < 0)
                return r;
        *ret = sbx_cg_parse_controller_list(text) & V2_WANTED;
        return 0;
}

/* Turn on in dir/cgroup.subtree_control what dir has and has not enabled. */
static int enable_controllers(const char *dir, sbx_error **err)
{
        unsigned have = 0, on = 0;
        int r = read_controllers(dir, "cgroup.controllers", &have, err);
        if (r >= 0)
                r = read_controllers(dir, "cgroup.subtree_control", &on, err);
        if (r < 0)
                return r;
        unsigned missing = have & ~on;
        if (!missing)
                return 0;
        char buf[64] = "";
        for (int c = 0; c < SBX_CG_N; c++)
                if (missing & (1u << c))
                        snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s+%s",
                                 *buf ? " " : "", sbx_cg_ctrl_name(c));
        return sbx_cg_write_file(dir, "cgroup.subtree_control", buf, err);
}

int sbx_cg_v2_prepare_parent(struct sbx_cgroup *cg, unsigned *ret_avail, sbx_error **err)
{
        sbx_autofree char *path = strdup(cg->place.v2_base);
        if (!path)
                return sbx_error_errno(err, ENOMEM, "prepare %s", cg->place.v2_base);
        for (const char *p = cg->place.parent_rel; *p;) {
                size_t len = strcspn(p, "/");
                char *longer = NULL;
                if (asprintf(&longer, "%s/%.*s", path, (int)len, p) < 0)
                        return sbx_error_errno(err, ENOMEM, "prepare %s", path);
                free(path);
                path = longer;
                if (mkdir(path, 0755) < 0 && errno != EEXIST)
                        return sbx_error_errno(err, errno, "mkdir %s", path);
                int r = enable_controllers(path, err);
                if (r < 0)
                        return sbx_error_prefix(err, r, "enable controllers in %s", path);
                p += len;
                p += strspn(p, "/");
        }
        unsigned on = 0;
        int r = read_controllers(path, "cgroup.subtree_control", &on, err);
        if (r < 0)
                return r;
        cg->memsw_host = !sbx_cg_host_has_swap() || ((on & (1u << SBX_CG_MEMORY)) &&
                                                     sbx_cg_file_exists(path, "memory.swap.max"));
        *ret_avail = on | V2_CORE;
        return 0;
}

static int write_u64(const char *dir, const char *file, uint64_t v, sbx_error **err)
{
        char buf[32];
        snprintf(buf, sizeof(buf), "%" PRIu64, v);
        return sbx_cg_write_file(dir, file, buf, err);
}

static int set_limits(const struct sbx_cgroup *cg, const struct sbx_limits *lim, unsigned apply,
                      sbx_error **err)
{
        const char *dir = cg->place.v2_dir;
        int r;
        if (apply & SBX_LIMIT_MEMORY) {
                r = write_u64(dir, "memory.max", lim->memory, err);
                if (r < 0)
                        return sbx_error_prefix(err, r, "limit memory to %" PRIu64, lim->memory);
        }
        if ((apply & SBX_LIMIT_MEMORY_SWAP) && sbx_cg_file_exists(dir, "memory.swap.max")) {
                r = write_u64(dir, "memory.swap.max", lim->memory_swap, err);
                if (r < 0)
                        return sbx_error_prefix(err, r, "limit swap to %" PRIu64, lim->memory_swap);
        }
        if (apply & SBX_LIMIT_PIDS) {
                r = write_u64(dir, "pids.max", lim->pids, err);
                if (r < 0)
                        return sbx_error_prefix(err, r, "limit pids to %" PRIu64, lim->pids);
        }
        if (apply & SBX_LIMIT_CPU) {
                char buf[64];
                snprintf(buf, sizeof(buf), "%" PRIu64 " %u", sbx_cg_cpu_quota_usec(lim->cpu),
                         SBX_CG_CPU_PERIOD_USEC);
                r = sbx_cg_write_file(dir, "cpu.max", buf, err);
                if (r < 0)
                        return sbx_error_prefix(err, r, "limit cpu to %u.%03u CPUs",
                                                lim->cpu / 1000, lim->cpu % 1000);
        }
        return 0;
}

int sbx_cg_v2_create(struct sbx_cgroup *cg, const struct sbx_limits *lim, unsigned apply,
                     sbx_error **err)
{
        const char *dir = cg->place.v2_dir;
        if (mkdir(dir, 0755) < 0)
                return sbx_error_errno(err, errno, "mkdir %s", dir);
        cg->v2_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (cg->v2_fd < 0)
                return sbx_error_errno(err, errno, "open %s", dir);
        return set_limits(cg, lim, apply, err);
}

int sbx_cg_v2_remove(struct sbx_cgroup *cg, sbx_error **err)
{
        if (cg->v2_fd >= 0) {
                close(cg->v2_fd);
                cg->v2_fd = -1;
        }
        return sbx_cg_rmdir(cg->place.v2_dir, err);
}
