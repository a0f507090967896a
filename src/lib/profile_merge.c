/* profile_merge: `extends`. A profile's parent is loaded (recursively),
 * checked on its own, and the child's tree is merged over it: mappings merge
 * key by key, the child wins, lists and scalars are replaced whole. A parent's
 * `name` is not inherited. Cycles and over-long chains are errors. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sandboxctl/profile.h"
#include "sandboxctl/util.h"

#include "profile_internal.h"

static ssize_t map_find(const struct sbx_pnode *map, const char *key)
{
        for (size_t i = 0; i < map->n; i++)
                if (strcmp(map->keys[i]->value, key) == 0)
                        return (ssize_t)i;
        return -1;
}

/* Merge the map C into the map P; C's entries move into P. */
static int merge_maps(struct sbx_pnode *p, struct sbx_pnode *c)
{
        int r = 0;
        size_t i;

        for (i = 0; i < c->n && r >= 0; i++) {
                struct sbx_pnode *key = c->keys[i], *value = c->values[i];
                ssize_t at = map_find(p, key->value);
                c->keys[i] = c->values[i] = NULL;
                if (at < 0) {
                        r = sbx_pnode_append(p, key, value);
                        if (r < 0) {
                                sbx_pnode_free(key);
                                sbx_pnode_free(value);
                        }
                        continue;
                }
                if (p->values[at]->kind == SBX_PNODE_MAP && value->kind == SBX_PNODE_MAP) {
                        r = merge_maps(p->values[at], value);
                        sbx_pnode_free(key);
                        sbx_pnode_free(value);
                        continue;
                }
                sbx_pnode_free(p->keys[at]);
                sbx_pnode_free(p->values[at]);
                p->keys[at] = key;
                p->values[at] = value;
        }
        /* on failure, free what was not moved */
        for (; i < c->n; i++) {
                sbx_pnode_free(c->keys[i]);
                sbx_pnode_free(c->values[i]);
                c->keys[i] = c->values[i] = NULL;
        }
        return r;
}

struct sbx_pnode *sbx_pnode_merge(struct sbx_pnode *parent, struct sbx_pnode *child)
{
        if (parent->kind != SBX_PNODE_MAP || child->kind != SBX_PNODE_MAP) {
                sbx_pnode_free(parent);
                return child;
        }
        int r = merge_maps(parent, child);
        sbx_pnode_free(child);
        if (r < 0) {
                sbx_pnode_free(parent);
                return NULL;
        }
        return parent;
}

/* The profiles being loaded, outermost first, to find cycles. */
struct chain {
        const char *ids[SBX_PROFILE_MAX_EXTENDS + 1];
        const char *displays[SBX_PROFILE_MAX_EXTENDS + 1];
        size_t n;
};

struct loader {
        struct sbx_strv *files;
        struct chain chain;
};

static char *chain_name(const char *display)
{
        if (strcmp(display, SBX_PROFILE_BUILTIN_SOURCE) == 0)
                return strdup(SBX_PROFILE_DEFAULT);
        return sbx_path_stem(display);
}

/* "a -> b -> a": the chain from where ID first appears, then ID again. */
static int cycle_error(const struct loader *l, const struct sbx_pnode *at, const char *id,
                       const char *display, sbx_error **err)
{
        sbx_autofree char *text = NULL;
        size_t len = 0, first = 0;
        FILE *f = open_memstream(&text, &len);

        if (!f)
                return sbx_error_errno(err, ENOMEM, "describe extends cycle");
        while (first < l->chain.n && strcmp(l->chain.ids[first], id) != 0)
                first++;
        for (size_t i = first; i <= l->chain.n; i++) {
                sbx_autofree char *name =
                        chain_name(i < l->chain.n ? l->chain.displays[i] : display);
                fprintf(f, "%s%s", i > first ? " -> " : "", name ? name : "?");
        }
        if (fclose(f) != 0 || !text)
                return sbx_error_errno(err, ENOMEM, "describe extends cycle");
        return sbx_error_set(err, ELOOP, "%s:%u:%u: extends: cycle %s", at->file, at->line,
                             at->column, text);
}

struct source {
        char *text; /* owned, unless builtin */
        size_t len;
        char *display;
        char *id;
        bool builtin;
};

static void source_clear(struct source *s)
{
        if (!s->builtin)
                free(s->text);
        free(s->display);
        free(s->id);
}

static int resolve_by_path(const struct sbx_pnode *ext, struct source *s, sbx_error **err)
{
        char real[PATH_MAX];
        sbx_autofree char *dir = sbx_path_dirname(ext->file);

        if (!dir)
                return sbx_error_errno(err, ENOMEM, "resolve extends");
        s->display = sbx_path_join_normalize(dir, ext->value);
        if (!s->display)
                return sbx_error_errno(err, ENOMEM, "resolve extends");
        if (!realpath(s->display, real))
                return sbx_error_errno(err, errno, "open %s", s->display);
        s->id = strdup(real);
        if (!s->id)
                return sbx_error_errno(err, ENOMEM, "resolve extends");
        return sbx_profile_read_file(s->display, &s->text, &s->len, err);
}

static int resolve_parent(const struct sbx_pnode *ext, struct source *s, sbx_error **err)
{
        char real[PATH_MAX];

        if (sbx_profile_is_path(ext->value))
                return resolve_by_path(ext, s, err);
        int r = sbx_profile_find(ext->value, &s->display, err);
        if (r < 0)
                return r;
        if (strcmp(s->display, SBX_PROFILE_BUILTIN_SOURCE) == 0) {
                s->builtin = true;
                s->text = (char *)sbx_profile_builtin_text();
                s->len = strlen(s->text);
                s->id = strdup(SBX_PROFILE_BUILTIN_SOURCE);
                return s->id ? 0 : sbx_error_errno(err, ENOMEM, "resolve extends");
        }
        s->id = strdup(realpath(s->display, real) ? real : s->display);
        if (!s->id)
                return sbx_error_errno(err, ENOMEM, "resolve extends");
        return sbx_profile_read_file(s->display, &s->text, &s->len, err);
}

static int load_tree(struct loader *l, const char *text, size_t len, const char *display,
                     const char *id, struct sbx_pnode **ret, sbx_error **err);

/* Load the parent named by EXT and merge *TREE over it. */
static int apply_extends(struct loader *l, const struct sbx_pnode *ext, struct sbx_pnode **tree,
                         sbx_error **err)
{
        struct source s = { 0 };
        struct sbx_pnode *parent = NULL;
        int r = resolve_parent(ext, &s, err);

        if (r < 0) {
                source_clear(&s);
                return sbx_error_prefix(err, r, "%s:%u:%u: extends", ext->file, ext->line,
                                        ext->column);
        }
        for (size_t i = 0; i < l->chain.n; i++)
                if (strcmp(l->chain.ids[i], s.id) == 0) {
                        r = cycle_error(l, ext, s.id, s.display, err);
                        source_clear(&s);
                        return r;
                }
        if (l->chain.n >= SBX_PROFILE_MAX_EXTENDS) {
                source_clear(&s);
                return sbx_error_set(err, ELOOP, "%s:%u:%u: extends: more than %d levels of "
                                     "extends", ext->file, ext->line, ext->column,
                                     SBX_PROFILE_MAX_EXTENDS);
        }
        r = load_tree(l, s.text, s.len, s.display, s.id, &parent, err);
        source_clear(&s);
        if (r < 0)
                return r;
        sbx_pnode_remove(parent, "name");
        sbx_pnode_remove(parent, "extends");
        *tree = sbx_pnode_merge(parent, *tree);
        return *tree ? 0 : sbx_error_errno(err, ENOMEM, "merge profiles");
}

/* Parse TEXT and check it against the schema on its own. */
static int parse_checked(const char *text, size_t len, const char *file, struct sbx_pnode **ret,
                         sbx_error **err)
{
        __attribute__((cleanup(sbx_pnode_freep))) struct sbx_pnode *tree = NULL;
        __attribute__((cleanup(sbx_spec_freep))) struct sbx_spec *scratch = NULL;
        struct sbx_errlist errors = { 0 };

        int r = sbx_pnode_parse(text, len, file, &tree, err);
        if (r < 0)
                return r;
        r = sbx_spec_new_default(&scratch, err);
        if (r < 0)
                return r;
        r = sbx_profile_apply(tree, scratch, &errors);
        if (r < 0 || errors.count > 0) {
                if (r < 0 || !errors.text)
                        r = sbx_error_errno(err, ENOMEM, "%s: check profile", file);
                else
                        r = sbx_error_set(err, EINVAL, "%s", errors.text);
                sbx_errlist_clear(&errors);
                return r;
        }
        *ret = sbx_steal_ptr(tree);
        return 0;
}

static int load_tree(struct loader *l, const char *text, size_t len, const char *display,
                     const char *id, struct sbx_pnode **ret, sbx_error **err)
{
        __attribute__((cleanup(sbx_pnode_freep))) struct sbx_pnode *tree = NULL;

        if (sbx_strv_push(l->files, display) < 0)
                return sbx_error_errno(err, ENOMEM, "load %s", display);
        const char *file = l->files->items[l->files->n - 1];
        int r = parse_checked(text, len, file, &tree, err);
        if (r < 0)
                return r;
        const struct sbx_pnode *ext = sbx_pnode_get(tree, "extends");
        if (ext) {
                l->chain.ids[l->chain.n] = id;
                l->chain.displays[l->chain.n] = display;
                l->chain.n++;
                r = apply_extends(l, ext, &tree, err);
                l->chain.n--;
                if (r < 0)
                        return r;
        }
        *ret = sbx_steal_ptr(tree);
        return 0;
}

int sbx_profile_load_tree(const char *text, size_t len, const char *display, const char *id,
                          struct sbx_strv *files, struct sbx_pnode **ret, sbx_error **err)
{
        struct loader l = { .files = files };
        return load_tree(&l, text, len, display, id, ret, err);
}
