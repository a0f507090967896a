/* profile: YAML security profiles (libyaml) turned into a resolved spec.
 *
 * A profile names a parent with `extends:` (by name or path); keys merge,
 * the child wins, cycles are errors. Every problem is reported as
 * `file:line:column: key.path: what is wrong`, one per line in the error
 * message, with a did-you-mean suggestion for unknown keys. A malformed file
 * never yields a partly filled spec.
 *
 * Lookup of a NAME: each directory of $SANDBOXCTL_PROFILE_PATH (colon
 * separated), then /etc/sandboxctl/profiles, then the installed data dir
 * (<datadir>/sandboxctl/profiles), as NAME.yaml. Anything with a '/' or
 * ending in ".yaml"/".yml" is a path, used as is. The name "medium" falls
 * back to the copy compiled into the binary when no file is found. */
#ifndef SANDBOXCTL_PROFILE_H
#define SANDBOXCTL_PROFILE_H

#include <stddef.h>

#include "sandboxctl/error.h"
#include "sandboxctl/spec.h"

#define SBX_PROFILE_BUILTIN_SOURCE "<builtin:medium>"
#define SBX_PROFILE_DEFAULT "medium"

/* Find, parse, resolve `extends`, validate. */
int sbx_profile_load(const char *name_or_path, struct sbx_spec **ret_spec, sbx_error **err);

/* Parse a profile held in memory; `filename` is used in messages and to
 * resolve a relative `extends:` path (NULL: relative to the cwd). */
int sbx_profile_load_string(const char *text, size_t len, const char *filename,
                            struct sbx_spec **ret_spec, sbx_error **err);

/* Where NAME would be loaded from: a path, or SBX_PROFILE_BUILTIN_SOURCE. */
int sbx_profile_locate(const char *name_or_path, char **ret_path, sbx_error **err);

/* The YAML text of the built-in medium profile (generated from
 * profiles/medium.yaml at build time). */
const char *sbx_profile_builtin_text(void);

struct sbx_profile_entry {
        char *name;        /* file name without .yaml */
        char *path;        /* or SBX_PROFILE_BUILTIN_SOURCE */
        char *description; /* NULL if the file does not parse */
        bool shadowed;     /* an earlier directory has the same name */
};

/* Every profile visible through the lookup path, in lookup order. */
int sbx_profile_list(struct sbx_profile_entry **ret_entries, size_t *ret_n, sbx_error **err);
void sbx_profile_entries_free(struct sbx_profile_entry *entries, size_t n);

#endif
