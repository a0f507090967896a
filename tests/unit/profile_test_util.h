/* Helpers shared by the profile module's unit tests. */
#ifndef SANDBOXCTL_PROFILE_TEST_UTIL_H
#define SANDBOXCTL_PROFILE_TEST_UTIL_H

#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "sandboxctl/profile.h"
#include "sandboxctl/spec.h"
#include "sandboxctl/util.h"

static inline const char *source_root(void)
{
        const char *r = getenv("SBX_SOURCE_ROOT");
        return r && *r ? r : SBX_SOURCE_ROOT;
}

/* Run from the source root, with profiles looked up in ./profiles only. */
static inline void enter_source_root(void)
{
        cr_assert_eq(chdir(source_root()), 0, "chdir %s: %s", source_root(), strerror(errno));
        cr_assert_eq(setenv("SANDBOXCTL_PROFILE_PATH", "profiles", 1), 0);
}

static inline char *spec_json(const struct sbx_spec *s)
{
        char *j = NULL;
        sbx_autoerror e = NULL;
        cr_assert_eq(sbx_spec_to_json(s, true, &j, &e), 0, "%s", e ? e->message : "");
        return j;
}

static inline struct sbx_spec *load_text_ok(const char *text, const char *filename)
{
        struct sbx_spec *s = NULL;
        sbx_autoerror e = NULL;
        int r = sbx_profile_load_string(text, strlen(text), filename, &s, &e);
        cr_assert_eq(r, 0, "load failed: %s", e ? e->message : "");
        cr_assert_not_null(s);
        return s;
}

/* Load TEXT, expect failure with CODE, return the message (caller frees). */
static inline char *load_text_err(const char *text, const char *filename, int code)
{
        struct sbx_spec *s = (struct sbx_spec *)0x1;
        sbx_error *e = NULL;
        int r = sbx_profile_load_string(text, strlen(text), filename, &s, &e);
        cr_assert_eq(r, -code, "expected -%d, got %d (%s)", code, r, e ? e->message : "");
        cr_assert_eq(s, (struct sbx_spec *)0x1, "ret_spec set on failure");
        cr_assert_not_null(e);
        cr_assert_eq(e->code, code);
        char *m = e->message;
        e->message = NULL;
        sbx_error_free(e);
        return m;
}

static inline void assert_load_error(const char *text, const char *expected)
{
        char *m = load_text_err(text, "p.yaml", EINVAL);
        cr_assert_str_eq(m, expected);
        free(m);
}

/* A scratch directory, removed by tmpdir_remove(). */
static inline char *tmpdir_make(void)
{
        char *d = strdup("/tmp/sbx-profile-test-XXXXXX");
        cr_assert_not_null(mkdtemp(d));
        return d;
}

static inline void write_file(const char *dir, const char *name, const char *text)
{
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        FILE *f = fopen(path, "we");
        cr_assert_not_null(f, "fopen %s: %s", path, strerror(errno));
        cr_assert_eq(fputs(text, f) >= 0, 1);
        cr_assert_eq(fclose(f), 0);
}

static inline int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st;
        (void)flag;
        (void)ftw;
        return remove(path);
}

static inline void tmpdir_remove(char *d)
{
        if (d)
                nftw(d, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
        free(d);
}

#endif
