/* gc: remove what dead sandboxes left behind.
 *
 * A sandbox is dead when the supervisor pid in its state.json no longer
 * exists, or exists with another start time (pid reuse). Its directory
 * <state-dir>/<id>/ is then removed with an fd-based walk that never follows
 * a symlink and never leaves the state dir. A directory with no readable
 * state.json is removed once it is older than SBX_GC_GRACE_SECONDS (a
 * supervisor that died while creating it). Before its state dir, the
 * cgroup of a dead sandbox is killed and removed (sbx_cgroup_remove_stale
 * under the cgroup_parent its state.json names, else the default parent):
 * only a cgroup named after that sandbox's id, never anything else. */
#ifndef SANDBOXCTL_GC_H
#define SANDBOXCTL_GC_H

#include <stdbool.h>
#include <stddef.h>

#include "sandboxctl/error.h"

#define SBX_GC_GRACE_SECONDS 60

struct sbx_gc_entry {
        char *id;
        char *reason;  /* why it is considered dead, or why it was kept */
        bool dead;     /* it is a leftover */
        bool removed;  /* and it was removed (false on --dry-run or error) */
        char *error;   /* why removal failed, or NULL */
};

/* Examine every entry of state_dir (NULL: sbx_state_dir_default()). A
 * missing state dir is not an error (nothing to collect). */
int sbx_gc(const char *state_dir, bool dry_run, struct sbx_gc_entry **ret_entries, size_t *ret_n,
           sbx_error **err);
enum {
        SBX_GC_DRY_RUN = 1 << 0, /* only say what would be removed */
        SBX_GC_FORCE = 1 << 1,   /* no grace period for dirs without a usable state */
};
/* The same with flags. Each removal is a "destroyed" event ("by": "gc",
 * "reason") in the registry log. A dir whose state.json is unusable, or
 * names no supervisor yet, is kept while a supervisor answers on its
 * control socket. */
int sbx_gc_flags(const char *state_dir, unsigned flags, struct sbx_gc_entry **ret_entries,
                 size_t *ret_n, sbx_error **err);
void sbx_gc_entries_free(struct sbx_gc_entry *entries, size_t n);

#endif
