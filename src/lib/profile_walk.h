/* profile_walk: what profile_schema.c's key table is walked with (see
 * profile_walk.c). Every function reports its problems into the context's
 * error list and goes on; none of them stops the walk. */
#ifndef SANDBOXCTL_PROFILE_WALK_H
#define SANDBOXCTL_PROFILE_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sandboxctl/spec.h"

#include "profile_internal.h"

struct vctx {
        struct sbx_errlist *errors;
        struct sbx_spec *spec;
        /* the list item being filled by the keys of tmpfs and binds entries */
        struct sbx_tmpfs *tmpfs;
        struct sbx_bind *bind;
};

typedef void (*apply_fn)(struct vctx *c, const struct sbx_pnode *n, const char *path);

struct key_def {
        const char *name;
        apply_fn apply;
};

#define report(c, n, path, ...) sbx_errlist_add((c)->errors, (n), (path), __VA_ARGS__)

void sbx_pw_oom(struct vctx *c);
/* The text of E (or "invalid value") as an error line at N. */
void sbx_pw_report_error(struct vctx *c, const struct sbx_pnode *n, const char *path,
                         sbx_error *e);
/* "a.b" + "c" -> "a.b.c"; "a" + 2 -> "a[2]". NULL when out of memory. */
char *sbx_pw_path_key(const char *path, const char *key);
char *sbx_pw_path_index(const char *path, size_t i);

/* A mapping whose keys come from DEFS, each applied in turn. Absent = empty. */
void sbx_pw_apply_map(struct vctx *c, const struct sbx_pnode *n, const char *path,
                      const struct key_def *defs, size_t n_defs);
#define APPLY_MAP(c, n, path, defs) \
        sbx_pw_apply_map((c), (n), (path), (defs), SBX_ARRAY_SIZE(defs))

/* Points the context at item I of a list being filled (see apply_map_items). */
typedef void (*item_select)(struct vctx *c, void *items, size_t i);
/* Each item of the list N is a mapping of DEFS that must have the keys
 * REQUIRED; SELECT points the context at the item before its keys are
 * applied. True when nothing was reported. */
bool sbx_pw_apply_map_items(struct vctx *c, const struct sbx_pnode *n, const char *path,
                            const struct key_def *defs, size_t n_defs,
                            const char *const *required, size_t n_required,
                            item_select select, void *items);
#define APPLY_MAP_ITEMS(c, n, path, defs, required, select, items)                          \
        sbx_pw_apply_map_items((c), (n), (path), (defs), SBX_ARRAY_SIZE(defs), (required), \
                               SBX_ARRAY_SIZE(required), (select), (items))

/* True (after reporting) if key I of the mapping MAP repeats an earlier key. */
bool sbx_pw_check_duplicate(struct vctx *c, const struct sbx_pnode *map, size_t i,
                            const char *path);

/* The text of a scalar value, or NULL after reporting. */
const char *sbx_pw_scalar(struct vctx *c, const struct sbx_pnode *n, const char *path);
/* A list (absent = empty), or false after reporting. */
bool sbx_pw_is_list(struct vctx *c, const struct sbx_pnode *n, const char *path);
size_t sbx_pw_list_len(const struct sbx_pnode *n);

/* One of NAMES; *ret = its index. */
bool sbx_pw_parse_enum(struct vctx *c, const struct sbx_pnode *n, const char *path,
                       const char *const *names, size_t count, int *ret);
#define PARSE_ENUM(c, n, path, names, ret) \
        sbx_pw_parse_enum((c), (n), (path), (names), SBX_ARRAY_SIZE(names), (ret))
bool sbx_pw_parse_bool(struct vctx *c, const struct sbx_pnode *n, const char *path, bool *ret);

typedef int (*unit_parser)(const char *s, uint64_t *ret, sbx_error **err);
/* A size, duration or CPU value read by PARSE (units.h). */
bool sbx_pw_parse_unit(struct vctx *c, const struct sbx_pnode *n, const char *path,
                       unit_parser parse, uint64_t *ret);
bool sbx_pw_parse_count(struct vctx *c, const struct sbx_pnode *n, const char *path,
                        uint64_t min, uint64_t max, uint64_t *ret);

/* Replace *dst with a copy of a string value. */
void sbx_pw_set_string(struct vctx *c, char **dst, const char *v);
bool sbx_pw_check_absolute(struct vctx *c, const struct sbx_pnode *n, const char *path,
                           const char *v);

typedef bool (*item_check)(struct vctx *c, const struct sbx_pnode *n, const char *path,
                           const char *v);
/* A list of strings, each checked by CHECK (may be NULL); replaces *dst. */
void sbx_pw_apply_strv(struct vctx *c, const struct sbx_pnode *n, const char *path,
                       struct sbx_strv *dst, item_check check);

#endif
