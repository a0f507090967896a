/* seccomp_lists: the built-in syscall tables (see seccomp_lists.h and
 * docs/security.md for why each call is there). */
#include "seccomp_lists.h"

#include "sandboxctl/util.h"

const char *const sbx_seccomp_default_deny[] = {
        /* file systems and mounts: the sandbox's mounts are set up before
         * the filter is loaded */
        "mount", "umount", "umount2", "pivot_root", "fsopen", "fsmount", "fsconfig",
        "fspick", "move_mount", "open_tree", "mount_setattr", "quotactl", "quotactl_fd",
        "swapon", "swapoff", "nfsservctl",
        /* the machine and its kernel */
        "reboot", "kexec_load", "kexec_file_load", "init_module", "finit_module",
        "delete_module", "create_module", "query_module", "get_kernel_syms", "acct",
        "syslog", "uselib", "lookup_dcookie", "vhangup", "iopl", "ioperm",
        /* the clock is shared with the host */
        "settimeofday", "clock_settime", "clock_adjtime", "stime",
        /* large kernel attack surface a sandboxed build never needs */
        "bpf", "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter",
        "io_uring_register",
        /* the kernel keyring is not namespaced */
        "keyctl", "add_key", "request_key",
        /* file handles bypass the mount namespace's view */
        "open_by_handle_at", "name_to_handle_at",
};
const size_t sbx_seccomp_default_deny_n = SBX_ARRAY_SIZE(sbx_seccomp_default_deny);

const char *const sbx_seccomp_strict_extra_deny[] = {
        "setns", "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd",
};
const size_t sbx_seccomp_strict_extra_deny_n = SBX_ARRAY_SIZE(sbx_seccomp_strict_extra_deny);

const char *const sbx_seccomp_strict_allow[] = {
        /* files and descriptors */
        "read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev",
        "preadv2", "pwritev2", "open", "openat", "openat2", "creat", "close", "close_range",
        "lseek", "dup", "dup2", "dup3", "fcntl", "flock", "pipe", "pipe2", "sendfile",
        "splice", "tee", "vmsplice", "copy_file_range", "fsync", "fdatasync", "sync",
        "syncfs", "sync_file_range", "fallocate", "fadvise64", "readahead", "truncate",
        "ftruncate",
        /* metadata */
        "stat", "fstat", "lstat", "newfstatat", "statx", "statfs", "fstatfs", "access",
        "faccessat", "faccessat2", "getdents", "getdents64", "getcwd", "chdir", "fchdir",
        "rename", "renameat", "renameat2", "mkdir", "mkdirat", "rmdir", "link", "linkat",
        "unlink", "unlinkat", "symlink", "symlinkat", "readlink", "readlinkat", "chmod",
        "fchmod", "fchmodat", "fchmodat2", "chown", "fchown", "lchown", "fchownat",
        "umask", "utime", "utimes", "utimensat", "futimesat", "mknod", "mknodat",
        "getxattr", "lgetxattr", "fgetxattr", "listxattr", "llistxattr", "flistxattr",
        "setxattr", "lsetxattr", "fsetxattr", "removexattr", "lremovexattr",
        "fremovexattr",
        /* memory */
        "brk", "mmap", "munmap", "mremap", "mprotect", "msync", "mincore", "madvise",
        "mlock", "mlock2", "munlock", "mlockall", "munlockall", "memfd_create",
        "membarrier", "get_mempolicy", "set_mempolicy", "mbind", "map_shadow_stack",
        /* processes */
        "fork", "vfork", "execve", "execveat", "exit", "exit_group", "wait4", "waitid",
        "kill", "tkill", "tgkill", "getpid", "getppid", "gettid", "getpgid", "setpgid",
        "getpgrp", "getsid", "setsid", "set_tid_address", "set_robust_list",
        "get_robust_list", "rseq", "arch_prctl", "prctl", "restart_syscall",
        "pidfd_open", "pidfd_send_signal", "sched_yield", "sched_getaffinity",
        "sched_setaffinity", "sched_getparam", "sched_setparam", "sched_getscheduler",
        "sched_setscheduler", "sched_getattr", "sched_setattr", "sched_get_priority_max",
        "sched_get_priority_min", "sched_rr_get_interval", "getpriority", "setpriority",
        "ioprio_get", "ioprio_set", "getcpu", "seccomp", "landlock_create_ruleset",
        "landlock_add_rule", "landlock_restrict_self",
        /* credentials (inside the user namespace) */
        "getuid", "geteuid", "getgid", "getegid", "getresuid", "getresgid", "getgroups",
        "setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid",
        "setgroups", "setfsuid", "setfsgid", "capget", "capset",
        /* signals */
        "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigpending",
        "rt_sigtimedwait", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "rt_sigsuspend",
        "sigaltstack", "signalfd", "signalfd4", "pause",
        /* time */
        "clock_gettime", "clock_getres", "clock_nanosleep", "nanosleep", "gettimeofday",
        "time", "times", "getitimer", "setitimer", "alarm", "timer_create",
        "timer_settime", "timer_gettime", "timer_getoverrun", "timer_delete",
        "timerfd_create", "timerfd_settime", "timerfd_gettime", "adjtimex",
        /* waiting and events */
        "poll", "ppoll", "select", "pselect6", "epoll_create", "epoll_create1",
        "epoll_ctl", "epoll_wait", "epoll_pwait", "epoll_pwait2", "eventfd", "eventfd2",
        "futex", "futex_waitv", "inotify_init", "inotify_init1", "inotify_add_watch",
        "inotify_rm_watch",
        /* sockets (socket itself is filtered by family) */
        "socketpair", "connect", "accept", "accept4", "bind", "listen", "shutdown",
        "getsockname", "getpeername", "sendto", "recvfrom", "sendmsg", "recvmsg",
        "sendmmsg", "recvmmsg", "setsockopt", "getsockopt",
        /* System V and POSIX IPC (in the sandbox's IPC namespace) */
        "shmget", "shmat", "shmdt", "shmctl", "semget", "semop", "semtimedop", "semctl",
        "msgget", "msgsnd", "msgrcv", "msgctl", "mq_open", "mq_unlink", "mq_timedsend",
        "mq_timedreceive", "mq_notify", "mq_getsetattr",
        /* the system, read only */
        "uname", "sysinfo", "getrlimit", "setrlimit", "prlimit64", "getrusage",
        "getrandom",
};
const size_t sbx_seccomp_strict_allow_n = SBX_ARRAY_SIZE(sbx_seccomp_strict_allow);
