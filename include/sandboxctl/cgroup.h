/* cgroup: one cgroup slice per sandbox: placement, limits, usage, kill.
 *
 * A sandbox lives in a leaf cgroup named after its id, under a parent
 * (`--cgroup-parent`, $SANDBOXCTL_CGROUP_PARENT, default "sandboxctl").
 *
 * - cgroup v2 (unified): one directory. A relative parent goes under the
 *   hierarchy root when we may write there, else under the caller's own
 *   cgroup (delegation); an absolute parent ("/a/b") is taken from the root.
 *   Controllers are enabled in the parent chain's cgroup.subtree_control,
 *   never in the root or the caller's own cgroup. The child should be born
 *   in the cgroup: clone3(CLONE_INTO_CGROUP) with sbx_cgroup_clone_fd().
 * - cgroup v1 and hybrid hosts: the same relative path in the pids, cpu,
 *   cpuacct and freezer hierarchies, and under the caller's own memory cgroup
 *   in the memory hierarchy (a relative parent only). The cgroup2 mount of a
 *   hybrid host is never written.
 *
 * Limits come from spec->limits. A limit the host cannot enforce (controller
 * not mounted, not delegated) is an error naming the controller and the fix,
 * unless its SBX_LIMIT_* bit is set in limits.best_effort: then the cgroup is
 * made without it and sbx_cgroup_warnings() says so.
 *
 * Use from the run pipeline:
 *     sbx_cgroup_create(NULL, id, spec, &cg, err);
 *     fd = sbx_cgroup_clone_fd(cg);          // >= 0: clone3 CLONE_INTO_CGROUP
 *     else: fork, child waits on a pipe, sbx_cgroup_attach(cg, pid), release
 *     ... sbx_cgroup_sample(cg, &usage) at will (and once at the end) ...
 *     sbx_cgroup_destroy(cg, err);           // kill everything, rmdir all
 *     sbx_cgroup_free(cg);
 * `gc` uses sbx_cgroup_remove_stale(parent, id) for a dead supervisor's slice.
 *
 * A struct sbx_cgroup is not thread-safe; use one per thread. */
#ifndef SANDBOXCTL_CGROUP_H
#define SANDBOXCTL_CGROUP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "sandboxctl/error.h"
#include "sandboxctl/spec.h"

#define SBX_CGROUP_PARENT_ENV "SANDBOXCTL_CGROUP_PARENT"
#define SBX_CGROUP_PARENT_DEFAULT "sandboxctl"

struct sbx_cgroup; /* opaque */

/* The parent in use: `parent` if set and non-empty, else
 * $SANDBOXCTL_CGROUP_PARENT if set and non-empty, else the default. */
const char *sbx_cgroup_parent_resolve(const char *parent);

/* Bits of sbx_cgroup_usage.have: which fields were measured. A field whose
 * bit is clear is 0 and means "unknown" (controller missing), not "none". */
enum sbx_cgroup_have {
        SBX_CGROUP_HAVE_MEMORY = 1u << 0, /* memory_current, memory_peak */
        SBX_CGROUP_HAVE_PIDS = 1u << 1, /* pids_current, pids_peak */
        SBX_CGROUP_HAVE_CPU = 1u << 2, /* cpu_usec */
        SBX_CGROUP_HAVE_THROTTLE = 1u << 3, /* cpu_throttled_usec */
        SBX_CGROUP_HAVE_OOM = 1u << 4, /* oom_kills */
        SBX_CGROUP_HAVE_PIDS_HITS = 1u << 5, /* pids_limit_hits */
};

struct sbx_cgroup_usage {
        uint64_t memory_current; /* bytes */
        uint64_t memory_peak; /* bytes: kernel peak if exposed, else sampled max */
        uint64_t pids_current; /* tasks */
        uint64_t pids_peak; /* kernel pids.peak if exposed, else sampled max */
        uint64_t cpu_usec; /* CPU time used, all CPUs */
        uint64_t cpu_throttled_usec; /* time throttled by the cpu limit */
        uint64_t oom_kills; /* processes killed by the OOM killer */
        uint64_t pids_limit_hits; /* forks refused by pids.max */
        unsigned have; /* SBX_CGROUP_HAVE_* */
};

/* The limits as written to the kernel, for reports. 0 = not limited. */
struct sbx_cgroup_limits {
        uint64_t memory; /* bytes */
        uint64_t memory_swap; /* bytes of swap on top of memory */
        uint64_t pids;
        uint32_t cpu; /* thousandths of one CPU */
        uint64_t cpu_quota_usec; /* per period */
        uint64_t cpu_period_usec; /* 100000 when cpu is limited */
        unsigned applied; /* SBX_LIMIT_* bits enforced by the kernel */
        unsigned skipped; /* SBX_LIMIT_* bits wanted but skipped (best_effort) */
};

/* Make the cgroup `id` (a plain name: no '/', not "." or "..") under
 * `parent` (NULL: $SANDBOXCTL_CGROUP_PARENT, else "sandboxctl") in every
 * hierarchy, and write spec's limits (spec may be NULL: no limits). Fails
 * with EEXIST if the cgroup exists. On failure nothing is left behind. */
int sbx_cgroup_create(const char *parent, const char *id, const struct sbx_spec *spec,
                      struct sbx_cgroup **ret, sbx_error **err);
/* Find the existing cgroup `id` under `parent` (for kill, stats, gc from
 * another process). ENOENT if it exists in no hierarchy. */
int sbx_cgroup_open(const char *parent, const char *id, struct sbx_cgroup **ret, sbx_error **err);

/* cgroup v2: a directory fd (O_CLOEXEC, owned by cg) for clone3's
 * CLONE_INTO_CGROUP. v1/hybrid: -1 (use sbx_cgroup_attach()). */
int sbx_cgroup_clone_fd(const struct sbx_cgroup *cg);
/* Move the whole process `pid` (all its threads) into the cgroup, in every
 * hierarchy (cgroup.procs). Do it before the process execs. */
int sbx_cgroup_attach(struct sbx_cgroup *cg, pid_t pid, sbx_error **err);

/* The cheap way in on v1 and hybrid hosts. Moving another process through
 * cgroup.procs takes the kernel's global cgroup_threadgroup_rwsem for
 * writing, which waits for an RCU grace period: 7-15 ms on an idle or a
 * loaded machine. A single thread moving itself (writing "0" to `tasks`)
 * skips that lock. So: the parent opens the `tasks` file of every hierarchy
 * (sbx_cgroup_self_attach_open(): the kernel checks the opener's
 * credentials, so the child needs no privilege), forks a single-threaded
 * child that calls sbx_cgroup_attach_self() before anything else, and
 * closes the files (sbx_cgroup_self_attach_close()). Returns 1 when the
 * files are open, 0 when this cgroup has no such path (v2: use
 * sbx_cgroup_clone_fd()). */
int sbx_cgroup_self_attach_open(struct sbx_cgroup *cg, sbx_error **err);
/* In the (single-threaded) child: move itself in, in every hierarchy. */
int sbx_cgroup_attach_self(const struct sbx_cgroup *cg, sbx_error **err);
void sbx_cgroup_self_attach_close(struct sbx_cgroup *cg);

/* Read the usage counters now. */
int sbx_cgroup_sample(struct sbx_cgroup *cg, struct sbx_cgroup_usage *ret, sbx_error **err);
/* The peaks the kernel does not keep (no memory.peak / max_usage_in_bytes,
 * no pids.peak: e.g. pids on kernels before 6.13), as SBX_CGROUP_HAVE_MEMORY
 * and SBX_CGROUP_HAVE_PIDS bits; 0 when it keeps them all. A supervisor
 * that gets a non-zero answer calls sbx_cgroup_sample_peaks() now and then
 * while the sandbox runs. */
unsigned sbx_cgroup_unkept_peaks(struct sbx_cgroup *cg);
/* Cheap: read only the current values of the unkept peaks (one small read
 * each) and remember the highest, for sbx_cgroup_sample(). */
int sbx_cgroup_sample_peaks(struct sbx_cgroup *cg, sbx_error **err);

/* Kill every process in the cgroup (cgroup.kill, or freeze + SIGKILL each +
 * thaw, repeated) and wait until it is empty: at most about 2 s, then
 * EBUSY naming what is still there. */
int sbx_cgroup_kill(struct sbx_cgroup *cg, sbx_error **err);
/* Kill, then remove the leaf directory in every hierarchy. The parent
 * stays (the default one is shared by all sandboxes; see below). Safe to
 * call twice. */
int sbx_cgroup_destroy(struct sbx_cgroup *cg, sbx_error **err);
void sbx_cgroup_free(struct sbx_cgroup *cg);
static inline void sbx_cgroup_freep(struct sbx_cgroup **p)
{
        sbx_cgroup_free(*p);
}

/* gc: remove the default parent's directories where they are empty (a
 * parent the user named is theirs: left alone). */
int sbx_cgroup_parent_remove_if_empty(const char *parent, sbx_error **err);

/* gc: kill and remove what is left of cgroup `id` under `parent`.
 * Returns 1 if something was removed, 0 if there was nothing. */
int sbx_cgroup_remove_stale(const char *parent, const char *id, sbx_error **err);

/* For short-lived commands only (gc, destroy of a sandbox whose supervisor
 * is dead): these load libcgroup (on v1), which `run` and the supervisor
 * never do. Kill what is left of cgroup `id` under `parent` (with kill;
 * without, EBUSY if it has processes) and remove its directory in every
 * hierarchy (libcgroup's cgroup_delete_cgroup_ext with
 * CGFLAG_DELETE_EMPTY_ONLY). Returns 1 if something was removed, 0 if
 * there was nothing. */
int sbx_cgroup_collect(const char *parent, const char *id, bool kill, sbx_error **err);
/* The ids of the sandbox cgroups (names of 16 hex digits) under `parent`
 * made at least min_age_s seconds ago (libcgroup's cgroup_walk_tree on v1).
 * *ret is NULL-terminated; free each string and the array. */
int sbx_cgroup_list_ids(const char *parent, unsigned min_age_s, char ***ret, sbx_error **err);

/* 2 (unified) or 1 (v1 or hybrid). */
int sbx_cgroup_version(const struct sbx_cgroup *cg);
/* For info and logs: the v2 directory, or on v1 the path relative to each
 * hierarchy root ("/sandboxctl/<id>"; memory is nested, see above). */
const char *sbx_cgroup_path(const struct sbx_cgroup *cg);
/* Directories of the cgroup, NULL-terminated, one per hierarchy. */
const char *const *sbx_cgroup_dirs(const struct sbx_cgroup *cg);
const struct sbx_cgroup_limits *sbx_cgroup_limits(const struct sbx_cgroup *cg);
/* Warnings for skipped best_effort limits, NULL-terminated (never NULL). */
const char *const *sbx_cgroup_warnings(const struct sbx_cgroup *cg);

#endif
