/* Tests of the watcher with real inotify on temporary directories: no root
 * needed. Each test drives the watcher as the supervisor does, with poll()
 * and a bounded deadline, never a sleep. Paths that a test cannot make the
 * kernel take are reached through watch_internal.h: a synthetic
 * IN_Q_OVERFLOW, and an add-watch function that fails with ENOSPC (the real
 * limit is also tested, in a user namespace, where the host allows one). */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandboxctl/util.h"
#include "sandboxctl/watch.h"
#include "src/lib/watch_internal.h"

#define WAIT_MS 3000

static char root[64];
static char *no_globs[] = { NULL };
static struct sbx_watch cfg;

static void setup(void)
{
        snprintf(root, sizeof(root), "/tmp/sbx-watch-XXXXXX");
        cr_assert_not_null(mkdtemp(root));
        cfg = (struct sbx_watch){ .include = { no_globs, 0 },
                                  .exclude = { no_globs, 0 },
                                  .paths = { no_globs, 0 },
                                  .debounce_ms = 30,
                                  .gitignore = true };
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st, (void)flag, (void)ftw;
        return remove(path);
}

static void teardown(void)
{
        cr_expect_eq(nftw(root, remove_one, 16, FTW_DEPTH | FTW_PHYS), 0);
}

TestSuite(watch, .init = setup, .fini = teardown, .timeout = 60);

static const char *at(const char *rel)
{
        static char buf[4][512];
        static int i;
        i = (i + 1) % 4;
        snprintf(buf[i], sizeof(buf[i]), "%s/%s", root, rel);
        return buf[i];
}

static void mk(const char *rel)
{
        cr_assert_eq(mkdir(at(rel), 0755), 0, "mkdir %s: %s", rel, strerror(errno));
}

static void put(const char *rel, const char *text)
{
        int fd = open(at(rel), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        cr_assert_geq(fd, 0, "open %s: %s", rel, strerror(errno));
        cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
        close(fd);
}

static void mv(const char *from, const char *to)
{
        cr_assert_eq(rename(from, to), 0, "rename %s %s: %s", from, to, strerror(errno));
}

static struct sbx_watcher *watcher(void)
{
        struct sbx_watcher *w = NULL;
        sbx_autoerror e = NULL;
        cr_assert_eq(sbx_watcher_new(&cfg, root, &w, &e), 0, "%s", e ? e->message : "");
        return w;
}

/* Drive the watcher until a batch is due, or WAIT_MS pass (NULL). */
static struct sbx_watch_batch *next_batch(struct sbx_watcher *w)
{
        uint64_t end = sbx_watch_now_ms() + WAIT_MS;
        for (;;) {
                uint64_t now = sbx_watch_now_ms();
                struct sbx_watch_batch *b = NULL;
                sbx_autoerror e = NULL;
                cr_assert_geq(sbx_watcher_process(w, now, &e), 0, "%s", e ? e->message : "");
                int r = sbx_watcher_take_batch(w, now, &b, &e);
                cr_assert_geq(r, 0, "%s", e ? e->message : "");
                if (r == 1)
                        return b;
                if (now >= end)
                        return NULL;
                uint64_t until = sbx_watcher_deadline(w) < end ? sbx_watcher_deadline(w) : end;
                struct pollfd p = { .fd = sbx_watcher_fd(w), .events = POLLIN };
                poll(&p, 1, until > now ? (int)(until - now) : 0);
        }
}

/* Everything the kernel queued so far is handled, and nothing more is due. */
static void expect_quiet(struct sbx_watcher *w)
{
        sbx_autoerror e = NULL;
        cr_assert_eq(sbx_watcher_process(w, sbx_watch_now_ms(), &e), 0, "events after the batch");
        cr_assert_eq(sbx_watcher_deadline(w), SBX_WATCH_NEVER);
}

/* The next batch holds exactly these paths (NULL-terminated), in order. */
static void take_one(struct sbx_watcher *w, ...)
{
        struct sbx_watch_batch *b = next_batch(w);
        va_list ap;
        va_start(ap, w);
        cr_assert_not_null(b, "no batch within %d ms", WAIT_MS);
        size_t i = 0;
        for (const char *p; (p = va_arg(ap, const char *)); i++) {
                cr_assert_lt(i, b->n, "batch has %zu paths, expected %s too", b->n, p);
                cr_expect_str_eq(b->paths[i], p, "path %zu", i);
        }
        va_end(ap);
        for (size_t j = i; j < b->n; j++)
                cr_expect_fail("unexpected path in batch: %s", b->paths[j]);
        cr_expect_eq(b->n, i);
        cr_expect(!b->rescan);
        sbx_watch_batch_free(b);
}

Test(watch, edit_triggers_once)
{
        mk("src");
        put("src/main.c", "v1");
        struct sbx_watcher *w = watcher();
        cr_expect_eq(sbx_watcher_count(w), 2);
        cr_expect_eq(sbx_watcher_deadline(w), SBX_WATCH_NEVER);
        put("src/main.c", "v2");
        take_one(w, "src/main.c", NULL);
        expect_quiet(w);
        sbx_watcher_free(w);
}

Test(watch, atomic_rename_save_is_one_change_of_the_final_name)
{
        mk("src");
        put("src/main.c", "v1");
        struct sbx_watcher *w = watcher();
        put("src/.main.c.tmp1234", "v2"); /* write a temp file, rename it over */
        mv(at("src/.main.c.tmp1234"), at("src/main.c"));
        take_one(w, "src/main.c", NULL);
        expect_quiet(w);

        mv(at("src/main.c"), at("src/main.c~")); /* vim: backup by rename, write, unlink */
        put("src/main.c", "v3");
        cr_assert_eq(unlink(at("src/main.c~")), 0);
        take_one(w, "src/main.c", NULL);
        expect_quiet(w);
        sbx_watcher_free(w);
}

Test(watch, burst_of_50_writes_is_one_batch)
{
        mk("src");
        put("src/main.c", "v0");
        cfg.debounce_ms = 200;
        struct sbx_watcher *w = watcher();
        for (int i = 0; i < 50; i++) {
                char text[16];
                snprintf(text, sizeof(text), "v%d", i + 1);
                put(i % 2 ? "src/main.c" : "src/util.c", text);
                cr_assert_geq(sbx_watcher_process(w, sbx_watch_now_ms(), NULL), 0);
                cr_assert_eq(sbx_watcher_take_batch(w, sbx_watch_now_ms(), NULL, NULL), 0);
        }
        take_one(w, "src/main.c", "src/util.c", NULL);
        expect_quiet(w);
        sbx_watcher_free(w);
}

Test(watch, new_directory_and_the_file_made_in_it_at_once)
{
        mk("src");
        struct sbx_watcher *w = watcher();
        mk("src/new"); /* the file lands before the watch of src/new exists */
        put("src/new/a.c", "x");
        mk("src/new/deep");
        mk("src/new/deep/er");
        put("src/new/deep/er/b.c", "x");
        take_one(w, "src/new/a.c", "src/new/deep/er/b.c", NULL);
        cr_expect(sbx_watcher_is_watched(w, "src/new/deep/er"));
        cr_expect_eq(sbx_watcher_count(w), 5);
        put("src/new/deep/er/c.c", "x"); /* now through its own watch */
        take_one(w, "src/new/deep/er/c.c", NULL);
        expect_quiet(w);
        sbx_watcher_free(w);
}

Test(watch, removed_directory_is_dropped)
{
        mk("src");
        mk("src/old");
        put("src/old/x.c", "x");
        struct sbx_watcher *w = watcher();
        cr_expect_eq(sbx_watcher_count(w), 3);
        cr_assert_eq(unlink(at("src/old/x.c")), 0);
        cr_assert_eq(rmdir(at("src/old")), 0);
        take_one(w, "src/old/x.c", NULL);
        expect_quiet(w);
        cr_expect(!sbx_watcher_is_watched(w, "src/old"));
        cr_expect_eq(sbx_watcher_count(w), 2);
        sbx_watcher_free(w);
}

Test(watch, directory_moved_within_and_out_of_the_tree)
{
        mk("src");
        mk("src/a");
        put("src/a/x.c", "x");
        mk("src/gone");
        put("src/gone/y.c", "y");
        char outside[600];
        snprintf(outside, sizeof(outside), "%s-out", root);
        struct sbx_watcher *w = watcher();

        mv(at("src/a"), at("src/b"));
        take_one(w, "src/a/x.c", "src/b/x.c", NULL);
        cr_expect(sbx_watcher_is_watched(w, "src/b"));
        cr_expect(!sbx_watcher_is_watched(w, "src/a"));
        put("src/b/x.c", "x2");
        take_one(w, "src/b/x.c", NULL);

        mv(at("src/gone"), outside);
        take_one(w, "src/gone", NULL);
        cr_expect(!sbx_watcher_is_watched(w, "src/gone"));
        cr_expect_eq(sbx_watcher_count(w), 3);
        char moved[700];
        snprintf(moved, sizeof(moved), "%s/y.c", outside);
        FILE *f = fopen(moved, "we");
        cr_assert_not_null(f);
        fputs("changed outside", f);
        fclose(f);
        put("src/b/x.c", "sentinel");
        take_one(w, "src/b/x.c", NULL); /* the outside write never shows */
        expect_quiet(w);
        sbx_watcher_free(w);
        cr_expect_eq(unlink(moved), 0);
        cr_expect_eq(rmdir(outside), 0);
}

Test(watch, excluded_paths_never_trigger)
{
        char *ex[] = { "build/**", "*.o" };
        cfg.exclude = (struct sbx_strv){ ex, 2 };
        mk("src");
        mk("build");
        mk("build/obj");
        struct sbx_watcher *w = watcher();
        cr_expect(!sbx_watcher_is_watched(w, "build"));
        cr_expect(!sbx_watcher_is_watched(w, "build/obj"));
        cr_expect_eq(sbx_watcher_count(w), 2);
        put("build/out.bin", "x");
        put("build/obj/a.o", "x");
        put("src/main.o", "x");
        mk("src/sub");
        put("src/sub/deep.o", "x");
        put("src/main.c", "sentinel"); /* events keep their order: the rest came first */
        take_one(w, "src/main.c", NULL);
        expect_quiet(w);
        sbx_watcher_free(w);
}

Test(watch, include_globs_select_files)
{
        char *in[] = { "**/*.c", "Makefile" };
        cfg.include = (struct sbx_strv){ in, 2 };
        mk("src");
        struct sbx_watcher *w = watcher();
        put("src/notes.txt", "x");
        put("src/main.h", "x");
        put("Makefile", "x");
        put("src/main.c", "x");
        take_one(w, "Makefile", "src/main.c", NULL);
        expect_quiet(w);
        sbx_watcher_free(w);
}

Test(watch, gitignore_is_honoured)
{
        mk("src");
        mk("gen");
        mk(".git");
        put(".gitignore", "*.log\ngen/\n");
        put("src/.gitignore", "*.tmp\n");
        struct sbx_watcher *w = watcher();
        cr_expect(!sbx_watcher_is_watched(w, "gen"));
        cr_expect(!sbx_watcher_is_watched(w, ".git"));
        put("app.log", "x");
        put("gen/x.c", "x");
        put("src/a.tmp", "x");
        put("a.tmp", "x"); /* src/.gitignore does not reach the root */
        put(".git/index", "x");
        put("src/main.c", "x");
        take_one(w, "a.tmp", "src/main.c", NULL);
        expect_quiet(w);

        put("src/.gitignore", "*.tmp\n*.txt\n"); /* a changed .gitignore applies at once */
        take_one(w, "src/.gitignore", NULL);
        put("src/notes.txt", "x");
        put("src/main.c", "y");
        take_one(w, "src/main.c", NULL);
        expect_quiet(w);
        sbx_watcher_free(w);
}

Test(watch, gitignore_false_turns_it_off)
{
        cfg.gitignore = false;
        mk("gen");
        put(".gitignore", "*.log\ngen/\n");
        struct sbx_watcher *w = watcher();
        cr_expect(sbx_watcher_is_watched(w, "gen"));
        put("app.log", "x");
        put("gen/x.c", "x");
        take_one(w, "app.log", "gen/x.c", NULL);
        expect_quiet(w);
        sbx_watcher_free(w);
}

Test(watch, build_output_during_a_rebuild_does_not_retrigger)
{
        char *ex[] = { "build/**", "*.o" };
        cfg.exclude = (struct sbx_strv){ ex, 2 };
        mk("src");
        mk("build");
        struct sbx_watcher *w = watcher();
        put("src/main.c", "v1");
        take_one(w, "src/main.c", NULL);
        cr_assert_eq(sbx_watcher_rebuild_started(w, NULL), 0);
        put("src/main.o", "obj"); /* what the build writes */
        put("build/app", "bin");
        mk("build/cache");
        cr_assert_eq(sbx_watcher_process(w, sbx_watch_now_ms(), NULL), 0);
        cr_expect_eq(sbx_watcher_state(w), SBX_DEBOUNCE_BUILDING);
        cr_assert_eq(sbx_watcher_rebuild_finished(w, sbx_watch_now_ms(), NULL), 0);
        cr_expect_eq(sbx_watcher_state(w), SBX_DEBOUNCE_IDLE);
        expect_quiet(w);
        sbx_watcher_free(w);
}

Test(watch, change_during_a_rebuild_queues_exactly_one_more)
{
        mk("src");
        struct sbx_watcher *w = watcher();
        put("src/a.c", "v1");
        take_one(w, "src/a.c", NULL);
        cr_assert_eq(sbx_watcher_rebuild_started(w, NULL), 0);
        put("src/a.c", "v2");
        put("src/b.c", "v1");
        uint64_t later = sbx_watch_now_ms() + 60000;
        cr_assert_gt(sbx_watcher_process(w, sbx_watch_now_ms(), NULL), 0);
        cr_assert_eq(sbx_watcher_deadline(w), SBX_WATCH_NEVER);
        cr_assert_eq(sbx_watcher_take_batch(w, later, NULL, NULL), 0, "a batch during the rebuild");
        cr_expect_eq(sbx_watcher_state(w), SBX_DEBOUNCE_QUEUED);
        cr_assert_eq(sbx_watcher_rebuild_finished(w, sbx_watch_now_ms(), NULL), 0);
        take_one(w, "src/a.c", "src/b.c", NULL);
        expect_quiet(w);
        sbx_watcher_free(w);
}

/* Read and throw away what the kernel queued: the events a queue overflow
 * would have lost. */
static void lose_events(struct sbx_watcher *w)
{
        char buf[8192];
        while (read(sbx_watcher_fd(w), buf, sizeof(buf)) > 0)
                ;
}

Test(watch, queue_overflow_rescans_and_reports_a_rescan)
{
        mk("src");
        mk("src/old");
        struct sbx_watcher *w = watcher();
        mk("src/lost");
        put("src/lost/a.c", "x");
        cr_assert_eq(rmdir(at("src/old")), 0);
        lose_events(w);
        struct inotify_event ev = { .wd = -1, .mask = IN_Q_OVERFLOW };
        sbx_autoerror e = NULL;
        cr_assert_eq(sbx_watcher_inject(w, &ev, sbx_watch_now_ms(), &e), 1, "%s",
                     e ? e->message : "");
        struct sbx_watch_batch *b = next_batch(w);
        cr_assert_not_null(b);
        cr_expect(b->rescan);
        cr_expect_eq(b->n, 0);
        sbx_watch_batch_free(b);
        cr_expect(sbx_watcher_is_watched(w, "src/lost"));
        cr_expect(!sbx_watcher_is_watched(w, "src/old"));
        cr_expect_eq(sbx_watcher_count(w), 3);
        put("src/lost/a.c", "y"); /* watched since the rescan */
        take_one(w, "src/lost/a.c", NULL);
        expect_quiet(w);
        sbx_watcher_free(w);
}

struct fake_limit {
        int left;
        int calls;
};

static int add_watch_limited(int fd, const char *path, uint32_t mask, void *userdata)
{
        struct fake_limit *l = userdata;
        l->calls++;
        if (l->left-- <= 0) {
                errno = ENOSPC;
                return -1;
        }
        return inotify_add_watch(fd, path, mask);
}

Test(watch, watch_limit_is_a_clear_error)
{
        mk("a");
        mk("a/b");
        mk("a/b/c");
        mk("a/b/c/.git"); /* never watched, not counted */
        struct fake_limit limit = { .left = 2 };
        struct sbx_watcher *w = NULL;
        sbx_autoerror e = NULL;
        cr_assert_eq(sbx_watcher_new_with(&cfg, root, add_watch_limited, &limit, &w, &e), -ENOSPC);
        cr_assert_null(w);
        cr_assert_eq(limit.calls, 3);
        long max = sbx_watch_read_limit(SBX_WATCH_LIMIT_FILE);
        cr_assert_gt(max, 0);
        char expected[1024];
        snprintf(expected, sizeof(expected),
                 "watch %s/a/b: inotify watch limit reached: fs.inotify.max_user_watches is %ld "
                 "and this watch needs 4 watches, one per directory, beside those the user's "
                 "other programs hold; raise it: sysctl -w fs.inotify.max_user_watches=%ld",
                 root, max, max + 4);
        cr_assert_str_eq(e->message, expected);
}

Test(watch, watch_limit_message_without_the_value)
{
        sbx_autoerror e = NULL;
        cr_assert_eq(sbx_watch_limit_error(&e, "/w", -1, -1, 12), -ENOSPC);
        cr_assert_str_eq(e->message,
                         "watch /w: inotify watch limit reached: fs.inotify.max_user_watches "
                         "(value unknown) is too low; this watch needs 12 watches, one per "
                         "directory; raise it: sysctl -w fs.inotify.max_user_watches=N");
}

/* In a child: a user namespace of its own, whose user.max_inotify_watches
 * it lowers (the host's fs.inotify.max_user_watches is never written), and a
 * watcher on a chain of 5 directories. Exit 0 if the error is the expected
 * one, 77 if the host allows no user namespace, 78 if the namespace's limit
 * cannot be set apart from the host's. */
static int real_limit_child(long host_limit)
{
        if (unshare(CLONE_NEWUSER) < 0)
                return 77;
        /* A new namespace starts unlimited: if this reads the host's value, the
         * file is not per namespace here, and writing it would change the host. */
        if (sbx_watch_read_limit(SBX_WATCH_NS_LIMIT_FILE) == host_limit)
                return 78;
        int fd = open(SBX_WATCH_NS_LIMIT_FILE, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, "3", 1) != 1)
                return 78;
        close(fd);
        if (sbx_watch_read_limit(SBX_WATCH_LIMIT_FILE) != host_limit)
                return 3;
        struct sbx_watcher *w = NULL;
        sbx_autoerror e = NULL;
        if (sbx_watcher_new(&cfg, root, &w, &e) != -ENOSPC) {
                sbx_watcher_free(w);
                return 1;
        }
        char expected[1024];
        snprintf(expected, sizeof(expected),
                 "watch %s/d/d/d: inotify watch limit reached: this user namespace's "
                 "user.max_inotify_watches is 3 (below fs.inotify.max_user_watches) and this "
                 "watch needs 5 watches, one per directory, beside those the user's other "
                 "programs hold; raise it: sysctl -w user.max_inotify_watches=8",
                 root);
        if (strcmp(e->message, expected) != 0) {
                fprintf(stderr, "got: %s\nexpected: %s\n", e->message, expected);
                return 2;
        }
        return 0;
}

Test(watch, real_watch_limit_in_a_user_namespace)
{
        mk("d");
        mk("d/d");
        mk("d/d/d");
        mk("d/d/d/d");
        long host_limit = sbx_watch_read_limit(SBX_WATCH_LIMIT_FILE);
        cr_assert_gt(host_limit, 0);
        pid_t pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0)
                _exit(real_limit_child(host_limit));
        int status;
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        cr_assert_eq(sbx_watch_read_limit(SBX_WATCH_LIMIT_FILE), host_limit,
                     "the host's limit changed");
        cr_assert(WIFEXITED(status));
        if (WEXITSTATUS(status) == 77)
                cr_skip_test("needs user namespaces (unshare(CLONE_NEWUSER) failed)");
        if (WEXITSTATUS(status) == 78)
                cr_skip_test("needs a per-namespace user.max_inotify_watches");
        cr_assert_eq(WEXITSTATUS(status), 0, "wrong result (%d), see stderr", WEXITSTATUS(status));
}

/* Set-up of a watch on `path` fails with code and message; "%R" in it
 * stands for the root. */
static void setup_fails(const char *path, int code, const char *message)
{
        char *paths[] = { (char *)path };
        cfg.paths = (struct sbx_strv){ paths, 1 };
        struct sbx_watcher *w = NULL;
        sbx_autoerror e = NULL;
        cr_assert_eq(sbx_watcher_new(&cfg, root, &w, &e), -code, "%s accepted", path);
        cr_assert_null(w);
        char expected[512] = "";
        const char *mark = strstr(message, "%R");
        if (mark)
                snprintf(expected, sizeof(expected), "%.*s%s%s", (int)(mark - message), message,
                         root, mark + 2);
        else
                snprintf(expected, sizeof(expected), "%s", message);
        cr_assert_str_eq(e->message, expected);
}

Test(watch, bad_paths)
{
        put("file", "x");
        setup_fails("nope", ENOENT, "watch %R/nope: No such file or directory");
        setup_fails("file", ENOTDIR, "watch %R/file: Not a directory");
        setup_fails("../up", EINVAL, "watch.paths: \"../up\" leaves the workspace");
        setup_fails("/abs", EINVAL, "watch.paths: \"/abs\" must be relative to the workspace");
        char *bad[] = { "[x" };
        cfg.paths = (struct sbx_strv){ no_globs, 0 };
        cfg.exclude = (struct sbx_strv){ bad, 1 };
        struct sbx_watcher *w = NULL;
        sbx_autoerror e = NULL;
        cr_assert_eq(sbx_watcher_new(&cfg, root, &w, &e), -EINVAL);
        cr_assert_str_eq(e->message, "watch.exclude[0]: \"[x\": unterminated [...]");
}

Test(watch, paths_are_normalized_and_relative_to_the_root)
{
        char *paths[] = { "./src/", "src//lib", "docs" };
        cfg.paths = (struct sbx_strv){ paths, 3 };
        mk("src");
        mk("src/lib");
        mk("docs");
        mk("other");
        struct sbx_watcher *w = watcher();
        cr_expect_eq(sbx_watcher_count(w), 3);
        cr_expect(!sbx_watcher_is_watched(w, ""));
        put("other/x.c", "x"); /* outside the watch paths */
        put("src/lib/x.c", "x");
        take_one(w, "src/lib/x.c", NULL);
        expect_quiet(w);
        sbx_watcher_free(w);
}

Test(watch, ten_thousand_files_in_a_thousand_directories)
{
        char rel[64];
        for (int i = 0; i < 100; i++) {
                snprintf(rel, sizeof(rel), "d%d", i);
                mk(rel);
                for (int j = 0; j < 9; j++) {
                        snprintf(rel, sizeof(rel), "d%d/s%d", i, j);
                        mk(rel);
                        for (int k = 0; k < 10; k++) {
                                snprintf(rel, sizeof(rel), "d%d/s%d/f%d.c", i, j, k);
                                put(rel, "");
                        }
                }
                for (int k = 0; k < 10; k++) {
                        snprintf(rel, sizeof(rel), "d%d/f%d.c", i, k);
                        put(rel, "");
                }
        }
        uint64_t t0 = sbx_watch_now_ms();
        struct sbx_watcher *w = watcher();
        uint64_t took = sbx_watch_now_ms() - t0;
        cr_log_info("watching 10000 files in 1001 directories took %llu ms",
                    (unsigned long long)took);
        fprintf(stderr, "watch setup: 10000 files, 1001 directories: %llu ms\n",
                (unsigned long long)took);
        cr_expect_eq(sbx_watcher_count(w), 1001);
        cr_expect_lt(took, 500, "set-up took %llu ms", (unsigned long long)took);
        put("d42/s7/f3.c", "x");
        take_one(w, "d42/s7/f3.c", NULL);
        sbx_watcher_free(w);
}
