/* cgroup_forkstorm: a bounded fork storm for the pids limit test.
 *
 * Forks at most N (argv[1], default 200) children that each wait for the
 * parent to finish, counts the forks the kernel refused, lets the children
 * go, reaps them, and prints "forked=F refused=R" on stdout. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
        int n = argc > 1 ? atoi(argv[1]) : 200;
        if (n <= 0 || n > 200)
                n = 200;
        int gate[2];
        if (pipe(gate) < 0) {
                perror("pipe");
                return 2;
        }
        int forked = 0, refused = 0;
        for (int i = 0; i < n; i++) {
                pid_t pid = fork();
                if (pid == 0) {
                        char c;
                        close(gate[1]);
                        while (read(gate[0], &c, 1) < 0 && errno == EINTR)
                                ;
                        _exit(0);
                }
                if (pid > 0)
                        forked++;
                else if (errno == EAGAIN)
                        refused++;
                else {
                        perror("fork");
                        return 2;
                }
        }
        close(gate[1]); /* every child reads EOF and exits */
        while (wait(NULL) > 0 || errno == EINTR)
                ;
        printf("forked=%d refused=%d\n", forked, refused);
        return 0;
}
