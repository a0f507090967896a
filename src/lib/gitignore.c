/* gitignore: the rules of a tree's .gitignore files, as git applies them. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sandboxctl/util.h"
#include "sandboxctl/watch.h"
#include "src/lib/watch_internal.h"

#define GITIGNORE_MAX_BYTES (4u << 20)

struct gi_rules {
        struct sbx_glob *items;
        size_t n;
};

struct sbx_gitignore {
        struct sbx_strmap dirs; /* directory ("" = root) -> struct gi_rules * */
        size_t files; /* directories with rules */
};

static void rules_free(void *p)
{
        struct gi_rules *rules = p;
        if (!rules)
                return;
        for (size_t i = 0; i < rules->n; i++)
                sbx_glob_done(&rules->items[i]);
        free(rules->items);
        free(rules);
}

int sbx_gitignore_new(struct sbx_gitignore **ret, sbx_error **err)
{
        struct sbx_gitignore *gi = calloc(1, sizeof(*gi));
        if (!gi)
                return sbx_error_errno(err, ENOMEM, "gitignore");
        *ret = gi;
        return 0;
}

void sbx_gitignore_free(struct sbx_gitignore *gi)
{
        if (!gi)
                return;
        sbx_strmap_clear(&gi->dirs, rules_free);
        free(gi);
}

/* One line of a .gitignore file into *g: 1 if it is a rule, 0 if it is
 * blank, a comment or malformed (git skips those too). */
static int parse_line(char *line, struct sbx_glob *g)
{
        size_t len = strlen(line);
        if (len > 0 && line[len - 1] == '\r')
                line[--len] = '\0';
        while (len > 0 && line[len - 1] == ' ' && !(len >= 2 && line[len - 2] == '\\'))
                line[--len] = '\0';
        if (len == 0 || line[0] == '#')
                return 0;
        return sbx_glob_init(g, line, true, NULL) < 0 ? 0 : 1;
}

static int rules_parse(const char *text, struct gi_rules **ret)
{
        sbx_autofree char *copy = strdup(text);
        struct gi_rules *rules = calloc(1, sizeof(*rules));
        size_t cap = 0;

        if (!copy || !rules) {
                free(rules);
                return -ENOMEM;
        }
        char *save = NULL;
        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                struct sbx_glob g;
                if (parse_line(line, &g) == 0)
                        continue;
                if (rules->n == cap) {
                        cap = cap ? cap * 2 : 8;
                        struct sbx_glob *items = realloc(rules->items, cap * sizeof(*items));
                        if (!items) {
                                sbx_glob_done(&g);
                                rules_free(rules);
                                return -ENOMEM;
                        }
                        rules->items = items;
                }
                rules->items[rules->n++] = g;
        }
        *ret = rules;
        return 0;
}

int sbx_gitignore_set(struct sbx_gitignore *gi, const char *dir, const char *text, sbx_error **err)
{
        struct gi_rules *rules = NULL;
        struct sbx_strmap_entry *e = sbx_strmap_find(&gi->dirs, dir);

        if (!text && !e)
                return 0;
        if (text && rules_parse(text, &rules) < 0)
                return sbx_error_errno(err, ENOMEM, "gitignore rules of \"%s\"", dir);
        if (!e) {
                bool made;
                e = sbx_strmap_insert(&gi->dirs, dir, &made);
                if (!e) {
                        rules_free(rules);
                        return sbx_error_errno(err, ENOMEM, "gitignore rules of \"%s\"", dir);
                }
        }
        if (e->value)
                gi->files--;
        rules_free(e->value);
        e->value = rules;
        if (rules)
                gi->files++;
        return 0;
}

int sbx_gitignore_load(struct sbx_gitignore *gi, const char *root, const char *dir, sbx_error **err)
{
        sbx_autofree char *rel = sbx_watch_join(dir, ".gitignore");
        sbx_autofree char *path = rel ? sbx_watch_join(root, rel) : NULL;
        if (!path)
                return sbx_error_errno(err, ENOMEM, "gitignore of \"%s\"", dir);
        sbx_autoclose int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0 && (errno == ENOENT || errno == ENOTDIR))
                return sbx_gitignore_set(gi, dir, NULL, err);
        if (fd < 0)
                return sbx_error_errno(err, errno, "open %s", path);
        sbx_autofree char *text = NULL;
        int r = sbx_read_fd(fd, GITIGNORE_MAX_BYTES, &text, NULL);
        if (r < 0)
                return sbx_error_errno(err, -r, "read %s", path);
        r = sbx_gitignore_set(gi, dir, text, err);
        return r < 0 ? r : 1;
}

/* The verdict of the rules for `path` alone (its parents not considered):
 * 1 ignored, 0 re-included by a '!' rule, -1 no rule matches. The deepest
 * .gitignore decides first, and in it the last matching line. */
static int decide(const struct sbx_gitignore *gi, char *path, bool is_dir)
{
        for (size_t k = strlen(path);;) {
                while (k > 0 && path[k - 1] != '/')
                        k--;
                size_t dirlen = k ? k - 1 : 0;
                char saved = path[dirlen];
                path[dirlen] = '\0';
                struct sbx_strmap_entry *e = sbx_strmap_find(&gi->dirs, path);
                path[dirlen] = saved;
                const struct gi_rules *rules = e ? e->value : NULL;
                for (size_t i = rules ? rules->n : 0; i > 0; i--) {
                        const struct sbx_glob *g = &rules->items[i - 1];
                        if (sbx_glob_match(g, path + k, is_dir))
                                return g->negate ? 0 : 1;
                }
                if (k == 0)
                        return -1;
                k--;
        }
}

bool sbx_gitignore_ignored(const struct sbx_gitignore *gi, const char *path, bool is_dir)
{
        if (!gi || gi->files == 0)
                return false;
        sbx_autofree char *buf = strdup(path);
        if (!buf)
                return false;
        /* Nothing below an ignored directory can be re-included. */
        for (char *slash = strchr(buf, '/'); slash; slash = strchr(slash + 1, '/')) {
                *slash = '\0';
                int v = decide(gi, buf, true);
                *slash = '/';
                if (v == 1)
                        return true;
        }
        return decide(gi, buf, is_dir) == 1;
}
