/* registry-internal: what registry.c, registry_names.c, state.c and
 * statedir.c share. The caller holds the registry lock where it says so. */
#ifndef SANDBOXCTL_REGISTRY_INTERNAL_H
#define SANDBOXCTL_REGISTRY_INTERNAL_H

#include <stdbool.h>

#include "sandboxctl/error.h"
#include "sandboxctl/runtime.h"
#include "sandboxctl/state.h"

/* registry.c: add an entry: the dir and its first state.json. By default a
 * long-lived sandbox (0711, fsync'ed, its name checked and indexed under the
 * registry lock); REGISTRY_RUN: run's throwaway one (0700, not fsync'ed,
 * name not indexed). */
enum { REGISTRY_RUN = 1u << 0 };
int registry_add(const char *state_dir, const struct sbx_sandbox *sb, unsigned flags,
                 sbx_error **err);
/* Remove the entry's dir, not its name link. */
int registry_remove_entry(const char *state_dir, const char *id, sbx_error **err);

/* state.c: write state.json atomically (temp + rename), with fsync of the
 * file and the dir when durable. */
int registry_write_state(const char *state_dir, const struct sbx_sandbox *sb, bool durable,
                         sbx_error **err);

/* registry_names.c */

/* The sandbox names/<name> points at, and whether it lives. -ENOENT: no
 * link, or a stale one (its target is gone or has another name). */
int registry_name_lookup(const char *state_dir, const char *name, char ret_id[SBX_ID_LEN + 1],
                         bool *ret_live);
/* EEXIST if a live sandbox holds the name. Registry lock held. */
int registry_name_check_free(const char *state_dir, const char *name, sbx_error **err);
/* Point names/<name> at id, atomically. Registry lock held. */
int registry_name_link(const char *state_dir, const char *name, const char *id, sbx_error **err);
/* Remove the link that points at id (takes the registry lock). */
void registry_name_drop(const char *state_dir, const char *id);

#endif
