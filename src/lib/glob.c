/* glob: gitignore-style pattern matching on root-relative paths. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sandboxctl/util.h"
#include "sandboxctl/watch.h"

/* The ']' that closes the class whose body starts at p (just after '['), or
 * NULL. A ']' first in the body (after any '!' or '^') is a literal. */
static const char *class_end(const char *p)
{
        if (*p == '!' || *p == '^')
                p++;
        if (*p == ']')
                p++;
        while (*p && *p != ']') {
                if (*p == '\\' && p[1])
                        p++;
                p++;
        }
        return *p == ']' ? p : NULL;
}

static bool class_has(const char *p, const char *end, unsigned char c)
{
        bool negated = *p == '!' || *p == '^';
        bool found = false;

        if (negated)
                p++;
        while (p < end) {
                unsigned char lo = (unsigned char)*p;
                if (lo == '\\' && p + 1 < end)
                        lo = (unsigned char)*++p;
                p++;
                if (p + 1 < end && *p == '-') {
                        unsigned char hi = (unsigned char)p[1];
                        p += 2;
                        if (hi == '\\' && p < end)
                                hi = (unsigned char)*p++;
                        if (lo <= c && c <= hi)
                                found = true;
                } else if (lo == c) {
                        found = true;
                }
        }
        return found != negated;
}

static bool match_from(const char *pat, const char *p, const char *s);

/* `**` standing as a whole segment at p: trailing, it matches everything
 * below; followed by '/', zero or more whole directories. */
static bool match_double_star(const char *pat, const char *p, const char *s)
{
        if (p[2] == '\0')
                return true;
        for (const char *t = s;;) {
                if (match_from(pat, p + 3, t))
                        return true;
                t = strchr(t, '/');
                if (!t)
                        return false;
                t++;
        }
}

static bool match_star(const char *pat, const char *p, const char *s)
{
        while (*p == '*')
                p++; /* "a**b" is "a*b", as in gitignore */
        for (const char *t = s;; t++) {
                if (match_from(pat, p, t))
                        return true;
                if (*t == '\0' || *t == '/')
                        return false;
        }
}

static bool is_double_star(const char *pat, const char *p)
{
        return p[0] == '*' && p[1] == '*' && (p == pat || p[-1] == '/') &&
               (p[2] == '/' || p[2] == '\0');
}

/* Match pattern text p (inside pattern pat) against the rest s of a path. */
static bool match_from(const char *pat, const char *p, const char *s)
{
        while (*p) {
                if (*p == '*') {
                        if (is_double_star(pat, p))
                                return match_double_star(pat, p, s);
                        return match_star(pat, p, s);
                }
                if (*p == '?' || *p == '[') {
                        if (*s == '\0' || *s == '/')
                                return false;
                        if (*p == '[') {
                                const char *end = class_end(p + 1);
                                if (!class_has(p + 1, end, (unsigned char)*s))
                                        return false;
                                p = end;
                        }
                        p++;
                        s++;
                        continue;
                }
                if (*p == '\\')
                        p++;
                if (*p != *s)
                        return false;
                p++;
                s++;
        }
        return *s == '\0';
}

static int glob_check(const char *pattern, sbx_error **err)
{
        for (const char *p = pattern; *p; p++) {
                if (*p == '\\') {
                        if (!p[1])
                                return sbx_error_set(err, EINVAL, "\"%s\": trailing backslash",
                                                     pattern);
                        p++;
                } else if (*p == '[') {
                        const char *end = class_end(p + 1);
                        if (!end)
                                return sbx_error_set(err, EINVAL, "\"%s\": unterminated [...]",
                                                     pattern);
                        p = end;
                }
        }
        return 0;
}

int sbx_glob_init(struct sbx_glob *g, const char *text, bool allow_negate, sbx_error **err)
{
        bool negate = false, anchored = false, dir_only = false;
        const char *start = text;

        if (allow_negate && *start == '!') {
                negate = true;
                start++;
        }
        if (start[0] == '.' && start[1] == '/') {
                anchored = true;
                start += 2;
        }
        while (*start == '/') {
                anchored = true;
                start++;
        }
        size_t len = strlen(start);
        while (len > 0 && start[len - 1] == '/' && (len < 2 || start[len - 2] != '\\')) {
                dir_only = true;
                len--;
        }
        if (len == 0)
                return sbx_error_set(err, EINVAL, "\"%s\": empty pattern", text);
        sbx_autofree char *pattern = strndup(start, len);
        if (!pattern)
                return sbx_error_errno(err, ENOMEM, "glob \"%s\"", text);
        int r = glob_check(pattern, err);
        if (r < 0)
                return r;
        g->anchored = anchored || strchr(pattern, '/') != NULL;
        g->dir_only = dir_only;
        g->negate = negate;
        g->pattern = sbx_steal_ptr(pattern);
        return 0;
}

void sbx_glob_done(struct sbx_glob *g)
{
        if (!g)
                return;
        free(g->pattern);
        g->pattern = NULL;
}

bool sbx_glob_match(const struct sbx_glob *g, const char *path, bool is_dir)
{
        if (g->dir_only && !is_dir)
                return false;
        const char *subject = path;
        if (!g->anchored) {
                const char *slash = strrchr(path, '/');
                if (slash)
                        subject = slash + 1;
        }
        return match_from(g->pattern, g->pattern, subject);
}

bool sbx_glob_covers_dir(const struct sbx_glob *g, const char *dir)
{
        if (g->negate)
                return false;
        if (sbx_glob_match(g, dir, true))
                return true;
        size_t len = strlen(g->pattern);
        if (!g->anchored || len < 4 || strcmp(g->pattern + len - 3, "/**") != 0)
                return false;
        sbx_autofree char *prefix = strndup(g->pattern, len - 3);
        if (!prefix)
                return false;
        return match_from(prefix, prefix, dir);
}

int sbx_globset_init(struct sbx_globset *s, const char *what, const struct sbx_strv *patterns,
                     sbx_error **err)
{
        s->items = NULL;
        s->n = 0;
        if (!patterns || patterns->n == 0)
                return 0;
        struct sbx_glob *items = calloc(patterns->n, sizeof(*items));
        if (!items)
                return sbx_error_errno(err, ENOMEM, "%s", what);
        for (size_t i = 0; i < patterns->n; i++) {
                int r = sbx_glob_init(&items[i], patterns->items[i], false, err);
                if (r < 0) {
                        for (size_t j = 0; j < i; j++)
                                sbx_glob_done(&items[j]);
                        free(items);
                        return sbx_error_prefix(err, r, "%s[%zu]", what, i);
                }
        }
        s->items = items;
        s->n = patterns->n;
        return 0;
}

void sbx_globset_done(struct sbx_globset *s)
{
        if (!s)
                return;
        for (size_t i = 0; i < s->n; i++)
                sbx_glob_done(&s->items[i]);
        free(s->items);
        s->items = NULL;
        s->n = 0;
}

static bool globset_match_one(const struct sbx_globset *s, const char *path, bool is_dir)
{
        for (size_t i = 0; i < s->n; i++)
                if (sbx_glob_match(&s->items[i], path, is_dir))
                        return true;
        return false;
}

bool sbx_globset_match(const struct sbx_globset *s, const char *path, bool is_dir)
{
        if (s->n == 0)
                return false;
        sbx_autofree char *buf = strdup(path);
        if (!buf)
                return false;
        for (char *slash = strchr(buf, '/'); slash; slash = strchr(slash + 1, '/')) {
                *slash = '\0';
                bool hit = globset_match_one(s, buf, true);
                *slash = '/';
                if (hit)
                        return true;
        }
        return globset_match_one(s, path, is_dir);
}
