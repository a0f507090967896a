/* registry_names: the name index of a state dir. <state-dir>/names/<name>
 * is a symlink to ../<id>, made under the registry lock when a named
 * sandbox is created (after its state.json), removed when it is, repaired by
 * gc. A name is found by one readlink and one state file, never by reading
 * every sandbox's. The index only points: the target's state.json says
 * whether the sandbox still has that name and still lives. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "registry-internal.h"
#include "sandboxctl/state.h"
#include "sandboxctl/util.h"

SBX_DEFINE_CLEANUP(DIR *, closedir)

#define NAMES_DIR "names"

static char *name_path(const char *state_dir, const char *name)
{
        char *p;

        if (asprintf(&p, "%s/" NAMES_DIR "/%s", state_dir, name) < 0)
                return NULL;
        return p;
}

/* The id names/<name> points at: -ENOENT without a link, -EINVAL if it is
 * not one of ours. */
static int read_link(const char *state_dir, const char *name, char ret_id[SBX_ID_LEN + 1])
{
        sbx_autofree char *path = name_path(state_dir, name);
        char buf[64];

        if (!path)
                return -ENOMEM;
        ssize_t n = readlink(path, buf, sizeof(buf) - 1);
        if (n < 0)
                return -errno;
        buf[n] = '\0';
        if (strncmp(buf, "../", 3) != 0 || !sbx_sandbox_id_valid(buf + 3))
                return -EINVAL;
        memcpy(ret_id, buf + 3, SBX_ID_LEN + 1);
        return 0;
}

static bool entry_exists(const char *state_dir, const char *id)
{
        sbx_autofree char *dir = sbx_registry_path(state_dir, id, NULL);
        struct stat st;

        return dir && stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
}

int registry_name_lookup(const char *state_dir, const char *name, char ret_id[SBX_ID_LEN + 1],
                         bool *ret_live)
{
        __attribute__((cleanup(sbx_sandbox_freep))) struct sbx_sandbox *sb = NULL;
        char id[SBX_ID_LEN + 1];
        int r = read_link(state_dir, name, id);

        if (r < 0)
                return r == -ENOMEM ? r : -ENOENT;
        if (sbx_registry_read(state_dir, id, &sb, NULL) < 0) {
                /* Being created, or a broken state file: it is there, not live. */
                if (!entry_exists(state_dir, id))
                        return -ENOENT;
                *ret_live = false;
        } else if (!sb->name || strcmp(sb->name, name) != 0) {
                return -ENOENT; /* a stale link */
        } else {
                *ret_live = !sb->supervisor_dead;
        }
        memcpy(ret_id, id, SBX_ID_LEN + 1);
        return 0;
}

int registry_name_check_free(const char *state_dir, const char *name, sbx_error **err)
{
        char id[SBX_ID_LEN + 1];
        bool live = false;
        int r = registry_name_lookup(state_dir, name, id, &live);

        if (r == -ENOMEM)
                return sbx_error_errno(err, ENOMEM, "look up name '%s'", name);
        if (r >= 0 && live)
                return sbx_error_set(err, EEXIST, "name '%s' is already used by sandbox %s", name,
                                     id);
        return 0;
}

int registry_name_link(const char *state_dir, const char *name, const char *id, sbx_error **err)
{
        sbx_autofree char *dir = sbx_registry_path(state_dir, NAMES_DIR, NULL);
        sbx_autofree char *path = name_path(state_dir, name);
        sbx_autofree char *tmp = NULL;
        char target[SBX_ID_LEN + 4];

        if (!dir || !path || asprintf(&tmp, "%s/.%s.tmp", dir, id) < 0)
                return sbx_error_errno(err, ENOMEM, "index name '%s'", name);
        if (mkdir(dir, 0711) < 0 && errno != EEXIST)
                return sbx_error_errno(err, errno, "mkdir %s", dir);
        snprintf(target, sizeof(target), "../%s", id);
        unlink(tmp);
        if (symlink(target, tmp) < 0)
                return sbx_error_errno(err, errno, "symlink %s", tmp);
        /* Atomic: a stale link of a dead sandbox is replaced, never missing. */
        if (rename(tmp, path) < 0) {
                int e = errno;
                unlink(tmp);
                return sbx_error_errno(err, e, "rename %s to %s", tmp, path);
        }
        return 0;
}

/* Unlink names/<name> if it still points at id; the caller holds the lock. */
static void unlink_if_target(const char *state_dir, const char *name, const char *id)
{
        char target[SBX_ID_LEN + 1];
        sbx_autofree char *path = name_path(state_dir, name);

        if (path && read_link(state_dir, name, target) >= 0 && strcmp(target, id) == 0)
                unlink(path);
}

/* The names that point at id (a sandbox whose state.json is unreadable). */
static void unlink_all_targets(const char *state_dir, const char *id)
{
        sbx_autofree char *dir = sbx_registry_path(state_dir, NAMES_DIR, NULL);
        __attribute__((cleanup(closedirp))) DIR *d = dir ? opendir(dir) : NULL;
        struct dirent *de;

        while (d && (de = readdir(d)))
                if (de->d_name[0] != '.')
                        unlink_if_target(state_dir, de->d_name, id);
}

void registry_name_drop(const char *state_dir, const char *id)
{
        __attribute__((cleanup(sbx_sandbox_freep))) struct sbx_sandbox *sb = NULL;
        bool known = sbx_registry_read(state_dir, id, &sb, NULL) >= 0;

        if (known && !sb->name)
                return;
        /* Without the lock (it timed out), gc repairs what is left. */
        sbx_autoclose int lock = sbx_registry_lock(state_dir, NULL, 10000, NULL);
        if (lock < 0)
                return;
        if (known)
                unlink_if_target(state_dir, sb->name, id);
        else
                unlink_all_targets(state_dir, id);
}

/* Drop links to nothing, to a sandbox that has another name now, or that
 * are not ours. */
static void drop_stale_links(const char *state_dir)
{
        sbx_autofree char *dir = sbx_registry_path(state_dir, NAMES_DIR, NULL);
        __attribute__((cleanup(closedirp))) DIR *d = dir ? opendir(dir) : NULL;
        struct dirent *de;
        char id[SBX_ID_LEN + 1];
        bool live;

        while (d && (de = readdir(d))) {
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                if (registry_name_lookup(state_dir, de->d_name, id, &live) == -ENOENT)
                        unlinkat(dirfd(d), de->d_name, 0);
        }
}

/* Index each named sandbox that lacks its link: a live one wins over a dead
 * one holding the name. */
static int link_missing(const char *state_dir, sbx_error **err)
{
        struct sbx_sandbox **v = NULL;
        size_t n = 0;
        int r = sbx_registry_list(state_dir, &v, &n, err);

        for (size_t i = 0; r >= 0 && i < n; i++) {
                char id[SBX_ID_LEN + 1];
                bool live = false, sb_live = !v[i]->broken && !v[i]->supervisor_dead;

                if (!v[i]->name || v[i]->broken ||
                    sbx_sandbox_name_check(v[i]->name, NULL) < 0)
                        continue;
                int q = registry_name_lookup(state_dir, v[i]->name, id, &live);
                if (q == -ENOENT || (q >= 0 && !live && sb_live && strcmp(id, v[i]->id) != 0))
                        r = registry_name_link(state_dir, v[i]->name, v[i]->id, err);
        }
        sbx_sandboxes_free(v, n);
        return r;
}

/* Whether the state dir holds a sandbox or a name (else there is nothing
 * to repair, and no lock file is made). */
static bool has_entries(const char *state_dir)
{
        __attribute__((cleanup(closedirp))) DIR *d = opendir(state_dir);
        struct dirent *de;

        while (d && (de = readdir(d)))
                if (sbx_sandbox_id_valid(de->d_name) || strcmp(de->d_name, NAMES_DIR) == 0)
                        return true;
        return false;
}

int sbx_registry_names_repair(const char *state_dir, sbx_error **err)
{
        if (!has_entries(state_dir))
                return 0;
        sbx_autoclose int lock = sbx_registry_lock(state_dir, NULL, 10000, err);
        if (lock < 0)
                return lock;
        drop_stale_links(state_dir);
        return link_missing(state_dir, err);
}
