/* ns: clone() into new namespaces with a pidfd, and the user namespace's
 * id maps. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "run-internal.h"
#include "sandboxctl/util.h"

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000
#endif
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

/* struct clone_args up to `cgroup` (CLONE_ARGS_SIZE_VER2 = 88 bytes);
 * declared here so as not to mix <linux/sched.h> with <sched.h>. */
struct sbx_clone_args {
        uint64_t flags;
        uint64_t pidfd;
        uint64_t child_tid;
        uint64_t parent_tid;
        uint64_t exit_signal;
        uint64_t stack;
        uint64_t stack_size;
        uint64_t tls;
        uint64_t set_tid;
        uint64_t set_tid_size;
        uint64_t cgroup;
};
#define CLONE_ARGS_SIZE_VER0 64

static const struct {
        unsigned bit;
        uint64_t flag;
} ns_flags[] = {
        { SBX_NS_USER, CLONE_NEWUSER }, { SBX_NS_PID, CLONE_NEWPID },
        { SBX_NS_MOUNT, CLONE_NEWNS },  { SBX_NS_UTS, CLONE_NEWUTS },
        { SBX_NS_IPC, CLONE_NEWIPC },   { SBX_NS_NET, CLONE_NEWNET },
        /* Not SBX_NS_CGROUP: a cgroup namespace made by clone() is rooted
         * at the supervisor's cgroup, even with CLONE_INTO_CGROUP; init
         * unshares it once it is in the sandbox's cgroup. */
};

unsigned sbx_ns_for_spec(const struct sbx_spec *spec)
{
        unsigned ns = spec->isolation.namespaces & SBX_NS_ALL;

        /* network none is a private netns; host shares the host's. */
        if (spec->network == SBX_NETWORK_NONE)
                ns |= SBX_NS_NET;
        else if (spec->network == SBX_NETWORK_HOST)
                ns &= ~(unsigned)SBX_NS_NET;
        return ns;
}

static uint64_t clone_flags_for(unsigned ns)
{
        uint64_t flags = 0;

        for (size_t i = 0; i < SBX_ARRAY_SIZE(ns_flags); i++)
                if (ns & ns_flags[i].bit)
                        flags |= ns_flags[i].flag;
        return flags;
}

pid_t sbx_ns_clone(unsigned ns, int cgroup_fd, int *ret_pidfd, bool *ret_placed, sbx_error **err)
{
        int pidfd = -1;
        struct sbx_clone_args args = {
                .flags = clone_flags_for(ns) | CLONE_PIDFD,
                .pidfd = (uint64_t)(uintptr_t)&pidfd,
                .exit_signal = SIGCHLD,
        };
        size_t size = CLONE_ARGS_SIZE_VER0;
        bool placed = false;

        if (cgroup_fd >= 0) {
                args.flags |= CLONE_INTO_CGROUP;
                args.cgroup = (uint64_t)cgroup_fd;
                size = sizeof(args);
                placed = true;
        }
        long pid = syscall(SYS_clone3, &args, size);
        /* Kernels before 5.7 know no CLONE_INTO_CGROUP: the caller then
         * attaches the child before releasing it. */
        if (pid < 0 && placed && (errno == ENOSYS || errno == E2BIG || errno == EOPNOTSUPP)) {
                args.flags &= ~CLONE_INTO_CGROUP;
                args.cgroup = 0;
                placed = false;
                pid = syscall(SYS_clone3, &args, (size_t)CLONE_ARGS_SIZE_VER0);
        }
        if (pid < 0)
                return sbx_error_errno(err, errno, "clone3 with flags 0x%llx",
                                       (unsigned long long)args.flags);
        if (pid == 0)
                return 0;
        /* The kernel sets CLOEXEC on a pidfd. */
        *ret_pidfd = pidfd;
        *ret_placed = placed;
        return (pid_t)pid;
}

static int write_proc_file(pid_t pid, const char *file, const char *text, sbx_error **err)
{
        char path[64];

        snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
        sbx_autoclose int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return sbx_error_errno(err, errno, "open %s", path);
        size_t len = strlen(text);
        ssize_t n = write(fd, text, len);
        if (n < 0)
                return sbx_error_errno(err, errno, "write %s", path);
        if ((size_t)n != len)
                return sbx_error_set(err, EIO, "write %s: short write", path);
        return 0;
}

int sbx_ns_write_id_maps(pid_t pid, sbx_error **err)
{
        char map[64];
        int r;

        r = write_proc_file(pid, "setgroups", "deny", err);
        if (r < 0)
                return r;
        snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)geteuid());
        r = write_proc_file(pid, "uid_map", map, err);
        if (r < 0)
                return r;
        snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)getegid());
        return write_proc_file(pid, "gid_map", map, err);
}

int sbx_close_fds_except(int keep)
{
        if (keep < 3)
                return close_range(3, ~0U, 0) < 0 ? -errno : 0;
        if (keep > 3 && close_range(3, (unsigned)keep - 1, 0) < 0)
                return -errno;
        return close_range((unsigned)keep + 1, ~0U, 0) < 0 ? -errno : 0;
}

int sbx_close_fds_except2(int a, int b)
{
        int lo = a < b ? a : b, hi = a < b ? b : a;

        if (lo < 3 || lo == hi)
                return sbx_close_fds_except(hi);
        if (lo > 3 && close_range(3, (unsigned)lo - 1, 0) < 0)
                return -errno;
        if (hi > lo + 1 && close_range((unsigned)lo + 1, (unsigned)hi - 1, 0) < 0)
                return -errno;
        return close_range((unsigned)hi + 1, ~0U, 0) < 0 ? -errno : 0;
}
