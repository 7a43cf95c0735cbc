/*
 * W2's physical reference: the same bulk echo through one `cat` that BulkBench times, written in C,
 * so DualPipe's and the JDK's MB/s can be read against what this machine's pipes and cat allow.
 *
 *   cc -O2 -o bulk_cat bulk_cat.c -pthread
 *   bulk_cat mode=poll|threads [bytes=1073741824] [chunk=65536] [pipe=0] [read=65536] [verify=full|sample|count]
 *
 * mode=poll: one thread, non-blocking fds, a poll(2) loop: the best a single event loop can do.
 * mode=threads: a writer thread and the main thread reading, blocking fds: what the JDK baseline
 * (ProcessBuilder plus threads) does, without the JVM.
 *
 * The stream is BulkBench's: java.util.Random(42).nextBytes over a prime period of 1048573 bytes,
 * written in `chunk`-byte pieces from offset (sent % period); reads of at most `read` bytes are checked
 * against the same pattern at (received % period). pipe=N sets both pipes' capacity with F_SETPIPE_SZ
 * (0: the kernel's default), as BulkBench's pipe= does for DualPipe.
 *
 * Prints one line: mode=... mbps=... c_cpu=...% cat_cpu=...% c_us_per_mb=... and the arguments.
 * MB is 10^6 bytes; the clock runs from just after the spawn to the end of cat's stdout, as BulkBench's
 * does; c_cpu is this process (all threads) over that time, cat_cpu cat's whole life from wait4, both
 * in percent of one CPU. Exits 1 on any error, 3 on a byte mismatch or a short stream.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define PERIOD 1048573
#define MAX_READ (1 << 20)

static unsigned char *pattern; /* PERIOD + MAX_READ bytes, so any window of <= MAX_READ fits */
static long long total;        /* bytes to send */
static int chunk = 65536;
static int readSize = 65536;
static int verifyMode = 2;     /* 0 count, 1 sample, 2 full: BulkBench's verify= */

static void die(const char *what) {
    fprintf(stderr, "bulk_cat: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void mismatch(long long offset) {
    fprintf(stderr, "bulk_cat: byte mismatch near stream offset %lld\n", offset);
    exit(3);
}

/* java.util.Random(seed).nextBytes, bit for bit, so both benchmarks move the very same bytes. */
static void javaRandomBytes(unsigned char *out, size_t len, long long seed) {
    const uint64_t mult = 0x5DEECE66DULL, mask = (1ULL << 48) - 1;
    uint64_t s = ((uint64_t) seed ^ mult) & mask;
    for (size_t i = 0; i < len;) {
        s = (s * mult + 0xB) & mask;
        int32_t rnd = (int32_t) (s >> 16);
        for (int n = len - i < 4 ? (int) (len - i) : 4; n-- > 0; rnd >>= 8) {
            out[i++] = (unsigned char) rnd;
        }
    }
}

static void makePattern(void) {
    pattern = malloc(PERIOD + MAX_READ);
    if (!pattern) die("malloc");
    javaRandomBytes(pattern, PERIOD + MAX_READ, 42);
    for (size_t i = PERIOD; i < PERIOD + MAX_READ; i++) pattern[i] = pattern[i - PERIOD];
}

/* The same three checks BulkBench makes: every byte, 16 bytes at start/middle/end, or none. */
static void verify(const unsigned char *got, size_t n, long long offset) {
    const unsigned char *want = pattern + offset % PERIOD;
    if (verifyMode == 2) {
        if (memcmp(got, want, n) != 0) mismatch(offset);
    } else if (verifyMode == 1) {
        size_t at[3] = {0, n / 2, n >= 16 ? n - 16 : 0};
        for (int k = 0; k < 3; k++) {
            size_t len = n - at[k] < 16 ? n - at[k] : 16;
            if (memcmp(got + at[k], want + at[k], len) != 0) mismatch(offset + at[k]);
        }
    }
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static double cpuSelf(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
}

/* cat's stdin is toCat (we write [1]), its stdout fromCat (we read [0]). */
static int toCat[2], fromCat[2];
static long long received;

/* cat's stdout ended: fine only after the whole stream. Otherwise stop now, before waiting on a writer
 * or a cat that may never finish (exit closes our ends, so cat sees EOF or EPIPE). */
static void endOfStream(void) {
    if (received != total) {
        fprintf(stderr, "bulk_cat: cat's stdout ended after %lld of %lld bytes\n", received, total);
        exit(3);
    }
}

static pid_t spawnCat(int pipeSize) {
    if (pipe2(toCat, O_CLOEXEC) < 0 || pipe2(fromCat, O_CLOEXEC) < 0) die("pipe2");
    if (pipeSize > 0 && (fcntl(toCat[0], F_SETPIPE_SZ, pipeSize) < 0 || fcntl(fromCat[0], F_SETPIPE_SZ, pipeSize) < 0)) {
        die("fcntl(F_SETPIPE_SZ) (above /proc/sys/fs/pipe-max-size?)");
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    /* dup2 clears O_CLOEXEC on the target, so cat keeps exactly fds 0, 1 and (inherited) 2. */
    posix_spawn_file_actions_adddup2(&fa, toCat[0], 0);
    posix_spawn_file_actions_adddup2(&fa, fromCat[1], 1);
    char *argv[] = {"cat", NULL};
    pid_t pid;
    int rc = posix_spawnp(&pid, "cat", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        errno = rc;
        die("posix_spawnp(cat)");
    }
    close(toCat[0]);
    close(fromCat[1]);
    return pid;
}

/* One thread: write while cat's stdin has room, read while its stdout has data, else poll. */
static void runPoll(void) {
    if (fcntl(toCat[1], F_SETFL, O_NONBLOCK) < 0 || fcntl(fromCat[0], F_SETFL, O_NONBLOCK) < 0) die("fcntl(O_NONBLOCK)");
    unsigned char *buf = malloc(readSize);
    if (!buf) die("malloc");
    long long sent = 0;
    int chunkDone = 0; /* bytes of the current chunk already written: a pipe takes part of a large write */
    int out = toCat[1];
    for (;;) {
        struct pollfd p[2] = {{fromCat[0], POLLIN, 0}, {out, POLLOUT, 0}};
        if (poll(p, out >= 0 ? 2 : 1, -1) < 0) {
            if (errno == EINTR) continue;
            die("poll");
        }
        if (out >= 0 && (p[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
            while (sent < total) {
                int len = total - sent < chunk ? (int) (total - sent) : chunk;
                ssize_t n = write(out, pattern + sent % PERIOD, len - chunkDone);
                if (n < 0) {
                    if (errno == EAGAIN) break;
                    if (errno == EINTR) continue;
                    die("write to cat");
                }
                sent += n;
                chunkDone += n;
                if (chunkDone < len) break; /* the pipe is full: no EAGAIN round trip needed to know it */
                chunkDone = 0;
            }
            if (sent == total) {
                close(out); /* cat sees EOF, drains, and closes its stdout */
                out = -1;
            }
        }
        if (p[0].revents & (POLLIN | POLLERR | POLLHUP)) {
            for (;;) {
                ssize_t n = read(fromCat[0], buf, readSize);
                if (n < 0) {
                    if (errno == EAGAIN) break;
                    if (errno == EINTR) continue;
                    die("read from cat");
                }
                if (n == 0) {
                    endOfStream();
                    free(buf);
                    return;
                }
                verify(buf, n, received);
                received += n;
                if (n < readSize) break; /* drained for now: skip the read that would say EAGAIN */
            }
        }
    }
}

static void *writer(void *unused) {
    (void) unused;
    long long sent = 0;
    while (sent < total) {
        int len = total - sent < chunk ? (int) (total - sent) : chunk;
        ssize_t n = write(toCat[1], pattern + sent % PERIOD, len); /* blocking: a partial write just loops */
        if (n < 0) {
            if (errno == EINTR) continue;
            die("write to cat");
        }
        sent += n;
    }
    close(toCat[1]);
    return NULL;
}

/* Blocking fds, a writer thread and the main thread reading: the JDK baseline's shape. */
static void runThreads(void) {
    pthread_t w;
    int rc = pthread_create(&w, NULL, writer, NULL);
    if (rc != 0) {
        errno = rc;
        die("pthread_create");
    }
    unsigned char *buf = malloc(readSize);
    if (!buf) die("malloc");
    for (;;) {
        ssize_t n = read(fromCat[0], buf, readSize);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("read from cat");
        }
        if (n == 0) {
            endOfStream();
            break;
        }
        verify(buf, n, received);
        received += n;
    }
    pthread_join(w, NULL);
    free(buf);
}

static long long num(const char *v) {
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 0);
    if (errno || *end || x < 0) {
        fprintf(stderr, "bulk_cat: not a non-negative number: %s\n", v);
        exit(2);
    }
    return x;
}

int main(int argc, char **argv) {
    const char *mode = NULL;
    int pipeSize = 0;
    total = 1LL << 30;
    for (int i = 1; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        const char *v = eq ? eq + 1 : "";
        size_t k = eq ? (size_t) (eq - argv[i]) : strlen(argv[i]);
#define KEY(s) (k == strlen(s) && strncmp(argv[i], s, k) == 0)
        if (KEY("mode")) mode = v;
        else if (KEY("bytes")) total = num(v);
        else if (KEY("chunk")) chunk = (int) num(v);
        else if (KEY("pipe")) pipeSize = (int) num(v);
        else if (KEY("read")) readSize = (int) num(v);
        else if (KEY("verify")) verifyMode = !strcmp(v, "full") ? 2 : !strcmp(v, "sample") ? 1 : !strcmp(v, "count") ? 0 : -1;
        else {
            fprintf(stderr, "bulk_cat: unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    if (!mode || (strcmp(mode, "poll") && strcmp(mode, "threads")) || verifyMode < 0 || chunk <= 0 || chunk > MAX_READ
            || readSize <= 0 || readSize > MAX_READ) {
        fprintf(stderr, "usage: bulk_cat mode=poll|threads [bytes=N] [chunk=1..1048576] [pipe=0|N] [read=1..1048576]"
                " [verify=full|sample|count]\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN); /* a dead cat must show as a write error, not kill us silently */
    makePattern();
    pid_t pid = spawnCat(pipeSize);
    double cpu0 = cpuSelf(), t0 = now();
    if (mode[0] == 'p') runPoll(); else runThreads();
    double t1 = now(), cpu1 = cpuSelf();
    int status;
    struct rusage cu;
    while (wait4(pid, &status, 0, &cu) < 0) {
        if (errno != EINTR) die("wait4(cat)");
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "bulk_cat: cat ended with status 0x%x\n", status);
        return 1;
    }
    double wall = t1 - t0;
    double catCpu = cu.ru_utime.tv_sec + cu.ru_stime.tv_sec + (cu.ru_utime.tv_usec + cu.ru_stime.tv_usec) * 1e-6;
    double mbps = total / 1e6 / wall;
    printf("mode=%s mbps=%.1f c_cpu=%.1f%% cat_cpu=%.1f%% c_us_per_mb=%.0f bytes=%lld chunk=%d pipe=%d read=%d verify=%s\n",
            mode, mbps, (cpu1 - cpu0) * 100 / wall, catCpu * 100 / wall, (cpu1 - cpu0) * 1e6 / (total / 1e6), total, chunk,
            pipeSize, readSize, verifyMode == 2 ? "full" : verifyMode == 1 ? "sample" : "count");
    return 0;
}
