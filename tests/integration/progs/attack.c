/* attack: one escape attempt per sub-command, run inside a sandbox by
 * test_attacks.c. Each prints "ok" when the attempt succeeded, or the errno
 * name (strerrorname_np) of the refusal, on one line, and exits 0; a usage
 * error exits 2. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static int report(int r)
{
        if (r < 0)
                printf("%s\n", strerrorname_np(errno));
        else
                printf("ok\n");
        return 0;
}

static int do_write(const char *path, const char *text)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return report(-1);
        ssize_t n = write(fd, text, strlen(text));
        int e = errno;
        close(fd);
        errno = e;
        return report(n < 0 ? -1 : 0);
}

static int do_read(const char *path)
{
        char buf[64];
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return report(-1);
        ssize_t n = read(fd, buf, sizeof(buf));
        int e = errno;
        close(fd);
        errno = e;
        return report(n < 0 ? -1 : 0);
}

static int do_connect(const char *addr, const char *port)
{
        struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port)) };
        if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1)
                return 2;
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return report(-1);
        return report(connect(fd, (struct sockaddr *)&sin, sizeof(sin)));
}

/* Open /dev/null until it fails; print the errno and the fd limit reached. */
static int do_emfile(void)
{
        int last = -1, fd;
        while ((fd = open("/dev/null", O_RDONLY)) >= 0)
                last = fd;
        printf("%s %d\n", strerrorname_np(errno), last + 1);
        return 0;
}

static int do_fd(int fd)
{
        char buf[64];
        return report(read(fd, buf, sizeof(buf)) < 0 ? -1 : 0);
}

static int do_status(void)
{
        char line[256];
        FILE *f = fopen("/proc/self/status", "re");
        if (!f)
                return report(-1);
        while (fgets(line, sizeof(line), f))
                if (!strncmp(line, "Cap", 3) || !strncmp(line, "NoNewPrivs", 10) ||
                    !strncmp(line, "Uid", 3))
                        fputs(line, stdout);
        fclose(f);
        return 0;
}

/* Fork children that wait for the pipe to close, up to MAX (a bounded fork
 * bomb); print the errno of the first refused fork and how many succeeded,
 * then end them all. */
static int do_forkbomb(int max)
{
        int p[2], made = 0, err = 0;
        pid_t pids[512];

        if (max > 512 || pipe2(p, O_CLOEXEC) < 0)
                return 2;
        for (; made < max; made++) {
                pid_t pid = fork();
                if (pid < 0) {
                        err = errno;
                        break;
                }
                if (pid == 0) {
                        char c;
                        close(p[1]);
                        _exit(read(p[0], &c, 1) < 0);
                }
                pids[made] = pid;
        }
        close(p[1]);
        for (int i = 0; i < made; i++)
                waitpid(pids[i], NULL, 0);
        printf("%s %d\n", err ? strerrorname_np(err) : "ok", made);
        return 0;
}

/* Touch MiB megabytes one page at a time; print "ok" if all of it fits. */
static int do_memhog(long mib)
{
        size_t len = (size_t)mib << 20;
        char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED)
                return report(-1);
        for (size_t i = 0; i < len; i += 4096)
                m[i] = 1;
        return report(0);
}

int main(int argc, char **argv)
{
        const char *cmd = argc > 1 ? argv[1] : "";
        const char *a = argc > 2 ? argv[2] : "";
        const char *b = argc > 3 ? argv[3] : "";

        setvbuf(stdout, NULL, _IOLBF, 0);
        if (!strcmp(cmd, "mount"))
                return report(mount("tmpfs", a, "tmpfs", 0, NULL));
        if (!strcmp(cmd, "write"))
                return do_write(a, "pwned\n");
        if (!strcmp(cmd, "read"))
                return do_read(a);
        if (!strcmp(cmd, "kill"))
                return report(kill(atoi(a), SIGKILL));
        if (!strcmp(cmd, "sethostname"))
                return report(sethostname(a, strlen(a)));
        if (!strcmp(cmd, "connect"))
                return do_connect(a, b);
        if (!strcmp(cmd, "raw-socket"))
                return report(socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP));
        if (!strcmp(cmd, "init_module"))
                return report((int)syscall(SYS_init_module, "", (unsigned long)0, ""));
        if (!strcmp(cmd, "tiocsti")) {
                char c = 'x';
                return report(ioctl(0, TIOCSTI, &c));
        }
        if (!strcmp(cmd, "fd"))
                return do_fd(atoi(a));
        if (!strcmp(cmd, "emfile"))
                return do_emfile();
        if (!strcmp(cmd, "mknod"))
                return report(mknod(a, S_IFCHR | 0666, makedev(1, 3)));
        if (!strcmp(cmd, "status"))
                return do_status();
        if (!strcmp(cmd, "ptrace"))
                return report((int)ptrace(PTRACE_ATTACH, (pid_t)atoi(a), NULL, NULL));
        if (!strcmp(cmd, "unshare-user"))
                return report(unshare(CLONE_NEWUSER | CLONE_NEWNS));
        if (!strcmp(cmd, "bpf"))
                return report((int)syscall(SYS_bpf, 5 /* BPF_PROG_LOAD */, NULL, 0));
        if (!strcmp(cmd, "perf_event_open"))
                return report((int)syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0));
        if (!strcmp(cmd, "open_by_handle_at"))
                return report((int)syscall(SYS_open_by_handle_at, AT_FDCWD, NULL, O_RDONLY));
        if (!strcmp(cmd, "keyctl"))
                return report((int)syscall(SYS_add_key, "user", "k", "v", (size_t)1, -2));
        if (!strcmp(cmd, "forkbomb"))
                return do_forkbomb(atoi(a));
        if (!strcmp(cmd, "memhog"))
                return do_memhog(atol(a));
        fprintf(stderr, "usage: attack mount|write|read|kill|sethostname|connect|raw-socket|"
                        "init_module|tiocsti|fd|emfile|mknod|status|ptrace|unshare-user|bpf|"
                        "perf_event_open|open_by_handle_at|keyctl|forkbomb|memhog [ARGS]\n");
        return 2;
}
