/* profile_walk: the walk of a profile's YAML tree against a key table: typed
 * scalars, lists and mappings, unknown and duplicate keys with a did-you-mean,
 * and error lines with file:line:col and the key path. The table itself, and
 * what each key does to a spec, is profile_schema.c. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sandboxctl/units.h"
#include "sandboxctl/util.h"

#include "profile_walk.h"

void sbx_errlist_clear(struct sbx_errlist *l)
{
        free(l->text);
        *l = (struct sbx_errlist){ 0 };
}

void sbx_errlist_add(struct sbx_errlist *l, const struct sbx_pnode *at, const char *path,
                     const char *fmt, ...)
{
        sbx_autofree char *msg = NULL;
        sbx_autofree char *line = NULL;
        va_list ap;

        va_start(ap, fmt);
        int r = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (r < 0 || asprintf(&line, "%s:%u:%u: %s%s%s", at->file, at->line, at->column,
                              path ? path : "", path && *path ? ": " : "", msg) < 0) {
                msg = line = NULL;
                l->oom = true;
                l->count++;
                return;
        }
        size_t n = strlen(line);
        char *text = realloc(l->text, l->len + n + 2);
        if (!text) {
                l->oom = true;
                l->count++;
                return;
        }
        if (l->len)
                text[l->len++] = '\n';
        memcpy(text + l->len, line, n + 1);
        l->len += n;
        l->text = text;
        l->count++;
}

void sbx_pw_oom(struct vctx *c)
{
        c->errors->oom = true;
        c->errors->count++;
}

/* Error text of an sbx_error turned into an error line. */
void sbx_pw_report_error(struct vctx *c, const struct sbx_pnode *n, const char *path,
                         sbx_error *e)
{
        report(c, n, path, "%s", e && e->message ? e->message : "invalid value");
}

char *sbx_pw_path_key(const char *path, const char *key)
{
        char *p = NULL;
        if (asprintf(&p, "%s%s%s", path, *path ? "." : "", key) < 0)
                return NULL;
        return p;
}

char *sbx_pw_path_index(const char *path, size_t i)
{
        char *p = NULL;
        if (asprintf(&p, "%s[%zu]", path, i) < 0)
                return NULL;
        return p;
}

/* Optimal string alignment distance (a swap of two letters counts as one),
 * ignoring case. */
static size_t edit_distance(const char *a, const char *b)
{
        size_t la = strlen(a), lb = strlen(b);
        size_t d[65][65];

        for (size_t i = 0; i <= la; i++)
                d[i][0] = i;
        for (size_t j = 0; j <= lb; j++)
                d[0][j] = j;
        for (size_t i = 1; i <= la; i++) {
                for (size_t j = 1; j <= lb; j++) {
                        size_t cost = tolower((unsigned char)a[i - 1]) !=
                                      tolower((unsigned char)b[j - 1]);
                        size_t v = d[i - 1][j - 1] + cost;
                        if (d[i - 1][j] + 1 < v)
                                v = d[i - 1][j] + 1;
                        if (d[i][j - 1] + 1 < v)
                                v = d[i][j - 1] + 1;
                        if (i > 1 && j > 1 && tolower((unsigned char)a[i - 1]) ==
                                                      tolower((unsigned char)b[j - 2]) &&
                            tolower((unsigned char)a[i - 2]) == tolower((unsigned char)b[j - 1]) &&
                            d[i - 2][j - 2] + 1 < v)
                                v = d[i - 2][j - 2] + 1;
                        d[i][j] = v;
                }
        }
        return d[la][lb];
}

static const char *suggest_key(const char *key, const struct key_def *defs, size_t n)
{
        const char *best = NULL;
        size_t best_d = 3, len = strlen(key);

        if (len > 64)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                if (strlen(defs[i].name) > 64)
                        continue;
                size_t d = edit_distance(key, defs[i].name);
                if (d < best_d && d < len) {
                        best = defs[i].name;
                        best_d = d;
                }
        }
        return best;
}

static void report_unknown_key(struct vctx *c, const struct sbx_pnode *key, const char *path,
                               const struct key_def *defs, size_t n)
{
        const char *hint = suggest_key(key->value, defs, n);
        if (hint)
                report(c, key, path, "unknown key '%s' (did you mean '%s'?)", key->value, hint);
        else
                report(c, key, path, "unknown key '%s'", key->value);
}

/* True (after reporting) if map key i repeats an earlier key. */
bool sbx_pw_check_duplicate(struct vctx *c, const struct sbx_pnode *map, size_t i,
                            const char *path)
{
        for (size_t j = 0; j < i; j++)
                if (strcmp(map->keys[j]->value, map->keys[i]->value) == 0) {
                        report(c, map->keys[i], path, "duplicate key '%s' (first at line %u)",
                               map->keys[i]->value, map->keys[j]->line);
                        return true;
                }
        return false;
}

/* A mapping whose keys come from DEFS. An absent value counts as empty. */
void sbx_pw_apply_map(struct vctx *c, const struct sbx_pnode *n, const char *path,
                      const struct key_def *defs, size_t n_defs)
{
        if (sbx_pnode_is_null(n))
                return;
        if (n->kind != SBX_PNODE_MAP) {
                report(c, n, path, "expected a mapping");
                return;
        }
        for (size_t i = 0; i < n->n; i++) {
                sbx_autofree char *sub = sbx_pw_path_key(path, n->keys[i]->value);
                if (!sub) {
                        sbx_pw_oom(c);
                        return;
                }
                if (sbx_pw_check_duplicate(c, n, i, sub))
                        continue;
                const struct key_def *def = NULL;
                for (size_t k = 0; k < n_defs && !def; k++)
                        if (strcmp(defs[k].name, n->keys[i]->value) == 0)
                                def = &defs[k];
                if (!def) {
                        report_unknown_key(c, n->keys[i], sub, defs, n_defs);
                        continue;
                }
                def->apply(c, n->values[i], sub);
        }
}

/* Report the keys of NAMES missing from the mapping N. */
static bool require_keys(struct vctx *c, const struct sbx_pnode *n, const char *path,
                         const char *const *names, size_t count)
{
        bool ok = true;
        if (n->kind != SBX_PNODE_MAP && !sbx_pnode_is_null(n))
                return false; /* already reported as not a mapping */
        for (size_t i = 0; i < count; i++)
                if (!sbx_pnode_get(n, names[i])) {
                        report(c, n, path, "missing key '%s'", names[i]);
                        ok = false;
                }
        return ok;
}

bool sbx_pw_apply_map_items(struct vctx *c, const struct sbx_pnode *n, const char *path,
                            const struct key_def *defs, size_t n_defs,
                            const char *const *required, size_t n_required,
                            item_select select, void *items)
{
        size_t before = c->errors->count;

        for (size_t i = 0; i < sbx_pw_list_len(n); i++) {
                sbx_autofree char *sub = sbx_pw_path_index(path, i);
                if (!sub) {
                        sbx_pw_oom(c);
                        break;
                }
                select(c, items, i);
                sbx_pw_apply_map(c, n->values[i], sub, defs, n_defs);
                require_keys(c, n->values[i], sub, required, n_required);
        }
        return c->errors->count == before;
}

/* The text of a scalar value, or NULL after reporting. */
const char *sbx_pw_scalar(struct vctx *c, const struct sbx_pnode *n, const char *path)
{
        if (n->kind != SBX_PNODE_SCALAR) {
                report(c, n, path, "expected a scalar");
                return NULL;
        }
        if (sbx_pnode_is_null(n)) {
                report(c, n, path, "missing value");
                return NULL;
        }
        return n->value;
}

/* A list (absent = empty), or false after reporting. */
bool sbx_pw_is_list(struct vctx *c, const struct sbx_pnode *n, const char *path)
{
        if (sbx_pnode_is_null(n))
                return true;
        if (n->kind != SBX_PNODE_SEQ) {
                report(c, n, path, "expected a list");
                return false;
        }
        return true;
}

size_t sbx_pw_list_len(const struct sbx_pnode *n)
{
        return n->kind == SBX_PNODE_SEQ ? n->n : 0;
}

bool sbx_pw_parse_enum(struct vctx *c, const struct sbx_pnode *n, const char *path,
                       const char *const *names, size_t count, int *ret)
{
        const char *v = sbx_pw_scalar(c, n, path);
        char expected[256] = "";

        if (!v)
                return false;
        for (size_t i = 0; i < count; i++)
                if (strcmp(v, names[i]) == 0) {
                        *ret = (int)i;
                        return true;
                }
        for (size_t i = 0; i < count; i++) {
                size_t used = strlen(expected);
                snprintf(expected + used, sizeof(expected) - used, "%s%s",
                         i == 0 ? "" : (i + 1 == count ? " or " : ", "), names[i]);
        }
        report(c, n, path, "invalid value '%s' (expected %s)", v, expected);
        return false;
}

bool sbx_pw_parse_bool(struct vctx *c, const struct sbx_pnode *n, const char *path, bool *ret)
{
        static const char *const yes[] = { "true", "yes", "on" };
        static const char *const no[] = { "false", "no", "off" };
        const char *v = sbx_pw_scalar(c, n, path);

        if (!v)
                return false;
        for (size_t i = 0; i < SBX_ARRAY_SIZE(yes); i++) {
                if (strcasecmp(v, yes[i]) == 0) {
                        *ret = true;
                        return true;
                }
                if (strcasecmp(v, no[i]) == 0) {
                        *ret = false;
                        return true;
                }
        }
        report(c, n, path, "invalid value '%s' (expected true or false)", v);
        return false;
}

bool sbx_pw_parse_unit(struct vctx *c, const struct sbx_pnode *n, const char *path,
                       unit_parser parse, uint64_t *ret)
{
        sbx_autoerror e = NULL;
        const char *v = sbx_pw_scalar(c, n, path);

        if (!v)
                return false;
        if (parse(v, ret, &e) < 0) {
                sbx_pw_report_error(c, n, path, e);
                return false;
        }
        return true;
}

bool sbx_pw_parse_count(struct vctx *c, const struct sbx_pnode *n, const char *path,
                        uint64_t min, uint64_t max, uint64_t *ret)
{
        sbx_autoerror e = NULL;
        const char *v = sbx_pw_scalar(c, n, path);

        if (!v)
                return false;
        if (sbx_parse_count(v, min, max, ret, &e) < 0) {
                sbx_pw_report_error(c, n, path, e);
                return false;
        }
        return true;
}

/* Replace *dst with a copy of a string value. */
void sbx_pw_set_string(struct vctx *c, char **dst, const char *v)
{
        char *copy = strdup(v);
        if (!copy) {
                sbx_pw_oom(c);
                return;
        }
        free(*dst);
        *dst = copy;
}

bool sbx_pw_check_absolute(struct vctx *c, const struct sbx_pnode *n, const char *path,
                           const char *v)
{
        if (v[0] == '/')
                return true;
        report(c, n, path, "expected an absolute path, got '%s'", v);
        return false;
}

/* A list of strings, each checked by CHECK (may be NULL); replaces *dst. */
void sbx_pw_apply_strv(struct vctx *c, const struct sbx_pnode *n, const char *path,
                       struct sbx_strv *dst, item_check check)
{
        struct sbx_strv v = { 0 };
        bool ok = true;

        if (!sbx_pw_is_list(c, n, path))
                return;
        for (size_t i = 0; i < sbx_pw_list_len(n); i++) {
                sbx_autofree char *sub = sbx_pw_path_index(path, i);
                if (!sub) {
                        sbx_pw_oom(c);
                        break;
                }
                const char *s = sbx_pw_scalar(c, n->values[i], sub);
                if (!s || (check && !check(c, n->values[i], sub, s))) {
                        ok = false;
                        continue;
                }
                if (sbx_strv_push(&v, s) < 0)
                        sbx_pw_oom(c);
        }
        if (ok) {
                sbx_strv_clear(dst);
                *dst = v;
        } else {
                sbx_strv_clear(&v);
        }
}
