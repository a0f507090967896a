/* cgroup_lib: libcgroup, for the clean-up that spans hierarchies, in
 * short-lived commands only (gc, destroy of a sandbox whose supervisor is
 * dead): removing a sandbox's directories in every hierarchy with
 * cgroup_delete_cgroup_ext(CGFLAG_DELETE_EMPTY_ONLY), and listing the
 * sandbox cgroups under a parent with cgroup_walk_tree.
 *
 * libcgroup is loaded here with dlopen, on first use, and never by `run`
 * or a supervisor: libcgroup 2.0.2's cgroup_init() dirties an 820 KB mount
 * table (about 200 pages that would stay resident for a sandbox's whole
 * life) and each create or modify call re-reads /proc/mounts; linking it
 * would also map it into every `run`. The per-sandbox hot path (create,
 * limit, attach, kill, remove) writes the files directly (cgroup.c,
 * cgroup_v1.c, cgroup_v2.c, cgroup_kill.c). See docs/cgroups.md.
 *
 * The traps of 2.0.2 that shape this code: one struct cgroup names the
 * same relative path in every controller it holds, so the memory cgroup
 * (nested under the caller's own memory cgroup on v1) gets a struct of
 * its own; co-mounted controllers (cpu,cpuacct) are added once; nothing
 * here creates a cgroup (on v2 creating writes +controller into every
 * ancestor's cgroup.subtree_control). */
#include <dlfcn.h>
#include <errno.h>
#include <libcgroup.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "sandboxctl/util.h"
#include "src/lib/cgroup_internal.h"

#define LIBCGROUP_SONAME "libcgroup.so.2"

static struct {
        bool loaded;
        __typeof__(cgroup_init) *init;
        __typeof__(cgroup_new_cgroup) *new_cgroup;
        __typeof__(cgroup_add_controller) *add_controller;
        __typeof__(cgroup_delete_cgroup_ext) *delete_ext;
        __typeof__(cgroup_free) *free;
        __typeof__(cgroup_strerror) *strerror;
        __typeof__(cgroup_get_last_errno) *last_errno;
        __typeof__(cgroup_walk_tree_begin) *walk_begin;
        __typeof__(cgroup_walk_tree_next) *walk_next;
        __typeof__(cgroup_walk_tree_end) *walk_end;
        __typeof__(cgroup_walk_tree_set_flags) *walk_set_flags;
} lib;

static int lib_resolve(void *h, const char *name, void **slot, sbx_error **err)
{
        *slot = dlsym(h, name);
        if (!*slot)
                return sbx_error_set(err, ENOSYS, "load %s: no symbol %s", LIBCGROUP_SONAME, name);
        return 0;
}

/* Load libcgroup and cgroup_init() it, once per process. */
static int lib_load(sbx_error **err)
{
        if (lib.loaded)
                return 0;
        void *h = dlopen(LIBCGROUP_SONAME, RTLD_NOW | RTLD_LOCAL);
        if (!h)
                return sbx_error_set(err, ENOENT, "load %s: %s", LIBCGROUP_SONAME, dlerror());
        struct {
                const char *name;
                void **slot;
        } syms[] = {
                { "cgroup_init", (void **)&lib.init },
                { "cgroup_new_cgroup", (void **)&lib.new_cgroup },
                { "cgroup_add_controller", (void **)&lib.add_controller },
                { "cgroup_delete_cgroup_ext", (void **)&lib.delete_ext },
                { "cgroup_free", (void **)&lib.free },
                { "cgroup_strerror", (void **)&lib.strerror },
                { "cgroup_get_last_errno", (void **)&lib.last_errno },
                { "cgroup_walk_tree_begin", (void **)&lib.walk_begin },
                { "cgroup_walk_tree_next", (void **)&lib.walk_next },
                { "cgroup_walk_tree_end", (void **)&lib.walk_end },
                { "cgroup_walk_tree_set_flags", (void **)&lib.walk_set_flags },
        };
        for (size_t i = 0; i < SBX_ARRAY_SIZE(syms); i++) {
                int r = lib_resolve(h, syms[i].name, syms[i].slot, err);
                if (r < 0) {
                        dlclose(h);
                        return r;
                }
        }
        int r = lib.init();
        if (r != 0) {
                int e = sbx_error_set(err, EIO, "cgroup_init: %s", lib.strerror(r));
                dlclose(h);
                return e;
        }
        lib.loaded = true; /* h stays open for the process's life */
        return 0;
}

bool sbx_cg_lib_available(void)
{
        return lib_load(NULL) >= 0;
}

/* One struct cgroup for `rel` in the hierarchies of `ctrls`, deleted if
 * empty. A directory already gone is not an error. */
static int lib_delete(const char *rel, const char *const *ctrls, size_t n, sbx_error **err)
{
        struct cgroup *g = lib.new_cgroup(rel);
        if (!g)
                return sbx_error_errno(err, ENOMEM, "libcgroup: cgroup %s", rel);
        for (size_t i = 0; i < n; i++) {
                if (!lib.add_controller(g, ctrls[i])) {
                        lib.free(&g);
                        return sbx_error_set(err, EINVAL, "libcgroup: cgroup %s: controller %s",
                                             rel, ctrls[i]);
                }
        }
        int r = lib.delete_ext(g, CGFLAG_DELETE_EMPTY_ONLY);
        lib.free(&g);
        if (r == 0 || r == ECGROUPNOTEXIST)
                return 0;
        int e = r == ECGOTHER ? lib.last_errno() : 0;
        if (e == ENOENT)
                return 0;
        e = e > 0 ? e : EBUSY;
        return sbx_error_set(err, e, "libcgroup: delete cgroup %s: %s", rel, lib.strerror(r));
}

/* v1: the shared relative path for every controller but memory (one of
 * each co-mounted set), and the nested memory path on its own. */
static int lib_delete_v1(const struct sbx_cg_place *p, sbx_error **err)
{
        const char *ctrls[SBX_CG_N];
        const char *shared = NULL;
        size_t n = 0;
        int ret = 0;

        for (int c = 0; c < SBX_CG_N; c++) {
                if (!p->rel[c] || p->dup[c] || c == SBX_CG_MEMORY)
                        continue;
                if (shared && strcmp(shared, p->rel[c]) != 0) {
                        /* Not the same path (an absolute parent and a
                         * namespace root differ): its own struct. */
                        int r = lib_delete(p->rel[c], (const char *const[]){ sbx_cg_ctrl_name(c) },
                                           1, ret < 0 ? NULL : err);
                        ret = ret < 0 ? ret : r;
                        continue;
                }
                shared = p->rel[c];
                ctrls[n++] = sbx_cg_ctrl_name(c);
        }
        if (n > 0) {
                int r = lib_delete(shared, ctrls, n, ret < 0 ? NULL : err);
                ret = ret < 0 ? ret : r;
        }
        if (p->rel[SBX_CG_MEMORY] && !p->dup[SBX_CG_MEMORY]) {
                int r = lib_delete(p->rel[SBX_CG_MEMORY], (const char *const[]){ "memory" }, 1,
                                   ret < 0 ? NULL : err);
                ret = ret < 0 ? ret : r;
        }
        return ret;
}

int sbx_cg_lib_remove(struct sbx_cgroup *cg, sbx_error **err)
{
        int r = lib_load(err);
        if (r < 0)
                return r;
        /* v2: one directory, nothing spans hierarchies (cgroup_v2.c). */
        if (cg->place.v2)
                return sbx_error_set(err, EOPNOTSUPP, "libcgroup: not used on cgroup v2");
        r = lib_delete_v1(&cg->place, err);
        /* libcgroup's "not empty" is EBUSY from rmdir: say which cgroup. */
        return r < 0 ? sbx_error_prefix(err, r, "remove cgroup %s", cg->place.display) : 0;
}

static bool id_like(const char *name)
{
        return strlen(name) == 16 && strspn(name, "0123456789abcdef") == 16;
}

static bool older_than(const char *path, unsigned min_age_s)
{
        struct stat st;
        return min_age_s == 0 ||
               (stat(path, &st) == 0 && st.st_mtime + (time_t)min_age_s <= time(NULL));
}

/* Walk one level below `base` in the hierarchy of `ctrl`. */
static int lib_walk_ids(const char *ctrl, const char *base, unsigned min_age_s, char ***ids,
                        sbx_error **err)
{
        struct cgroup_file_info info;
        void *handle = NULL;
        int level = 0;
        int r = lib.walk_begin(ctrl, base, 1, &handle, &info, &level);
        bool started = r == 0;

        if (started)
                lib.walk_set_flags(&handle, CGROUP_WALK_TYPE_PRE_DIR);
        while (r == 0) {
                if (info.type == CGROUP_FILE_TYPE_DIR && info.depth == 1 && id_like(info.path) &&
                    older_than(info.full_path, min_age_s) && sbx_cg_strv_add(ids, "%s", info.path) < 0) {
                        r = ECGFAIL;
                        errno = ENOMEM;
                        break;
                }
                r = lib.walk_next(1, &handle, &info, level);
        }
        if (started)
                lib.walk_end(&handle);
        if (r == ECGEOF || r == ECGROUPNOTEXIST)
                return 0;
        int e = r == ECGOTHER ? lib.last_errno() : 0;
        if (e == ENOENT)
                return 0; /* no parent: no sandbox */
        return sbx_error_set(err, e > 0 ? e : EIO, "libcgroup: walk %s:%s: %s", ctrl, base,
                             lib.strerror(r));
}

int sbx_cg_lib_list_ids(const struct sbx_cgroup *cg, unsigned min_age_s, char ***ret,
                        sbx_error **err)
{
        int r = lib_load(err);
        if (r < 0)
                return r;
        if (cg->place.v2)
                return sbx_error_set(err, EOPNOTSUPP, "libcgroup: not used on cgroup v2");
        char **ids = calloc(1, sizeof(char *));
        if (!ids)
                return sbx_error_errno(err, ENOMEM, "list cgroups");
        /* One hierarchy is enough (a sandbox has the same name in each);
         * the first one placed, as sbx_cgroup_dirs() lists them. */
        for (int c = 0; c < SBX_CG_N; c++) {
                if (!cg->place.rel[c])
                        continue;
                sbx_autofree char *base = strdup(cg->place.rel[c]);
                char *slash = base ? strrchr(base, '/') : NULL;
                if (!slash) {
                        sbx_cg_strv_free(ids);
                        return sbx_error_errno(err, ENOMEM, "list cgroups");
                }
                *slash = '\0';
                r = lib_walk_ids(sbx_cg_ctrl_name(c), *base ? base : "/", min_age_s, &ids, err);
                break;
        }
        if (r < 0) {
                sbx_cg_strv_free(ids);
                return r;
        }
        *ret = ids;
        return 0;
}
