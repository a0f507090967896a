/* cgroup_usage: sample the usage counters of a sandbox cgroup.
 *
 * A counter whose file is missing (controller absent, older kernel) leaves
 * its "have" bit clear, except the peaks, which fall back to the maximum
 * we sampled. A file that exists but cannot be read or parsed is an error. */
#include <errno.h>
#include <string.h>

#include "sandboxctl/util.h"
#include "src/lib/cgroup_internal.h"

/* Read dir/file (a number, or key's value when key is set) if it exists.
 * Returns 1 if read, 0 if the file does not exist. */
static int read_opt(const char *dir, const char *file, const char *key, uint64_t *ret,
                    sbx_error **err)
{
        if (!dir || !sbx_cg_file_exists(dir, file))
                return 0;
        int r = key ? sbx_cg_read_keyed(dir, file, key, ret, err) :
                      sbx_cg_read_u64(dir, file, ret, err);
        return r < 0 ? r : 1;
}

/* Memory, pids and cpu files on each version; NULL where there is none. */
struct usage_files {
        const char *mem_dir, *mem_current, *mem_peak, *oom_file;
        const char *pids_dir;
        const char *cpu_dir, *cpu_file, *cpu_key;
        const char *throttle_dir, *throttle_key;
        unsigned cpu_div; /* ns -> usec on v1 */
};

static void usage_files_of(const struct sbx_cgroup *cg, struct usage_files *f)
{
        const struct sbx_cg_place *p = &cg->place;
        if (p->v2) {
                *f = (struct usage_files){
                        .mem_dir = p->v2_dir,
                        .mem_current = "memory.current",
                        .mem_peak = "memory.peak",
                        .oom_file = "memory.events",
                        .pids_dir = p->v2_dir,
                        .cpu_dir = p->v2_dir,
                        .cpu_file = "cpu.stat",
                        .cpu_key = "usage_usec",
                        .throttle_dir = p->v2_dir,
                        .throttle_key = "throttled_usec",
                        .cpu_div = 1,
                };
                return;
        }
        *f = (struct usage_files){
                .mem_dir = p->dir[SBX_CG_MEMORY],
                .mem_current = "memory.usage_in_bytes",
                .mem_peak = "memory.max_usage_in_bytes",
                .oom_file = "memory.oom_control",
                .pids_dir = p->dir[SBX_CG_PIDS],
                .cpu_dir = p->dir[SBX_CG_CPUACCT],
                .cpu_file = "cpuacct.usage",
                .cpu_key = NULL,
                .throttle_dir = p->dir[SBX_CG_CPU],
                .throttle_key = "throttled_time",
                .cpu_div = 1000,
        };
}

static int sample_memory(struct sbx_cgroup *cg, const struct usage_files *f,
                         struct sbx_cgroup_usage *u, sbx_error **err)
{
        int r = read_opt(f->mem_dir, f->mem_current, NULL, &u->memory_current, err);
        if (r <= 0)
                return r;
        u->have |= SBX_CGROUP_HAVE_MEMORY;
        if (u->memory_current > cg->memory_seen)
                cg->memory_seen = u->memory_current;
        r = read_opt(f->mem_dir, f->mem_peak, NULL, &u->memory_peak, err);
        if (r < 0)
                return r;
        if (r == 0 || u->memory_peak < cg->memory_seen)
                u->memory_peak = cg->memory_seen;
        r = read_opt(f->mem_dir, f->oom_file, "oom_kill", &u->oom_kills, err);
        if (r > 0)
                u->have |= SBX_CGROUP_HAVE_OOM;
        return r;
}

static int sample_pids(struct sbx_cgroup *cg, const struct usage_files *f,
                       struct sbx_cgroup_usage *u, sbx_error **err)
{
        int r = read_opt(f->pids_dir, "pids.current", NULL, &u->pids_current, err);
        if (r <= 0)
                return r;
        u->have |= SBX_CGROUP_HAVE_PIDS;
        if (u->pids_current > cg->pids_seen)
                cg->pids_seen = u->pids_current;
        r = read_opt(f->pids_dir, "pids.peak", NULL, &u->pids_peak, err);
        if (r < 0)
                return r;
        if (r == 0 || u->pids_peak < cg->pids_seen)
                u->pids_peak = cg->pids_seen;
        r = read_opt(f->pids_dir, "pids.events", "max", &u->pids_limit_hits, err);
        if (r > 0)
                u->have |= SBX_CGROUP_HAVE_PIDS_HITS;
        return r;
}

static int sample_cpu(const struct usage_files *f, struct sbx_cgroup_usage *u, sbx_error **err)
{
        int r = read_opt(f->cpu_dir, f->cpu_file, f->cpu_key, &u->cpu_usec, err);
        if (r < 0)
                return r;
        if (r > 0) {
                u->cpu_usec /= f->cpu_div;
                u->have |= SBX_CGROUP_HAVE_CPU;
        }
        /* v2 cpu.stat has throttled_usec only with the cpu controller on. */
        if (!f->throttle_dir)
                return 0;
        uint64_t v = 0;
        sbx_autoerror e = NULL;
        r = sbx_cg_read_keyed(f->throttle_dir, "cpu.stat", f->throttle_key, &v, &e);
        if (r == -ENOENT)
                return 0;
        if (r < 0) {
                if (err && !*err)
                        *err = sbx_steal_ptr(e);
                return r;
        }
        u->cpu_throttled_usec = v / f->cpu_div;
        u->have |= SBX_CGROUP_HAVE_THROTTLE;
        return 0;
}

int sbx_cgroup_sample(struct sbx_cgroup *cg, struct sbx_cgroup_usage *ret, sbx_error **err)
{
        struct usage_files f;
        struct sbx_cgroup_usage u = { 0 };
        usage_files_of(cg, &f);
        int r = sample_memory(cg, &f, &u, err);
        if (r >= 0)
                r = sample_pids(cg, &f, &u, err);
        if (r >= 0)
                r = sample_cpu(&f, &u, err);
        if (r < 0)
                return sbx_error_prefix(err, r, "sample cgroup %s", cg->place.display);
        *ret = u;
        return 0;
}

unsigned sbx_cgroup_unkept_peaks(struct sbx_cgroup *cg)
{
        struct usage_files f;
        unsigned bits = 0;
        usage_files_of(cg, &f);
        if (f.mem_dir && sbx_cg_file_exists(f.mem_dir, f.mem_current) &&
            !sbx_cg_file_exists(f.mem_dir, f.mem_peak))
                bits |= SBX_CGROUP_HAVE_MEMORY;
        if (f.pids_dir && sbx_cg_file_exists(f.pids_dir, "pids.current") &&
            !sbx_cg_file_exists(f.pids_dir, "pids.peak"))
                bits |= SBX_CGROUP_HAVE_PIDS;
        cg->unkept_peaks = bits;
        return bits;
}

int sbx_cgroup_sample_peaks(struct sbx_cgroup *cg, sbx_error **err)
{
        struct usage_files f;
        uint64_t v = 0;
        usage_files_of(cg, &f);
        if (cg->unkept_peaks & SBX_CGROUP_HAVE_MEMORY) {
                int r = sbx_cg_read_u64(f.mem_dir, f.mem_current, &v, err);
                if (r < 0)
                        return r;
                if (v > cg->memory_seen)
                        cg->memory_seen = v;
        }
        if (cg->unkept_peaks & SBX_CGROUP_HAVE_PIDS) {
                int r = sbx_cg_read_u64(f.pids_dir, "pids.current", &v, err);
                if (r < 0)
                        return r;
                if (v > cg->pids_seen)
                        cg->pids_seen = v;
        }
        return 0;
}
