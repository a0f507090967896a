/* vm-env: facts of the environment the integration tests run in.
 *
 * On the host (hybrid cgroup: v1 controllers, a controller-less cgroup2 at
 * /sys/fs/cgroup/unified) and in the cgroup v2 VM lane (SBX_VM=1: cgroup2 at
 * /sys/fs/cgroup with memory, pids and cpu) the cgroup code takes different
 * paths; this test pins down which layout each place has, and that the paths
 * the other integration tests rely on exist. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "harness.h"

static bool in_vm(void)
{
        const char *v = getenv("SBX_VM");
        return v && strcmp(v, "1") == 0;
}

static long fs_type(const char *path)
{
        struct statfs st;
        cr_assert_eq(statfs(path, &st), 0, "statfs %s: %s", path, strerror(errno));
        return (long)st.f_type;
}

/* Whole file as a string (small files only); asserts it can be read. */
static char *read_text(const char *path)
{
        static char buf[8192];
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        cr_assert_geq(fd, 0, "open %s: %s", path, strerror(errno));
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        int saved = errno;
        close(fd);
        cr_assert_geq(n, 0, "read %s: %s", path, strerror(saved));
        buf[n] = '\0';
        return buf;
}

/* Is `word` one of the space/newline separated words of `list`? */
static bool has_word(const char *list, const char *word)
{
        size_t len = strlen(word);
        for (const char *p = list; (p = strstr(p, word)); p += len) {
                bool starts = p == list || p[-1] == ' ' || p[-1] == '\n';
                bool ends = p[len] == '\0' || p[len] == ' ' || p[len] == '\n';
                if (starts && ends)
                        return true;
        }
        return false;
}

static void assert_v2_root(void)
{
        char *ctl = read_text("/sys/fs/cgroup/cgroup.controllers");
        cr_assert(has_word(ctl, "memory"), "cgroup.controllers lacks memory: '%s'", ctl);
        cr_assert(has_word(ctl, "pids"), "cgroup.controllers lacks pids: '%s'", ctl);
        cr_assert(has_word(ctl, "cpu"), "cgroup.controllers lacks cpu: '%s'", ctl);
        char *self = read_text("/proc/self/cgroup");
        cr_assert_eq(strncmp(self, "0::/", 4), 0, "/proc/self/cgroup: '%s'", self);
        cr_assert_null(strchr(self, '\n') ? strchr(strchr(self, '\n') + 1, ':') : NULL,
                       "/proc/self/cgroup has more than one hierarchy: '%s'", self);
}

static void assert_hybrid(void)
{
        cr_assert_eq(fs_type("/sys/fs/cgroup/memory"), CGROUP_SUPER_MAGIC,
                     "/sys/fs/cgroup/memory is not a cgroup v1 mount");
        cr_assert_eq(fs_type("/sys/fs/cgroup/pids"), CGROUP_SUPER_MAGIC,
                     "/sys/fs/cgroup/pids is not a cgroup v1 mount");
        char *self = read_text("/proc/self/cgroup");
        cr_assert(strstr(self, ":memory:/"), "no memory line in /proc/self/cgroup: '%s'", self);
        if (access("/sys/fs/cgroup/unified", F_OK) != 0)
                return;
        cr_assert_eq(fs_type("/sys/fs/cgroup/unified"), CGROUP2_SUPER_MAGIC,
                     "/sys/fs/cgroup/unified is not cgroup2");
        /* The v1 hierarchies hold these: the unified mount cannot. */
        char *ctl = read_text("/sys/fs/cgroup/unified/cgroup.controllers");
        cr_assert_not(has_word(ctl, "memory"), "unified lists memory: '%s'", ctl);
        cr_assert_not(has_word(ctl, "pids"), "unified lists pids: '%s'", ctl);
        cr_assert_not(has_word(ctl, "cpu"), "unified lists cpu: '%s'", ctl);
}

/* The topmost mount at "/" in /proc/self/mountinfo: its id, its parent's id
 * and its file system type. */
static int root_mount(int *ret_id, int *ret_parent, char *ret_type, size_t type_size)
{
        FILE *f = fopen("/proc/self/mountinfo", "re");
        cr_assert_not_null(f, "open /proc/self/mountinfo: %s", strerror(errno));
        char line[4096];
        int found = -ENOENT;
        while (fgets(line, sizeof(line), f)) {
                int id, parent;
                char mnt[4096];
                const char *dash = strstr(line, " - ");
                if (sscanf(line, "%d %d %*s %*s %4095s", &id, &parent, mnt) != 3 || !dash ||
                    strcmp(mnt, "/") != 0)
                        continue;
                *ret_id = id;
                *ret_parent = parent;
                snprintf(ret_type, type_size, "%.*s", (int)strcspn(dash + 3, " "), dash + 3);
                found = 0;
        }
        fclose(f);
        return found;
}

Test(vm_env, cgroup_layout)
{
        long root = fs_type("/sys/fs/cgroup");
        if (in_vm())
                cr_assert_eq(root, CGROUP2_SUPER_MAGIC,
                             "in the VM lane /sys/fs/cgroup must be cgroup2, f_type is 0x%lx", root);
        if (root == CGROUP2_SUPER_MAGIC)
                assert_v2_root();
        else
                cr_assert_eq(root, TMPFS_MAGIC, "/sys/fs/cgroup: f_type 0x%lx", root);
        if (root == TMPFS_MAGIC)
                assert_hybrid();
}

Test(vm_env, paths_of_the_tests)
{
        const char *sbx = getenv("SANDBOXCTL");
        cr_assert(sbx && *sbx, "SANDBOXCTL is not set");
        cr_assert_eq(access(sbx, X_OK), 0, "%s: %s", sbx, strerror(errno));
        const char *medium = sbx_test_source_path("profiles/medium.yaml");
        cr_assert_eq(access(medium, R_OK), 0, "%s: %s", medium, strerror(errno));
        const char *build = getenv("SBX_BUILD_ROOT");
        struct stat st;
        cr_assert(build && stat(build, &st) == 0 && S_ISDIR(st.st_mode), "SBX_BUILD_ROOT %s",
                  build ? build : "(unset)");
        const char *ppath = getenv("SANDBOXCTL_PROFILE_PATH");
        cr_assert(ppath && stat(ppath, &st) == 0 && S_ISDIR(st.st_mode),
                  "SANDBOXCTL_PROFILE_PATH %s", ppath ? ppath : "(unset)");
}

Test(vm_env, vm_machine)
{
        if (!in_vm())
                cr_skip_test("only in the VM lane (SBX_VM=1)");
        char *fs = read_text("/proc/filesystems");
        cr_assert(strstr(fs, "\toverlay\n"), "overlay is not in /proc/filesystems");
        cr_assert_eq(access("/sys/class/net/lo", F_OK), 0, "no lo");
        cr_assert_eq(access("/sys/module/veth", F_OK), 0, "veth is not loaded");
        /* Like a host: a NIC beside lo, for tests of network: host. */
        cr_assert_eq(access("/sys/class/net/eth0", F_OK), 0, "no eth0");
        char *flags = read_text("/sys/class/net/eth0/flags");
        cr_assert(strtoul(flags, NULL, 16) & 0x1, "eth0 is not up: flags %s", flags);
        /* pivot_root needs a root mount with a parent: not the initramfs. */
        char fstype[64] = "";
        int id = -1, parent = -1;
        cr_assert_eq(root_mount(&id, &parent, fstype, sizeof(fstype)), 0, "no / in mountinfo");
        cr_assert_str_eq(fstype, "tmpfs", "/ is %s, not the tmpfs of stage 2", fstype);
        cr_assert_neq(id, parent, "the root mount %d has no parent: pivot_root fails there", id);
        cr_assert_eq(geteuid(), 0u, "not root in the VM");
}

SBX_TEST_MAIN(SBX_NEED_NOTHING)
