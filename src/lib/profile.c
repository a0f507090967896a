/* profile: the public entry points: load a profile by name, path or text
 * into a resolved spec, and list the profiles along the lookup path. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "sandboxctl/profile.h"
#include "sandboxctl/util.h"

#include "profile_internal.h"

#define STRING_SOURCE "<string>"

/* The merged tree applied over the defaults, named after DISPLAY. */
static int build_spec(const struct sbx_pnode *tree, const char *display,
                      struct sbx_spec **ret_spec, sbx_error **err)
{
        __attribute__((cleanup(sbx_spec_freep))) struct sbx_spec *spec = NULL;
        struct sbx_errlist errors = { 0 };
        bool builtin = strcmp(display, SBX_PROFILE_BUILTIN_SOURCE) == 0;

        int r = sbx_spec_new_default(&spec, err);
        if (r < 0)
                return r;
        spec->source = strdup(display);
        spec->name = builtin ? strdup(SBX_PROFILE_DEFAULT)
                             : strcmp(display, STRING_SOURCE) == 0 ? strdup("unnamed")
                                                                   : sbx_path_stem(display);
        if (!spec->source || !spec->name)
                return sbx_error_errno(err, ENOMEM, "load %s", display);
        r = sbx_profile_apply(tree, spec, &errors);
        if (r < 0 || errors.count > 0) {
                r = errors.text ? sbx_error_set(err, EINVAL, "%s", errors.text)
                                : sbx_error_errno(err, ENOMEM, "load %s", display);
                sbx_errlist_clear(&errors);
                return r;
        }
        r = sbx_spec_validate(spec, err);
        if (r < 0)
                return sbx_error_prefix(err, r, "%s", display);
        *ret_spec = sbx_steal_ptr(spec);
        return 0;
}

static int load_text(const char *text, size_t len, const char *display, const char *id,
                     struct sbx_spec **ret_spec, sbx_error **err)
{
        __attribute__((cleanup(sbx_pnode_freep))) struct sbx_pnode *tree = NULL;
        struct sbx_strv files = { 0 };

        int r = sbx_profile_load_tree(text, len, display, id, &files, &tree, err);
        if (r >= 0)
                r = build_spec(tree, display, ret_spec, err);
        sbx_pnode_free(sbx_steal_ptr(tree)); /* nodes point into files */
        sbx_strv_clear(&files);
        return r;
}

int sbx_profile_load_string(const char *text, size_t len, const char *filename,
                            struct sbx_spec **ret_spec, sbx_error **err)
{
        char real[PATH_MAX];
        const char *display = filename ? filename : STRING_SOURCE;
        const char *id = filename && realpath(filename, real) ? real : display;

        if (!text)
                return sbx_error_set(err, EINVAL, "%s: no profile text", display);
        return load_text(text, len, display, id, ret_spec, err);
}

int sbx_profile_load(const char *name_or_path, struct sbx_spec **ret_spec, sbx_error **err)
{
        sbx_autofree char *path = NULL;
        sbx_autofree char *text = NULL;
        size_t len;
        char real[PATH_MAX];

        int r = sbx_profile_locate(name_or_path, &path, err);
        if (r < 0)
                return r;
        if (strcmp(path, SBX_PROFILE_BUILTIN_SOURCE) == 0) {
                const char *builtin = sbx_profile_builtin_text();
                return load_text(builtin, strlen(builtin), path, path, ret_spec, err);
        }
        r = sbx_profile_read_file(path, &text, &len, err);
        if (r < 0)
                return r;
        return load_text(text, len, path, realpath(path, real) ? real : path, ret_spec, err);
}

void sbx_profile_entries_free(struct sbx_profile_entry *entries, size_t n)
{
        for (size_t i = 0; entries && i < n; i++) {
                free(entries[i].name);
                free(entries[i].path);
                free(entries[i].description);
        }
        free(entries);
}
