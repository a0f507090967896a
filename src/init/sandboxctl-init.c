/* sandboxctl-init: pid 1 of a long-lived sandbox, after set-up.
 *
 *     sandboxctl-init MSG_FD COMMAND_PID READY_FD
 *
 * The init forked from sandboxctl sets the sandbox up, forks the command,
 * then executes this program from a read-only bind inside the sandbox
 * (SBX_INIT_PATH): a process whose executable and mappings all live on the
 * sandbox's own mounts, which CRIU can dump. Static, so that it maps no
 * library of the host. It hides itself from the command first (not
 * dumpable: no ptrace, no /proc/1 of it), then closes READY_FD, which the
 * command's child waits to see closed before it goes on, and from then on
 * does what init.c does: reap, forward signals, report the command's status
 * on MSG_FD. On SBX_INIT_REEXEC_SIGNAL from outside the sandbox (after a
 * CRIU restore) it execs itself again, READY_FD -1. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "src/lib/run-internal.h"

static long arg(const char *s)
{
        char *end = NULL;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (errno || !end || *end || v < -1 || v > INT_MAX)
                _exit(SBX_EXIT_SETUP);
        return v;
}

int main(int argc, char **argv)
{
        prctl(PR_SET_DUMPABLE, 0);
        if (argc != 4)
                _exit(SBX_EXIT_SETUP);
        int msg_fd = (int)arg(argv[1]);
        pid_t command = (pid_t)arg(argv[2]);
        int ready = (int)arg(argv[3]);
        if (msg_fd < 0 || command <= 0)
                _exit(SBX_EXIT_SETUP);
        if (ready >= 0)
                close(ready);
        /* Exec'd again (SBX_INIT_REEXEC_SIGNAL): no ready pipe any more. */
        char *reexec[] = { argv[0], argv[1], argv[2], (char *)"-1", NULL };
        sbx_init_supervise(msg_fd, command, reexec);
}
