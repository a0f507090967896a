/* statedir: the throwaway registry entry of `run`: <state-dir>/<id>/ with
 * its state.json, made through the registry (not fsync'ed: it lives as long
 * as this process; its name is a label, not indexed). The same directory is
 * the scratch point on which the sandbox's root is assembled: the child
 * mounts a tmpfs over it in its own mount namespace only. No scratch/
 * subdirectory: on ext4 with online discard each directory removed costs a
 * synchronous discard (1-3 ms at the end of every run). Removed at the end. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "registry-internal.h"
#include "run-internal.h"
#include "sandboxctl/state.h"
#include "sandboxctl/util.h"

void sbx_state_free(struct sbx_state *st)
{
        if (!st)
                return;
        free(st->base);
        free(st->dir);
        free(st->scratch);
        free(st);
}
SBX_DEFINE_CLEANUP(struct sbx_state *, sbx_state_free)

static int state_paths(const char *base, const char *id, struct sbx_state **ret, sbx_error **err)
{
        struct sbx_state *st = calloc(1, sizeof(*st));

        if (st) {
                st->base = strdup(base);
                st->dir = sbx_registry_path(base, id, NULL);
                st->scratch = sbx_registry_path(base, id, NULL);
        }
        if (!st || !st->base || !st->dir || !st->scratch) {
                sbx_state_free(st);
                return sbx_error_errno(err, ENOMEM, "state dir %s/%s", base, id);
        }
        *ret = st;
        return 0;
}

/* What state.json records of a run: this process supervises it; gc removes
 * the cgroup of a dead one under cgroup_parent. */
static int run_sandbox(const struct sbx_run_config *cfg, const char *id,
                       const struct timespec *created_at, struct sbx_sandbox *sb, sbx_error **err)
{
        char created[64];

        memcpy(sb->id, id, SBX_ID_LEN + 1);
        sbx_format_iso8601(created_at, created, sizeof(created));
        sb->status = SBX_STATUS_RUNNING;
        sb->uid = geteuid();
        sb->supervisor_pid = getpid();
        if (cfg->spec) {
                sb->limit_memory = cfg->spec->limits.memory;
                sb->limit_pids = cfg->spec->limits.pids;
                sb->limit_cpu = cfg->spec->limits.cpu;
                sb->limit_timeout_ms = cfg->spec->limits.timeout_ms;
        }
        sb->name = cfg->name ? strdup(cfg->name) : NULL;
        sb->profile = cfg->profile ? strdup(cfg->profile) : NULL;
        sb->created_at = strdup(created);
        sb->cgroup_parent = strdup(sbx_cgroup_parent_resolve(cfg->cgroup_parent));
        if ((cfg->name && !sb->name) || (cfg->profile && !sb->profile) || !sb->created_at ||
            !sb->cgroup_parent)
                return sbx_error_errno(err, ENOMEM, "build state.json");
        return sbx_pid_start_time(getpid(), &sb->supervisor_start, err);
}

int sbx_state_create(const char *base, const struct sbx_run_config *cfg, const char *id,
                     const struct timespec *created_at, struct sbx_state **ret_state,
                     sbx_error **err)
{
        __attribute__((cleanup(sbx_state_freep))) struct sbx_state *st = NULL;
        __attribute__((cleanup(sbx_sandbox_freep))) struct sbx_sandbox *sb = calloc(1, sizeof(*sb));
        int r;

        if (!sb)
                return sbx_error_errno(err, ENOMEM, "create state dir");
        r = state_paths(base, id, &st, err);
        if (r >= 0)
                r = run_sandbox(cfg, id, created_at, sb, err);
        if (r >= 0)
                r = registry_add(base, sb, REGISTRY_RUN, err);
        if (r < 0)
                return sbx_error_prefix(err, r, "create state dir");
        *ret_state = sbx_steal_ptr(st);
        return 0;
}

int sbx_state_remove(struct sbx_state *st, sbx_error **err)
{
        if (!st)
                return 0;
        int r = registry_remove_entry(st->base, st->dir + strlen(st->base) + 1, err);
        sbx_state_free(st);
        return r;
}
