/* registry-internal: the name index (registry_names.c) as registry.c uses
 * it. The caller holds the registry lock where it says so. */
#ifndef SANDBOXCTL_REGISTRY_INTERNAL_H
#define SANDBOXCTL_REGISTRY_INTERNAL_H

#include <stdbool.h>

#include "sandboxctl/error.h"
#include "sandboxctl/runtime.h"

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
