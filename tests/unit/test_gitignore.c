/* Tests of .gitignore rules: comments, blanks, negation, directory-only,
 * anchoring, nested files, precedence, and no re-include below an ignored
 * directory, as git does them. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sandboxctl/watch.h"

static struct sbx_gitignore *gi;

static void setup(void)
{
        cr_assert_eq(sbx_gitignore_new(&gi, NULL), 0);
}

static void teardown(void)
{
        sbx_gitignore_free(gi);
        gi = NULL;
}

static void set(const char *dir, const char *text)
{
        sbx_autoerror e = NULL;
        cr_assert_eq(sbx_gitignore_set(gi, dir, text, &e), 0, "%s", e ? e->message : "");
}

#define IGN(p) cr_expect(sbx_gitignore_ignored(gi, p, false), "%s should be ignored", p)
#define KEEP(p) cr_expect(!sbx_gitignore_ignored(gi, p, false), "%s should not be ignored", p)
#define IGN_DIR(p) cr_expect(sbx_gitignore_ignored(gi, p, true), "dir %s should be ignored", p)
#define KEEP_DIR(p) cr_expect(!sbx_gitignore_ignored(gi, p, true), "dir %s should be kept", p)

TestSuite(gitignore, .init = setup, .fini = teardown);

Test(gitignore, no_rules_ignore_nothing)
{
        KEEP("a.o");
        set("", NULL);
        KEEP("a.o");
}

Test(gitignore, comments_blanks_and_trailing_spaces)
{
        set("", "# a comment\n\n*.o   \n\\#hash\n  \r\nlog.txt\\ \n");
        IGN("x.o");
        IGN("deep/x.o");
        IGN("#hash");
        KEEP("# a comment");
        IGN("log.txt ");
        KEEP("log.txt");
}

Test(gitignore, negation)
{
        set("", "*.log\n!keep.log\n");
        IGN("a.log");
        KEEP("keep.log");
        KEEP("sub/keep.log");
        set("", "!keep.log\n*.log\n"); /* the later line wins */
        IGN("keep.log");
        set("", "\\!bang\n");
        IGN("!bang");
}

Test(gitignore, directory_only)
{
        set("", "out/\n");
        IGN_DIR("out");
        IGN_DIR("a/out");
        KEEP("out"); /* a file named out */
        IGN("out/x.c"); /* below an ignored directory */
        IGN("a/out/b/x.c");
}

Test(gitignore, anchored)
{
        set("", "/top.txt\nsrc/gen/\n");
        IGN("top.txt");
        KEEP("a/top.txt");
        IGN("src/gen/x.c");
        KEEP("a/src/gen/x.c");
}

Test(gitignore, no_reinclude_below_ignored_dir)
{
        set("", "build/\n!build/keep.c\n");
        IGN("build/keep.c");
        set("", "build/*\n!build/keep.c\n"); /* the directory itself is not ignored */
        KEEP("build/keep.c");
        IGN("build/other.c");
}

Test(gitignore, nested_files_apply_to_their_subtree)
{
        set("", "*.tmp\n");
        set("sub", "*.gen\n!x.tmp\n/only-here\n");
        IGN("a.tmp");
        IGN("sub/a.tmp");
        KEEP("sub/x.tmp"); /* the deeper file re-includes */
        IGN("x.tmp");
        IGN("sub/a.gen");
        IGN("sub/deeper/a.gen");
        KEEP("a.gen");
        KEEP("other/a.gen");
        IGN("sub/only-here");
        KEEP("sub/deeper/only-here"); /* anchored at sub/ */
        set("sub", NULL);
        KEEP("sub/a.gen");
        IGN("sub/x.tmp");
}

Test(gitignore, double_star)
{
        set("", "**/cache/**\nlogs/**/*.log\n");
        IGN("cache/a");
        IGN("x/cache/a/b");
        IGN("logs/a.log");
        IGN("logs/1/2/a.log");
        KEEP("logs/a.txt");
}

Test(gitignore, malformed_lines_are_skipped)
{
        set("", "[abc\n*.o\n");
        IGN("x.o");
        KEEP("[abc");
}

Test(gitignore, load_reads_the_file)
{
        char dir[] = "/tmp/sbx-gitignore-XXXXXX";
        cr_assert_not_null(mkdtemp(dir));
        char path[256];
        snprintf(path, sizeof(path), "%s/sub", dir);
        cr_assert_eq(mkdir(path, 0755), 0);
        snprintf(path, sizeof(path), "%s/sub/.gitignore", dir);
        FILE *f = fopen(path, "we");
        cr_assert_not_null(f);
        fputs("*.o\n", f);
        fclose(f);

        sbx_autoerror e = NULL;
        cr_expect_eq(sbx_gitignore_load(gi, dir, "sub", &e), 1);
        IGN("sub/a.o");
        KEEP("a.o");
        cr_expect_eq(sbx_gitignore_load(gi, dir, "", &e), 0); /* none there */
        cr_expect_eq(unlink(path), 0);
        cr_expect_eq(sbx_gitignore_load(gi, dir, "sub", &e), 0); /* gone: cleared */
        KEEP("sub/a.o");
        snprintf(path, sizeof(path), "%s/sub", dir);
        cr_expect_eq(rmdir(path), 0);
        cr_expect_eq(rmdir(dir), 0);
}
