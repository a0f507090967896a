/* profile_yaml: libyaml events -> a small tree of nodes with file, line and
 * column. Anchors, aliases, several documents, deep nesting and NUL bytes
 * are refused here, so the rest of the module never meets them. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "sandboxctl/util.h"

#include "profile_internal.h"

static void event_deletep(yaml_event_t *ev)
{
        yaml_event_delete(ev);
}

#define _cleanup_event_ __attribute__((cleanup(event_deletep)))
#define _cleanup_pnode_ __attribute__((cleanup(sbx_pnode_freep)))

struct builder {
        yaml_parser_t parser;
        const char *text;
        size_t len;
        const char *file;
        sbx_error **err;
};

void sbx_pnode_free(struct sbx_pnode *n)
{
        if (!n)
                return;
        for (size_t i = 0; i < n->n; i++) {
                if (n->keys)
                        sbx_pnode_free(n->keys[i]);
                sbx_pnode_free(n->values[i]);
        }
        free(n->keys);
        free(n->values);
        free(n->value);
        free(n);
}

struct sbx_pnode *sbx_pnode_get(const struct sbx_pnode *map, const char *key)
{
        if (!map || map->kind != SBX_PNODE_MAP)
                return NULL;
        for (size_t i = 0; i < map->n; i++)
                if (strcmp(map->keys[i]->value, key) == 0)
                        return map->values[i];
        return NULL;
}

void sbx_pnode_remove(struct sbx_pnode *map, const char *key)
{
        if (!map || map->kind != SBX_PNODE_MAP)
                return;
        for (size_t i = 0; i < map->n; i++) {
                if (strcmp(map->keys[i]->value, key) != 0)
                        continue;
                sbx_pnode_free(map->keys[i]);
                sbx_pnode_free(map->values[i]);
                memmove(&map->keys[i], &map->keys[i + 1], (map->n - i - 1) * sizeof(*map->keys));
                memmove(&map->values[i], &map->values[i + 1],
                        (map->n - i - 1) * sizeof(*map->values));
                map->n--;
                return;
        }
}

bool sbx_pnode_is_null(const struct sbx_pnode *n)
{
        return n && n->kind == SBX_PNODE_SCALAR && n->plain &&
               (n->value[0] == '\0' || strcmp(n->value, "~") == 0 ||
                strcasecmp(n->value, "null") == 0);
}

int sbx_pnode_append(struct sbx_pnode *parent, struct sbx_pnode *key, struct sbx_pnode *value)
{
        size_t n = parent->n;
        if ((n & (n - 1)) == 0) { /* 0 or a power of two: grow to double */
                size_t cap = n ? 2 * n : 1;
                struct sbx_pnode **v = realloc(parent->values, cap * sizeof(*v));
                if (!v)
                        return -ENOMEM;
                parent->values = v;
                if (parent->kind == SBX_PNODE_MAP) {
                        struct sbx_pnode **k = realloc(parent->keys, cap * sizeof(*k));
                        if (!k)
                                return -ENOMEM;
                        parent->keys = k;
                }
        }
        if (parent->kind == SBX_PNODE_MAP)
                parent->keys[n] = key;
        parent->values[n] = value;
        parent->n = n + 1;
        return 0;
}

static int fail_at(struct builder *b, const yaml_mark_t *m, const char *what)
{
        return sbx_error_set(b->err, EINVAL, "%s:%zu:%zu: %s", b->file, m->line + 1,
                             m->column + 1, what);
}

/* Line and column of a byte offset, for reader errors that carry no mark. */
static void offset_to_mark(const struct builder *b, size_t offset, yaml_mark_t *m)
{
        m->line = 0;
        m->column = 0;
        for (size_t i = 0; i < offset && i < b->len; i++) {
                if (b->text[i] == '\n') {
                        m->line++;
                        m->column = 0;
                } else {
                        m->column++;
                }
        }
}

static int syntax_error(struct builder *b)
{
        const yaml_parser_t *p = &b->parser;
        yaml_mark_t m = p->problem_mark;

        if (p->error == YAML_MEMORY_ERROR)
                return sbx_error_errno(b->err, ENOMEM, "%s: parse YAML", b->file);
        if (p->error == YAML_READER_ERROR)
                offset_to_mark(b, p->problem_offset, &m);
        if (p->context)
                return sbx_error_set(b->err, EINVAL,
                                     "%s:%zu:%zu: invalid YAML: %s (%s at line %zu, column %zu)",
                                     b->file, m.line + 1, m.column + 1,
                                     p->problem ? p->problem : "syntax error", p->context,
                                     p->context_mark.line + 1, p->context_mark.column + 1);
        return sbx_error_set(b->err, EINVAL, "%s:%zu:%zu: invalid YAML: %s", b->file,
                             m.line + 1, m.column + 1, p->problem ? p->problem : "syntax error");
}

static int next_event(struct builder *b, yaml_event_t *ev)
{
        if (!yaml_parser_parse(&b->parser, ev))
                return syntax_error(b);
        return 0;
}

static struct sbx_pnode *pnode_new(struct builder *b, enum sbx_pnode_kind kind,
                                   const yaml_mark_t *m)
{
        struct sbx_pnode *n = calloc(1, sizeof(*n));
        if (!n)
                return NULL;
        n->kind = kind;
        n->file = b->file;
        n->line = (unsigned)m->line + 1;
        n->column = (unsigned)m->column + 1;
        return n;
}

static int build_node(struct builder *b, yaml_event_t *ev, unsigned depth, struct sbx_pnode **ret);

static int build_scalar(struct builder *b, yaml_event_t *ev, struct sbx_pnode **ret)
{
        size_t len = ev->data.scalar.length;
        const char *v = (const char *)ev->data.scalar.value;

        if (memchr(v, '\0', len))
                return fail_at(b, &ev->start_mark, "NUL characters are not allowed");
        struct sbx_pnode *n = pnode_new(b, SBX_PNODE_SCALAR, &ev->start_mark);
        if (!n || !(n->value = strndup(v, len))) {
                sbx_pnode_free(n);
                return sbx_error_errno(b->err, ENOMEM, "%s: parse YAML", b->file);
        }
        n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        *ret = n;
        return 0;
}

/* Build the children of a mapping or sequence until its end event. */
static int build_children(struct builder *b, struct sbx_pnode *n, unsigned depth)
{
        yaml_event_type_t end = n->kind == SBX_PNODE_MAP ? YAML_MAPPING_END_EVENT
                                                         : YAML_SEQUENCE_END_EVENT;
        for (;;) {
                _cleanup_event_ yaml_event_t ev = { 0 };
                _cleanup_pnode_ struct sbx_pnode *key = NULL;
                _cleanup_pnode_ struct sbx_pnode *value = NULL;
                int r = next_event(b, &ev);
                if (r < 0)
                        return r;
                if (ev.type == end)
                        return 0;
                if (n->kind == SBX_PNODE_MAP) {
                        r = build_node(b, &ev, depth, &key);
                        if (r < 0)
                                return r;
                        if (key->kind != SBX_PNODE_SCALAR)
                                return fail_at(b, &ev.start_mark, "a key must be a scalar");
                        yaml_event_delete(&ev);
                        r = next_event(b, &ev);
                        if (r < 0)
                                return r;
                }
                r = build_node(b, &ev, depth, &value);
                if (r < 0)
                        return r;
                if (sbx_pnode_append(n, key, value) < 0)
                        return sbx_error_errno(b->err, ENOMEM, "%s: parse YAML", b->file);
                key = value = NULL;
        }
}

static int build_node(struct builder *b, yaml_event_t *ev, unsigned depth, struct sbx_pnode **ret)
{
        enum sbx_pnode_kind kind;

        switch (ev->type) {
        case YAML_ALIAS_EVENT:
                return fail_at(b, &ev->start_mark, "anchors and aliases are not allowed");
        case YAML_SCALAR_EVENT:
                if (ev->data.scalar.anchor)
                        return fail_at(b, &ev->start_mark, "anchors and aliases are not allowed");
                return build_scalar(b, ev, ret);
        case YAML_MAPPING_START_EVENT:
                if (ev->data.mapping_start.anchor)
                        return fail_at(b, &ev->start_mark, "anchors and aliases are not allowed");
                kind = SBX_PNODE_MAP;
                break;
        case YAML_SEQUENCE_START_EVENT:
                if (ev->data.sequence_start.anchor)
                        return fail_at(b, &ev->start_mark, "anchors and aliases are not allowed");
                kind = SBX_PNODE_SEQ;
                break;
        default:
                return fail_at(b, &ev->start_mark, "invalid YAML: unexpected event");
        }
        if (depth + 1 > SBX_PROFILE_MAX_DEPTH)
                return fail_at(b, &ev->start_mark, "nesting deeper than 32 levels");
        _cleanup_pnode_ struct sbx_pnode *n = pnode_new(b, kind, &ev->start_mark);
        if (!n)
                return sbx_error_errno(b->err, ENOMEM, "%s: parse YAML", b->file);
        int r = build_children(b, n, depth + 1);
        if (r < 0)
                return r;
        *ret = sbx_steal_ptr(n);
        return 0;
}

/* After STREAM-START: one document holding one node, then STREAM-END. */
static int build_document(struct builder *b, struct sbx_pnode **ret)
{
        _cleanup_event_ yaml_event_t ev = { 0 };
        _cleanup_pnode_ struct sbx_pnode *root = NULL;
        int r = next_event(b, &ev);
        if (r < 0)
                return r;
        if (ev.type != YAML_DOCUMENT_START_EVENT)
                return fail_at(b, &ev.start_mark, "profile is empty");
        yaml_event_delete(&ev);
        r = next_event(b, &ev);
        if (r < 0)
                return r;
        r = build_node(b, &ev, 0, &root);
        if (r < 0)
                return r;
        if (sbx_pnode_is_null(root))
                return fail_at(b, &ev.start_mark, "profile is empty");
        yaml_event_delete(&ev);
        r = next_event(b, &ev); /* DOCUMENT-END */
        if (r < 0)
                return r;
        yaml_event_delete(&ev);
        r = next_event(b, &ev);
        if (r < 0)
                return r;
        if (ev.type != YAML_STREAM_END_EVENT)
                return fail_at(b, &ev.start_mark, "multiple documents are not allowed");
        *ret = sbx_steal_ptr(root);
        return 0;
}

int sbx_pnode_parse(const char *text, size_t len, const char *file, struct sbx_pnode **ret,
                    sbx_error **err)
{
        struct builder b = { .text = text, .len = len, .file = file, .err = err };
        _cleanup_event_ yaml_event_t ev = { 0 };

        if (len > SBX_PROFILE_MAX_BYTES)
                return sbx_error_set(err, EFBIG, "%s:1:1: profile is larger than 1 MiB (%zu bytes)",
                                     file, len);
        if (!yaml_parser_initialize(&b.parser))
                return sbx_error_errno(err, ENOMEM, "%s: parse YAML", file);
        yaml_parser_set_input_string(&b.parser, (const unsigned char *)text, len);
        int r = next_event(&b, &ev);
        if (r >= 0)
                r = build_document(&b, ret);
        yaml_parser_delete(&b.parser);
        return r;
}
