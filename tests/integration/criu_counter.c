/* criu-counter: the process that the CRIU tests checkpoint. Appends
 * "<count> <pid> <hostname>" to FILE every 20 ms, opening and closing it
 * each time, so that a restored counter shows up as the next line. */
#include <fcntl.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
        if (argc != 2) {
                fprintf(stderr, "usage: criu-counter FILE\n");
                return 2;
        }
        char host[256] = "";
        for (unsigned long n = 1;; n++) {
                gethostname(host, sizeof(host) - 1);
                int fd = open(argv[1], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
                if (fd < 0)
                        return 1;
                dprintf(fd, "%lu %d %s\n", n, (int)getpid(), host);
                close(fd);
                struct timespec ts = { 0, 20 * 1000 * 1000 };
                nanosleep(&ts, NULL);
        }
}
