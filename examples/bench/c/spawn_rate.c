/*
 * W4 in C, the floor ProcessBench's W4 is compared with: spawn /bin/true with three pipes
 * (posix_spawn, pipe2(O_CLOEXEC), closefrom(3), empty signal mask, every signal defaulted, as
 * DualPipe's Spawner does), watch stdout, stderr and a pidfd with epoll, reap with waitpid(pid),
 * and start the next child once this one is reaped and its pipes are at EOF. One thread.
 *
 *   cc -O2 -o /tmp/spawn_rate examples/bench/c/spawn_rate.c && /tmp/spawn_rate count=2000 warmup=2000
 *
 * Prints: RESULT impl=c workload=W4 spawns_per_s=... count=...
 * Linux only (pidfd_open, glibc >= 2.34 for posix_spawn_file_actions_addclosefrom_np).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void die(const char *what) {
    perror(what);
    exit(1);
}

static void spawn_and_reap(int ep) {
    int in[2], out[2], err[2];
    if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) die("pipe2");
    fcntl(in[1], F_SETFL, O_NONBLOCK);
    fcntl(out[0], F_SETFL, O_NONBLOCK);
    fcntl(err[0], F_SETFL, O_NONBLOCK);

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err[1], 2);
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    posix_spawnattr_t at;
    posix_spawnattr_init(&at);
    sigset_t set;
    sigemptyset(&set);
    posix_spawnattr_setsigmask(&at, &set);
    sigfillset(&set);
    posix_spawnattr_setsigdefault(&at, &set);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

    pid_t pid;
    char *argv[] = {"/bin/true", NULL};
    int rc = posix_spawn(&pid, "/bin/true", &fa, &at, argv, environ);
    if (rc) {
        errno = rc;
        die("posix_spawn");
    }
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    close(in[0]);
    close(out[1]);
    close(err[1]);

    int pidfd = (int) syscall(SYS_pidfd_open, pid, 0);
    if (pidfd < 0) die("pidfd_open");
    struct epoll_event ev = {.events = EPOLLIN};
    int fds[3] = {pidfd, out[0], err[0]};
    for (int i = 0; i < 3; i++) {
        ev.data.fd = fds[i];
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev)) die("epoll_ctl");
    }
    int reaped = 0, open_pipes = 2;
    char buf[4096];
    while (!reaped || open_pipes > 0) {
        struct epoll_event evs[4];
        int k = epoll_wait(ep, evs, 4, -1);
        for (int i = 0; i < k; i++) {
            int fd = evs[i].data.fd;
            if (fd == pidfd) {
                int status;
                if (waitpid(pid, &status, WNOHANG) != pid) die("waitpid");
                if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                    fprintf(stderr, "/bin/true failed: status %d\n", status);
                    exit(3);
                }
                reaped = 1;
                epoll_ctl(ep, EPOLL_CTL_DEL, pidfd, NULL);
            } else if (read(fd, buf, sizeof buf) == 0) {
                epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
                open_pipes--;
            }
        }
    }
    close(pidfd);
    close(in[1]);
    close(out[0]);
    close(err[0]);
}

int main(int argc, char **argv) {
    long count = 2000, warmup = 2000;
    for (int i = 1; i < argc; i++) {
        if (!strncmp(argv[i], "count=", 6)) count = atol(argv[i] + 6);
        else if (!strncmp(argv[i], "warmup=", 7)) warmup = atol(argv[i] + 7);
    }
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) die("epoll_create1");
    for (long i = 0; i < warmup; i++) spawn_and_reap(ep);
    double t0 = now();
    for (long i = 0; i < count; i++) spawn_and_reap(ep);
    printf("RESULT impl=c workload=W4 spawns_per_s=%.0f count=%ld\n", count / (now() - t0), count);
    return 0;
}
