/* Tests of the glob matcher: each syntax element matching and not matching,
 * anchoring, directory-only patterns, pruning, and the exact errors. */
#include <criterion/criterion.h>
#include <errno.h>

#include "sandboxctl/watch.h"

static bool match(const char *pattern, const char *path, bool is_dir)
{
        struct sbx_glob g;
        sbx_autoerror e = NULL;
        cr_assert_eq(sbx_glob_init(&g, pattern, true, &e), 0, "%s: %s", pattern,
                     e ? e->message : "");
        bool r = sbx_glob_match(&g, path, is_dir);
        sbx_glob_done(&g);
        return r;
}

#define YES(p, s) cr_expect(match(p, s, false), "\"%s\" should match \"%s\"", p, s)
#define NO(p, s) cr_expect(!match(p, s, false), "\"%s\" should not match \"%s\"", p, s)

static void bad(const char *pattern, const char *msg)
{
        struct sbx_glob g = { .pattern = NULL };
        sbx_autoerror e = NULL;
        cr_assert_eq(sbx_glob_init(&g, pattern, false, &e), -EINVAL, "\"%s\" accepted", pattern);
        cr_assert_not_null(e);
        cr_assert_eq(e->code, EINVAL);
        cr_assert_str_eq(e->message, msg);
        cr_assert_null(g.pattern, "ret changed on failure");
}

Test(glob, star_stays_in_one_component)
{
        YES("*.c", "main.c");
        YES("*.c", "src/deep/main.c");
        NO("*.c", "main.h");
        NO("*.c", "main.c/x");
        YES("src/*.c", "src/main.c");
        NO("src/*.c", "src/sub/main.c");
        NO("src/*.c", "other/src/main.c");
        YES("*", "anything");
        YES("a*b*c", "aXXbYYc");
        NO("a*b*c", "aXXbYY");
        YES("a**b", "axxb"); /* not a whole segment: a plain star */
        NO("a**b", "a/b");
}

Test(glob, question_mark_and_classes)
{
        YES("?.c", "a.c");
        NO("?.c", "ab.c");
        NO("a?b", "a/b");
        YES("[abc].o", "b.o");
        NO("[abc].o", "d.o");
        YES("[a-c]x", "bx");
        NO("[a-c]x", "dx");
        YES("[!a-c]x", "dx");
        NO("[!a-c]x", "ax");
        YES("[^a-c]x", "dx");
        YES("[]]", "]");
        YES("[!]]", "a");
        NO("[!]]", "]");
        YES("[a-]", "-");
        NO("a[/]b", "a/b");
}

Test(glob, escapes)
{
        YES("\\*.c", "*.c");
        NO("\\*.c", "x.c");
        YES("a\\?", "a?");
        NO("a\\?", "ab");
        YES("\\!x", "!x");
        YES("\\#x", "#x");
}

Test(glob, double_star)
{
        YES("**/*.c", "main.c");
        YES("**/*.c", "a/b/main.c");
        NO("**/*.c", "a/b/main.h");
        YES("build/**", "build/x.o");
        YES("build/**", "build/a/b/x.o");
        NO("build/**", "build");
        NO("build/**", "src/build/x.o");
        YES("a/**/b", "a/b");
        YES("a/**/b", "a/x/y/b");
        NO("a/**/b", "a/x/y/bc");
        YES("**/node_modules/**", "node_modules/x/y.js");
        YES("**/node_modules/**", "web/node_modules/y.js");
        YES("**", "a/b/c");
}

Test(glob, anchoring)
{
        YES("/main.c", "main.c");
        NO("/main.c", "src/main.c");
        YES("doc/x.md", "doc/x.md");
        NO("doc/x.md", "a/doc/x.md");
        YES("./build/**", "build/x");
        NO("./build/**", "a/build/x");
        YES("main.c", "a/b/main.c"); /* no slash: any depth */
}

Test(glob, directory_only)
{
        cr_expect(match("build/", "build", true));
        cr_expect(!match("build/", "build", false));
        cr_expect(match("build/", "a/build", true));
        cr_expect(match("/build/", "build", true));
        cr_expect(!match("/build/", "a/build", true));
}

Test(glob, negation_flag)
{
        struct sbx_glob g;
        cr_assert_eq(sbx_glob_init(&g, "!keep.o", true, NULL), 0);
        cr_expect(g.negate);
        cr_expect_str_eq(g.pattern, "keep.o");
        sbx_glob_done(&g);
        cr_assert_eq(sbx_glob_init(&g, "!keep.o", false, NULL), 0);
        cr_expect(!g.negate);
        cr_expect_str_eq(g.pattern, "!keep.o");
        sbx_glob_done(&g);
}

Test(glob, errors)
{
        bad("", "\"\": empty pattern");
        bad("/", "\"/\": empty pattern");
        bad("[abc", "\"[abc\": unterminated [...]");
        bad("a[]", "\"a[]\": unterminated [...]");
        bad("abc\\", "\"abc\\\": trailing backslash");
}

Test(glob, covers_dir)
{
        struct sbx_glob g;
        cr_assert_eq(sbx_glob_init(&g, "build/**", false, NULL), 0);
        cr_expect(sbx_glob_covers_dir(&g, "build"));
        cr_expect(sbx_glob_covers_dir(&g, "build/sub"));
        cr_expect(!sbx_glob_covers_dir(&g, "src"));
        cr_expect(!sbx_glob_covers_dir(&g, "src/build"));
        sbx_glob_done(&g);
        cr_assert_eq(sbx_glob_init(&g, "*.o", false, NULL), 0);
        cr_expect(!sbx_glob_covers_dir(&g, "build"));
        sbx_glob_done(&g);
        cr_assert_eq(sbx_glob_init(&g, "node_modules/", false, NULL), 0);
        cr_expect(sbx_glob_covers_dir(&g, "web/node_modules"));
        sbx_glob_done(&g);
}

Test(globset, parents_and_errors)
{
        char *ex[] = { "build/", "*.o" };
        struct sbx_strv v = { ex, 2 };
        struct sbx_globset s;
        sbx_autoerror e = NULL;
        cr_assert_eq(sbx_globset_init(&s, "watch.exclude", &v, &e), 0);
        cr_expect(sbx_globset_match(&s, "build/x.c", false)); /* via its parent */
        cr_expect(sbx_globset_match(&s, "a/build/b/x.c", false));
        cr_expect(sbx_globset_match(&s, "src/x.o", false));
        cr_expect(!sbx_globset_match(&s, "src/x.c", false));
        cr_expect(!sbx_globset_match(&s, "build", false)); /* a file named build */
        sbx_globset_done(&s);

        char *badv[] = { "*.c", "ok", "[x" };
        struct sbx_strv v2 = { badv, 3 };
        cr_assert_eq(sbx_globset_init(&s, "watch.include", &v2, &e), -EINVAL);
        cr_assert_str_eq(e->message, "watch.include[2]: \"[x\": unterminated [...]");
        cr_assert_null(s.items);
}

Test(globset, empty_matches_nothing)
{
        struct sbx_strv v = { NULL, 0 };
        struct sbx_globset s;
        cr_assert_eq(sbx_globset_init(&s, "watch.exclude", &v, NULL), 0);
        cr_expect(!sbx_globset_match(&s, "x", false));
        sbx_globset_done(&s);
}
