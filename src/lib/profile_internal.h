/* profile_internal: what the profile module's files share and nothing else
 * sees: the YAML node tree, the schema pass, merging and lookup helpers. */
#ifndef SANDBOXCTL_PROFILE_INTERNAL_H
#define SANDBOXCTL_PROFILE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "sandboxctl/error.h"
#include "sandboxctl/spec.h"

#define SBX_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define SBX_PROFILE_MAX_BYTES (1024 * 1024)
#define SBX_PROFILE_MAX_DEPTH 32
#define SBX_PROFILE_MAX_EXTENDS 32
#define SBX_PIDS_MAX 4194304
#define SBX_OPEN_FILES_MIN 16
#define SBX_OPEN_FILES_MAX 1048576
#define SBX_TMPFS_DEFAULT_SIZE (64ULL << 20)

/* spec.c */
int sbx_spec_new_default(struct sbx_spec **ret, sbx_error **err);
int sbx_strv_copy(struct sbx_strv *dst, const struct sbx_strv *src);
void sbx_spec_clear_tmpfs(struct sbx_filesystem *fs);
void sbx_spec_clear_binds(struct sbx_filesystem *fs);

/* spec_validate.c */
bool sbx_hostname_is_valid(const char *s);
bool sbx_env_name_is_valid(const char *s, size_t len);
bool sbx_profile_name_is_valid(const char *s);
/* "HUP", "SIGHUP", "usr1" -> signal number; -EINVAL if unknown. */
int sbx_signal_from_name(const char *name, int *ret);
/* 1 -> "HUP"; NULL if unknown. */
const char *sbx_signal_to_name(int sig);

/* profile_yaml.c: a YAML document as a small tree. Each node knows the file
 * it came from (not owned: the string outlives the tree) and its 1-based
 * position, so that errors point at the right place after a merge. */
enum sbx_pnode_kind {
        SBX_PNODE_SCALAR,
        SBX_PNODE_MAP,
        SBX_PNODE_SEQ,
};

struct sbx_pnode {
        enum sbx_pnode_kind kind;
        const char *file;
        unsigned line, column;
        char *value;  /* scalar text */
        bool plain;   /* scalar written without quotes */
        size_t n;     /* entries of a map or items of a seq */
        struct sbx_pnode **keys;   /* map: scalar key nodes */
        struct sbx_pnode **values; /* map values or seq items */
};

int sbx_pnode_parse(const char *text, size_t len, const char *file, struct sbx_pnode **ret,
                    sbx_error **err);
void sbx_pnode_free(struct sbx_pnode *n);
static inline void sbx_pnode_freep(struct sbx_pnode **n)
{
        sbx_pnode_free(*n);
}
/* The value for KEY in a map (first occurrence), or NULL. */
struct sbx_pnode *sbx_pnode_get(const struct sbx_pnode *map, const char *key);
/* Append to a map (KEY non-NULL) or a sequence; takes both on success. */
int sbx_pnode_append(struct sbx_pnode *parent, struct sbx_pnode *key, struct sbx_pnode *value);
/* Remove KEY from a map, freeing its key and value. */
void sbx_pnode_remove(struct sbx_pnode *map, const char *key);
/* An empty plain scalar, "~" or "null": an absent value. */
bool sbx_pnode_is_null(const struct sbx_pnode *n);

/* profile_merge.c: merge CHILD over PARENT (both consumed): mappings merge
 * key by key, anything else is replaced by the child's value. */
struct sbx_pnode *sbx_pnode_merge(struct sbx_pnode *parent, struct sbx_pnode *child);

/* Parse, check and resolve `extends` of one profile text into a merged tree.
 * FILES keeps the file names that the nodes point at; free it after the tree. */
int sbx_profile_load_tree(const char *text, size_t len, const char *display, const char *id,
                          struct sbx_strv *files, struct sbx_pnode **ret, sbx_error **err);

/* profile_schema.c: check TREE against the schema and apply it to SPEC.
 * Every problem is appended to *errors as one line; returns -ENOMEM only. */
struct sbx_errlist {
        char *text; /* lines joined by '\n' */
        size_t len;
        size_t count;
        bool oom;
};
void sbx_errlist_add(struct sbx_errlist *l, const struct sbx_pnode *at, const char *path,
                     const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void sbx_errlist_clear(struct sbx_errlist *l);
int sbx_profile_apply(const struct sbx_pnode *tree, struct sbx_spec *spec,
                      struct sbx_errlist *errors);

/* spec_json.c: the spec as a JSON object in schema order (for JSON and YAML). */
struct json_t;
int sbx_spec_to_json_object(const struct sbx_spec *spec, struct json_t **ret, sbx_error **err);

/* profile_lookup.c */
bool sbx_profile_is_path(const char *name_or_path);
/* dir + "/" + rel, with "." and ".." folded away lexically. */
char *sbx_path_join_normalize(const char *dir, const char *rel);
/* The directory part of PATH ("." when none). */
char *sbx_path_dirname(const char *path);
/* File name without directory and without ".yaml"/".yml". */
char *sbx_path_stem(const char *path);
/* VALUE resolved against the directory of FILE, made absolute. */
char *sbx_profile_resolve_relative(const char *file, const char *value);
/* Find NAME along the lookup path; -ENOENT with "searched" list. */
int sbx_profile_find(const char *name, char **ret_path, sbx_error **err);
/* Read a profile file (regular, at most 1 MiB). */
int sbx_profile_read_file(const char *path, char **ret_text, size_t *ret_len, sbx_error **err);

#endif
