/* Unit tests of the snapshot store (no root): versions, labels, manifests,
 * checksums, dedup, prune, rm, rollback, symlink safety, and the CRIU probe
 * against a stand-in criu. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "sandboxctl/profile.h"
#include "sandboxctl/snapshot.h"

static char base[] = "/tmp/sbx-snap-test.XXXXXX";
static char ws[512], data[512];
static struct sbx_snapshot_store *store;

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
        (void)f;
        if (flag == FTW_D || flag == FTW_DP)
                chmod(p, 0700);
        (void)st;
        return remove(p);
}

static void rm_rf(const char *p)
{
        nftw(p, rm_one, 32, FTW_DEPTH | FTW_PHYS);
}

static void put(const char *rel, const char *content)
{
        char p[1024];
        snprintf(p, sizeof(p), "%s/%s", ws, rel);
        FILE *f = fopen(p, "w");
        cr_assert_not_null(f, "fopen %s: %s", p, strerror(errno));
        fputs(content, f);
        fclose(f);
}

static char *get(const char *dir, const char *rel)
{
        static char buf[4096];
        char p[1024];
        snprintf(p, sizeof(p), "%s/%s", dir, rel);
        FILE *f = fopen(p, "r");
        if (!f)
                return NULL;
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = '\0';
        return buf;
}

static void setup(void)
{
        cr_assert_not_null(mkdtemp(base));
        snprintf(ws, sizeof(ws), "%s/ws", base);
        snprintf(data, sizeof(data), "%s/data", base);
        cr_assert_eq(mkdir(ws, 0755), 0);
        sbx_autoerror err = NULL;
        cr_assert_eq(sbx_snapshot_store_open(data, "sbx1", &store, &err), 0, "%s",
                     err ? err->message : "");
}

static void teardown(void)
{
        sbx_snapshot_store_free(store);
        store = NULL;
        rm_rf(base);
        strcpy(base, "/tmp/sbx-snap-test.XXXXXX");
}

TestSuite(snapshot, .init = setup, .fini = teardown);

/* An fs-only snapshot of the workspace; returns its version. */
static uint32_t snap(const char *label)
{
        struct sbx_snapshot_source src = { "workspace", ws };
        struct sbx_snapshot_params p = { .label = label, .kind = SBX_SNAPSHOT_FS_ONLY,
                                         .sources = &src, .n_sources = 1 };
        struct sbx_snapshot_info info = { 0 };
        sbx_autoerror err = NULL;
        cr_assert_eq(sbx_snapshot_create(store, &p, &info, &err), 0, "%s",
                     err ? err->message : "");
        uint32_t v = info.version;
        sbx_snapshot_info_clear(&info);
        return v;
}

static char *version_path(uint32_t v, const char *rel)
{
        static char p[1024];
        snprintf(p, sizeof(p), "%s/sbx1/snapshots/%u/%s", data, v, rel);
        return p;
}

Test(snapshot, versions_labels_and_parents)
{
        put("a.txt", "hello\n");
        cr_assert_eq(snap("first"), 1);
        cr_assert_eq(snap(NULL), 2);
        cr_assert_eq(snap("third"), 3);
        struct sbx_snapshot_list l = { 0 };
        cr_assert_eq(sbx_snapshot_list(store, &l, NULL), 0);
        cr_assert_eq(l.n, 3);
        cr_assert_eq(l.items[0].parent, 0);
        cr_assert_eq(l.items[1].parent, 1);
        cr_assert_eq(l.items[2].parent, 2);
        cr_assert_str_eq(l.items[0].label, "first");
        cr_assert_null(l.items[1].label);
        cr_assert_eq(l.items[2].kind, SBX_SNAPSHOT_FS_ONLY);
        cr_assert_eq(l.items[0].size, 6);
        cr_assert_str_eq(l.items[0].checksum, l.items[1].checksum);
        sbx_snapshot_list_clear(&l);

        struct sbx_snapshot_info i = { 0 };
        cr_assert_eq(sbx_snapshot_find(store, "third", &i, NULL), 0);
        cr_assert_eq(i.version, 3);
        sbx_snapshot_info_clear(&i);
        sbx_autoerror err = NULL;
        cr_assert_eq(sbx_snapshot_find(store, "nope", &i, &err), -ENOENT);
        cr_assert(strstr(err->message, "no snapshot labelled 'nope'"), "%s", err->message);
}

Test(snapshot, bad_and_taken_labels)
{
        struct sbx_snapshot_source src = { "workspace", ws };
        struct sbx_snapshot_params p = { .label = "x", .kind = SBX_SNAPSHOT_FS_ONLY,
                                         .sources = &src, .n_sources = 1 };
        cr_assert_eq(sbx_snapshot_create(store, &p, NULL, NULL), 0);
        sbx_autoerror e1 = NULL;
        sbx_autoerror e2 = NULL;
        sbx_autoerror e3 = NULL;
        cr_assert_eq(sbx_snapshot_create(store, &p, NULL, &e1), -EEXIST);
        cr_assert(strstr(e1->message, "label 'x' is taken by version 1"), "%s", e1->message);
        p.label = "42";
        cr_assert_eq(sbx_snapshot_create(store, &p, NULL, &e2), -EINVAL);
        cr_assert(strstr(e2->message, "bad label '42'"), "%s", e2->message);
        p.label = NULL;
        p.kind = SBX_SNAPSHOT_FULL; /* no CRIU images */
        cr_assert_eq(sbx_snapshot_create(store, &p, NULL, &e3), -EINVAL);
        cr_assert_str_eq(e3->message, "create snapshot: a full snapshot needs CRIU images");
}

Test(snapshot, manifest_fields)
{
        put("a.txt", "hello\n");
        struct sbx_spec *spec = NULL;
        cr_assert_eq(sbx_profile_load("medium", &spec, NULL), 0);
        struct sbx_snapshot_source src = { "workspace", ws };
        struct sbx_snapshot_params p = { .label = "m", .kind = SBX_SNAPSHOT_FS_ONLY,
                                         .sources = &src, .n_sources = 1, .spec = spec,
                                         .criu_version = "3.17.1" };
        cr_assert_eq(sbx_snapshot_create(store, &p, NULL, NULL), 0);
        sbx_spec_free(spec);
        char *text = NULL;
        cr_assert_eq(sbx_snapshot_manifest(store, 1, &text, NULL), 0);
        json_t *j = json_loads(text, 0, NULL);
        free(text);
        cr_assert_not_null(j);
        struct utsname u;
        uname(&u);
        cr_assert_eq(json_integer_value(json_object_get(j, "version")), 1);
        cr_assert_str_eq(json_string_value(json_object_get(j, "label")), "m");
        cr_assert(json_is_null(json_object_get(j, "parent")));
        cr_assert_str_eq(json_string_value(json_object_get(j, "kind")), "fs-only");
        cr_assert_str_eq(json_string_value(json_object_get(j, "kernel")), u.release);
        cr_assert_str_eq(json_string_value(json_object_get(j, "criu_version")), "3.17.1");
        cr_assert_eq(strlen(json_string_value(json_object_get(j, "created"))), 20);
        cr_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "profile"), "name")),
                         "medium");
        cr_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "rootfs"), "path")),
                         "host");
        json_t *s0 = json_array_get(json_object_get(j, "sources"), 0);
        cr_assert_str_eq(json_string_value(json_object_get(s0, "path")), ws);
        cr_assert_gt(json_integer_value(json_object_get(s0, "ino")), 0);
        cr_assert_eq(json_integer_value(json_object_get(j, "size")), 6);
        size_t i;
        json_t *e;
        bool seen = false;
        json_array_foreach (json_object_get(j, "entries"), i, e) {
                if (strcmp(json_string_value(json_object_get(e, "path")), "fs/workspace/a.txt"))
                        continue;
                seen = true;
                cr_assert_str_eq(json_string_value(json_object_get(e, "sha256")),
                                 "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03");
        }
        cr_assert(seen);
        json_decref(j);
}

Test(snapshot, flipped_byte_is_detected_and_restore_refuses)
{
        put("a.txt", "hello\n");
        put("b.txt", "world\n");
        cr_assert_eq(snap(NULL), 1);
        cr_assert_eq(sbx_snapshot_verify(store, 1, NULL), 0);
        int fd = open(version_path(1, "fs/workspace/b.txt"), O_WRONLY);
        cr_assert_geq(fd, 0);
        cr_assert_eq(pwrite(fd, "W", 1, 0), 1);
        close(fd);
        sbx_autoerror err = NULL;
        cr_assert_eq(sbx_snapshot_verify(store, 1, &err), -EBADMSG);
        char want[1024];
        snprintf(want, sizeof(want),
                 "snapshot 1 in %s/sbx1/snapshots is corrupted: fs/workspace/b.txt: checksum "
                 "mismatch",
                 data);
        cr_assert_str_eq(err->message, want);

        put("a.txt", "changed\n");
        sbx_autoerror err2 = NULL;
        cr_assert_eq(sbx_snapshot_restore_fs(store, 1, "workspace", ws, &err2), -EBADMSG);
        cr_assert(strstr(err2->message, "fs/workspace/b.txt: checksum mismatch"), "%s",
                  err2->message);
        cr_assert_str_eq(get(ws, "a.txt"), "changed\n"); /* nothing changed */
}

Test(snapshot, missing_and_extra_files_are_detected)
{
        put("a.txt", "hello\n");
        cr_assert_eq(snap(NULL), 1);
        cr_assert_eq(unlink(version_path(1, "fs/workspace/a.txt")), 0);
        sbx_autoerror err = NULL;
        cr_assert_eq(sbx_snapshot_verify(store, 1, &err), -EBADMSG);
        cr_assert(strstr(err->message, ": fs/workspace/a.txt: missing"), "%s", err->message);
        FILE *f = fopen(version_path(1, "fs/workspace/a.txt"), "w");
        fputs("hello\n", f);
        fclose(f);
        f = fopen(version_path(1, "fs/workspace/new"), "w");
        fclose(f);
        sbx_autoerror err2 = NULL;
        cr_assert_eq(sbx_snapshot_verify(store, 1, &err2), -EBADMSG);
        cr_assert(strstr(err2->message, ": fs/workspace/new: not in the manifest"), "%s",
                  err2->message);
}

/* Distinct inodes and their blocks under every version's workspace. */
static void count_storage(uint32_t n, size_t *ret_inodes, uint64_t *ret_blocks)
{
        ino_t seen[1024];
        size_t k = 0;
        uint64_t blocks = 0;
        for (uint32_t v = 1; v <= n; v++) {
                for (int f = 0; f < 10; f++) {
                        char rel[64];
                        snprintf(rel, sizeof(rel), "fs/workspace/f%d", f);
                        struct stat st;
                        cr_assert_eq(stat(version_path(v, rel), &st), 0);
                        bool dup = false;
                        for (size_t i = 0; i < k; i++)
                                dup |= seen[i] == st.st_ino;
                        if (!dup) {
                                seen[k++] = st.st_ino;
                                blocks += (uint64_t)st.st_blocks;
                        }
                }
        }
        *ret_inodes = k;
        *ret_blocks = blocks;
}

Test(snapshot, ten_versions_with_one_changed_file_cost_about_one_copy)
{
        char *chunk = malloc(65536 + 1);
        for (int f = 0; f < 10; f++) {
                memset(chunk, 'a' + f, 65536);
                chunk[65536] = '\0';
                char name[16];
                snprintf(name, sizeof(name), "f%d", f);
                put(name, chunk);
        }
        for (int v = 1; v <= 10; v++) {
                if (v > 1) {
                        memset(chunk, '0' + v % 10, 65536);
                        put("f0", chunk); /* one file changes per version */
                }
                cr_assert_eq(snap(NULL), (uint32_t)v);
        }
        free(chunk);
        size_t inodes = 0;
        uint64_t blocks = 0;
        count_storage(10, &inodes, &blocks);
        /* 10 files once, then one new f0 per later version. */
        cr_assert_eq(inodes, 10 + 9);
        /* One copy is 10 x 64 KiB = 1280 blocks of 512 bytes (+ metadata). */
        cr_assert_leq(blocks, 1280 * 2 + 64, "%lu blocks", (unsigned long)blocks);
        struct sbx_snapshot_info i = { 0 };
        cr_assert_eq(sbx_snapshot_find(store, "10", &i, NULL), 0);
        cr_assert_eq(i.size, 10 * 65536);
        cr_assert_eq(i.new_bytes, 65536);
        sbx_snapshot_info_clear(&i);
        for (uint32_t v = 1; v <= 10; v++)
                cr_assert_eq(sbx_snapshot_verify(store, v, NULL), 0, "version %u", v);
}

static void assert_versions(const uint32_t *want, size_t n, const uint32_t *parents)
{
        struct sbx_snapshot_list l = { 0 };
        cr_assert_eq(sbx_snapshot_list(store, &l, NULL), 0);
        cr_assert_eq(l.n, n);
        for (size_t i = 0; i < n; i++) {
                cr_assert_eq(l.items[i].version, want[i]);
                cr_assert_eq(l.items[i].parent, parents[i], "parent of %u", want[i]);
        }
        sbx_snapshot_list_clear(&l);
}

Test(snapshot, prune_keeps_the_newest_and_reparents)
{
        put("a.txt", "1");
        for (int v = 1; v <= 5; v++)
                snap(NULL);
        sbx_autoerror err = NULL;
        cr_assert_eq(sbx_snapshot_prune(store, 3, &err), 2, "%s", err ? err->message : "");
        assert_versions((uint32_t[]){ 3, 4, 5 }, 3, (uint32_t[]){ 0, 3, 4 });
        cr_assert_eq(sbx_snapshot_prune(store, 3, NULL), 0);
        cr_assert_eq(snap(NULL), 6); /* numbers are never reused */
        for (uint32_t v = 3; v <= 6; v++)
                cr_assert_eq(sbx_snapshot_verify(store, v, NULL), 0);
}

Test(snapshot, rm_reparents_and_numbers_stay_monotonic)
{
        put("a.txt", "1");
        snap(NULL);
        snap(NULL);
        snap(NULL);
        cr_assert_eq(sbx_snapshot_remove(store, 2, NULL), 0);
        assert_versions((uint32_t[]){ 1, 3 }, 2, (uint32_t[]){ 0, 1 });
        cr_assert_eq(sbx_snapshot_remove(store, 3, NULL), 0);
        cr_assert_eq(snap(NULL), 4);
        assert_versions((uint32_t[]){ 1, 4 }, 2, (uint32_t[]){ 0, 1 });
        sbx_autoerror err = NULL;
        cr_assert_eq(sbx_snapshot_remove(store, 7, &err), -ENOENT);
        cr_assert_str_eq(err->message, "remove snapshot 7: no snapshot version 7");
}

Test(snapshot, rollback_restores_exact_content)
{
        char sub[600];
        snprintf(sub, sizeof(sub), "%s/sub", ws);
        cr_assert_eq(mkdir(sub, 0750), 0);
        put("a.txt", "one\n");
        put("sub/b.txt", "bee\n");
        char p[700];
        snprintf(p, sizeof(p), "%s/a.txt", ws);
        chmod(p, 0600);
        cr_assert_eq(symlink("a.txt", strcat(strcpy(p, ws), "/link")), 0);
        struct stat before;
        cr_assert_eq(stat(strcat(strcpy(p, ws), "/a.txt"), &before), 0);
        cr_assert_eq(snap("v1"), 1);

        put("a.txt", "two\n");
        cr_assert_eq(unlink(strcat(strcpy(p, ws), "/sub/b.txt")), 0);
        put("c.txt", "new\n");
        cr_assert_eq(snap(NULL), 2);

        sbx_autoerror err = NULL;
        cr_assert_eq(sbx_snapshot_restore_fs(store, 1, "workspace", ws, &err), 0, "%s",
                     err ? err->message : "");
        cr_assert_str_eq(get(ws, "a.txt"), "one\n");
        cr_assert_str_eq(get(ws, "sub/b.txt"), "bee\n");
        cr_assert_null(get(ws, "c.txt"));
        struct stat st;
        cr_assert_eq(stat(strcat(strcpy(p, ws), "/a.txt"), &st), 0);
        cr_assert_eq(st.st_mode & 07777, 0600);
        cr_assert_eq(st.st_mtim.tv_sec, before.st_mtim.tv_sec);
        cr_assert_eq(st.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
        cr_assert_eq(stat(sub, &st), 0);
        cr_assert_eq(st.st_mode & 07777, 0750);
        char target[64] = "";
        cr_assert_eq(readlink(strcat(strcpy(p, ws), "/link"), target, sizeof(target)), 5);
        cr_assert_str_eq(target, "a.txt");
        /* The restored file is a copy: writing it leaves the snapshot alone. */
        put("a.txt", "edited\n");
        cr_assert_eq(sbx_snapshot_verify(store, 1, NULL), 0);
        /* And back to version 2. */
        cr_assert_eq(sbx_snapshot_restore_fs(store, 2, "workspace", ws, NULL), 0);
        cr_assert_str_eq(get(ws, "c.txt"), "new\n");
        cr_assert_null(get(ws, "sub/b.txt"));
        /* No temp dir left beside the target. */
        cr_assert_eq(sbx_snapshot_restore_fs(store, 1, "nosuch", ws, NULL), -ENOENT);
}

Test(snapshot, symlinks_are_never_followed)
{
        char outside[600], p[700];
        snprintf(outside, sizeof(outside), "%s/outside", base);
        cr_assert_eq(mkdir(outside, 0755), 0);
        snprintf(p, sizeof(p), "%s/secret", outside);
        FILE *f = fopen(p, "w");
        fputs("secret\n", f);
        fclose(f);
        snprintf(p, sizeof(p), "%s/escape", ws);
        cr_assert_eq(symlink(outside, p), 0);
        snprintf(p, sizeof(p), "%s/abs", ws);
        cr_assert_eq(symlink("/etc/passwd", p), 0);
        cr_assert_eq(snap(NULL), 1);

        struct stat st;
        cr_assert_eq(lstat(version_path(1, "fs/workspace/escape"), &st), 0);
        cr_assert(S_ISLNK(st.st_mode));
        char *text = NULL;
        cr_assert_eq(sbx_snapshot_manifest(store, 1, &text, NULL), 0);
        cr_assert_null(strstr(text, "secret"), "the manifest lists a file outside the tree");
        cr_assert_null(strstr(text, "root:"));
        free(text);

        /* Restoring over a workspace whose "escape" is a real dir and into a
         * target that holds a symlink does not write outside. */
        cr_assert_eq(sbx_snapshot_restore_fs(store, 1, "workspace", ws, NULL), 0);
        cr_assert_eq(lstat(p, &st), 0);
        cr_assert(S_ISLNK(st.st_mode));
        cr_assert_str_eq(get(outside, "secret"), "secret\n");
        snprintf(p, sizeof(p), "%s/secret", outside);
        cr_assert_eq(stat(p, &st), 0);
        cr_assert_eq(sbx_snapshot_verify(store, 1, NULL), 0);
}

Test(snapshot, failed_create_leaves_nothing)
{
        put("a.txt", "x");
        cr_assert_eq(snap(NULL), 1);
        char stale[700];
        snprintf(stale, sizeof(stale), "%s/sbx1/snapshots/.tmp-99", data);
        cr_assert_eq(mkdir(stale, 0700), 0);
        struct sbx_snapshot_source src[] = { { "workspace", ws }, { "upper", "/nonexistent/x" } };
        struct sbx_snapshot_params p = { .kind = SBX_SNAPSHOT_FS_ONLY, .sources = src,
                                         .n_sources = 2 };
        sbx_autoerror err = NULL;
        cr_assert_eq(sbx_snapshot_create(store, &p, NULL, &err), -ENOENT);
        cr_assert(strstr(err->message, "source upper: copy /nonexistent/x: open /nonexistent/x: No "
                                       "such file or directory") ||
                          strstr(err->message, "open /nonexistent/x: No such file or directory"),
                  "%s", err->message);
        struct stat st;
        cr_assert_eq(stat(stale, &st), -1); /* the stale temp dir is gone too */
        snprintf(stale, sizeof(stale), "%s/sbx1/snapshots/.tmp-2", data);
        cr_assert_eq(stat(stale, &st), -1);
        assert_versions((uint32_t[]){ 1 }, 1, (uint32_t[]){ 0 });
}

/* A stand-in criu: prints what the real one printed on a 6.18 host. */
static void fake_criu(const char *check_output, int check_status)
{
        char p[700];
        snprintf(p, sizeof(p), "%s/criu", base);
        FILE *f = fopen(p, "w");
        fprintf(f,
                "#!/bin/sh\n"
                "case \"$1\" in\n"
                "--version) echo 'Version: 3.17.1' ;;\n"
                "check) printf '%%s\\n' '%s' >&2; exit %d ;;\n"
                "esac\n",
                check_output, check_status);
        fclose(f);
        chmod(p, 0755);
        setenv(SBX_CRIU_ENV, p, 1);
}

Test(snapshot, criu_probe_reports_the_reason)
{
        fake_criu("Error (criu/util.c:642): exited, status=1\n"
                  "Error (criu/vdso.c:381): vdso: Unexpected rt vDSO area bounds\n"
                  "Error (criu/kerndat.c:1615): kerndat_vdso_fill_symtable failed",
                  1);
        sbx_autoerror err = NULL;
        char *version = NULL;
        cr_assert_eq(sbx_criu_probe(&version, &err), -ENOTSUP);
        cr_assert_str_eq(err->message,
                         "CRIU cannot run on this kernel: vdso: Unexpected rt vDSO area bounds");
        cr_assert_null(version);

        fake_criu("Looks good.", 0);
        cr_assert_eq(sbx_criu_probe(&version, NULL), 0);
        cr_assert_str_eq(version, "3.17.1");
        free(version);

        setenv(SBX_CRIU_ENV, "/nonexistent/criu", 1);
        sbx_autoerror err2 = NULL;
        cr_assert_eq(sbx_criu_probe(NULL, &err2), -ENOENT);
        cr_assert_str_eq(err2->message, "criu binary /nonexistent/criu (from $SANDBOXCTL_CRIU): No "
                                        "such file or directory");
        unsetenv(SBX_CRIU_ENV);
}
