/* cgroup_internal: what the cgroup*.c files share: the host's layout, the
 * placement of one cgroup, the direct file helpers, and the parsers (which
 * the unit tests call on fixtures). Not installed. */
#ifndef SANDBOXCTL_CGROUP_INTERNAL_H
#define SANDBOXCTL_CGROUP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sandboxctl/cgroup.h"

/* The controllers we use, in the order we create, attach and remove. */
enum sbx_cg_ctrl {
        SBX_CG_PIDS,
        SBX_CG_MEMORY,
        SBX_CG_CPU,
        SBX_CG_CPUACCT,
        SBX_CG_FREEZER,
        SBX_CG_N,
};

const char *sbx_cg_ctrl_name(enum sbx_cg_ctrl c);

/* The cgroup layout of the host, as seen by this process. */
struct sbx_cg_host {
        bool v2; /* unified: no v1 hierarchy of ours mounted */
        char *v2_mount; /* cgroup2 mount point, NULL if none */
        char *v2_root; /* its mount root (cgroup namespace) */
        char *v1_mount[SBX_CG_N]; /* v1 mount point per controller, NULL if none */
        char *v1_root[SBX_CG_N];
        char *self_v2; /* our cgroup from "0::<path>", NULL if none */
        char *self_v1[SBX_CG_N]; /* our cgroup per v1 controller */
};

void sbx_cg_host_clear(struct sbx_cg_host *h);
/* Parse /proc/self/mountinfo and /proc/self/cgroup texts. */
int sbx_cg_host_parse(const char *mountinfo, const char *proc_cgroup, struct sbx_cg_host *ret,
                      sbx_error **err);
int sbx_cg_host_detect(struct sbx_cg_host *ret, sbx_error **err);

/* Where one cgroup goes. */
struct sbx_cg_place {
        bool v2;
        char *display; /* sbx_cgroup_path() */
        char *v2_base; /* v2: the dir we never write (root or own cgroup) */
        char *v2_dir; /* v2: the leaf */
        char *parent_rel; /* the parent chain below the base, "" if none */
        char *dir[SBX_CG_N]; /* v1: leaf per controller, NULL if not mounted */
        char *rel[SBX_CG_N]; /* v1: leaf relative to the mount point (libcgroup) */
        bool dup[SBX_CG_N]; /* v1: same hierarchy as an earlier controller */
};

void sbx_cg_place_clear(struct sbx_cg_place *p);
/* `parent` already resolved (never NULL). v2_root_writable: may we create
 * the parent under the v2 root (else under our own v2 cgroup). */
int sbx_cg_place_compute(const struct sbx_cg_host *h, const char *parent, const char *id,
                         bool v2_root_writable, struct sbx_cg_place *ret, sbx_error **err);

/* Is the placed cgroup (in any hierarchy) our own cgroup or an ancestor? */
bool sbx_cg_place_holds_self(const struct sbx_cg_host *h, const struct sbx_cg_place *p);

/* Controllers (SBX_CG_* bits) a controllers-list text names, e.g. the
 * content of cgroup.subtree_control ("cpu memory pids"). */
unsigned sbx_cg_parse_controller_list(const char *text);
/* Check the spec's limits against the available controllers (bits
 * 1u << SBX_CG_*). Returns the SBX_LIMIT_* bits to apply; appends a warning
 * per skipped best_effort limit; an error names the controller and the fix.
 * where: "cgroup v1" or the v2 parent dir, for messages. memsw: v1 has
 * memory.memsw.limit_in_bytes (swap accounting). */
int sbx_cg_check_limits(const struct sbx_limits *lim, unsigned avail, bool v2, bool memsw,
                        const char *where, char ***warnings, unsigned *ret_apply, sbx_error **err);

/* "key value" lines (cpu.stat, memory.events, pids.events,
 * memory.oom_control): the value of key. ENOENT if absent, EINVAL if junk. */
int sbx_cg_parse_keyed(const char *text, const char *key, uint64_t *ret);
/* One number ("max" = UINT64_MAX). */
int sbx_cg_parse_u64(const char *text, uint64_t *ret);

/* Direct file access (cgroup_files.c). All paths absolute. */
int sbx_cg_read_file(const char *dir, const char *file, char **ret, sbx_error **err);
int sbx_cg_read_u64(const char *dir, const char *file, uint64_t *ret, sbx_error **err);
int sbx_cg_read_keyed(const char *dir, const char *file, const char *key, uint64_t *ret,
                      sbx_error **err);
int sbx_cg_write_file(const char *dir, const char *file, const char *value, sbx_error **err);
bool sbx_cg_file_exists(const char *dir, const char *file);
int sbx_cg_write_pid(const char *dir, pid_t pid, sbx_error **err);
/* Pids in dir/cgroup.procs; *ret_n = 0 and *ret = NULL when empty. */
int sbx_cg_read_pids(const char *dir, pid_t **ret, size_t *ret_n, sbx_error **err);
/* Does the host have any swap device (/proc/swaps)? */
bool sbx_cg_host_has_swap(void);
/* rmdir, retried while EBUSY for a short bounded time (exiting tasks). */
int sbx_cg_rmdir(const char *dir, sbx_error **err);

/* The object. */
struct sbx_cgroup {
        struct sbx_cg_place place;
        char *id;
        char *parent;
        int v2_fd;
        struct sbx_cgroup_limits limits;
        char **warnings; /* NULL-terminated, never NULL after create */
        const char **dirs; /* NULL-terminated */
        uint64_t memory_seen; /* sampled maxima, when the kernel keeps none */
        uint64_t pids_seen;
        unsigned unkept_peaks; /* SBX_CGROUP_HAVE_{MEMORY,PIDS}, by sbx_cgroup_unkept_peaks() */
        bool memsw_host; /* swap can be limited, or there is no swap to limit */
        bool destroyed;
        int task_fds[SBX_CG_N]; /* v1: open `tasks` files for sbx_cgroup_attach_self() */
        size_t n_task_fds;
};

/* Append a formatted string to a NULL-terminated list. */
int sbx_cg_strv_add(char ***v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sbx_cg_strv_free(char **v);

/* Per-version steps. */
int sbx_cg_v1_create(struct sbx_cgroup *cg, const struct sbx_limits *lim, unsigned apply,
                     sbx_error **err);
int sbx_cg_v1_remove(struct sbx_cgroup *cg, sbx_error **err);
bool sbx_cg_v1_has_memsw(const struct sbx_cg_host *h);
int sbx_cg_v2_prepare_parent(struct sbx_cgroup *cg, unsigned *ret_avail, sbx_error **err);
int sbx_cg_v2_create(struct sbx_cgroup *cg, const struct sbx_limits *lim, unsigned apply,
                     sbx_error **err);
int sbx_cg_v2_remove(struct sbx_cgroup *cg, sbx_error **err);
/* Remove the parent chain when it is left empty (default parent only). */
void sbx_cg_remove_parent_chain(struct sbx_cgroup *cg);

/* libcgroup, loaded on first use (cgroup_lib.c): short-lived commands
 * only, never run or a supervisor. v1 only (EOPNOTSUPP on v2). */
bool sbx_cg_lib_available(void);
/* Remove cg's directory in every hierarchy if empty. */
int sbx_cg_lib_remove(struct sbx_cgroup *cg, sbx_error **err);
/* Names of the sandbox cgroups (16 hex digits) beside cg (cg's id is just a
 * placeholder for the parent), made at least min_age_s seconds ago. */
int sbx_cg_lib_list_ids(const struct sbx_cgroup *cg, unsigned min_age_s, char ***ret,
                        sbx_error **err);

/* cpu.max / cfs values for a millicpu limit. */
#define SBX_CG_CPU_PERIOD_USEC 100000u
static inline uint64_t sbx_cg_cpu_quota_usec(uint32_t millicpus)
{
        return (uint64_t)millicpus * (SBX_CG_CPU_PERIOD_USEC / 1000u);
}

#endif
