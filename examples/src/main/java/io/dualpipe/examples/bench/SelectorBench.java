package io.dualpipe.examples.bench;

import io.dualpipe.core.FdChannel;
import io.dualpipe.core.internal.EpollSelectorProvider;
import io.dualpipe.core.internal.Native;
import io.dualpipe.core.internal.Selectors;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Platform;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.spi.SelectorProvider;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Pipe ping-pong round trip on one thread, with N idle fds registered alongside: how a selector's
 * cost grows with registrations that never fire.
 *
 * <p>Two pipes A and B. The thread writes a payload into A; A's read end is registered with a handler
 * that reads it and echoes it into B; B's read end with one that records the round trip and writes
 * the next payload into A. All in one hand-written select loop (the same code for every selector,
 * iterating {@code selectedKeys()}), so each round trip is two selects and no thread hop.
 *
 * <p>Idle fds are FIFO read ends (named pipes) opened before any writer: never readable, never hung
 * up, one fd each, so 10,000 of them fit under a 20,000 fd limit where 10,000 anonymous pipes would not.
 *
 * <p>Arguments ({@code key=value}, unknown keys ignored): {@code warmup=20000 iters=100000
 * idle=10,1000,10000 impl=epoll,jnr bytes=1 maxSeconds=20}. A configuration whose estimated run time
 * exceeds maxSeconds (jnr-enxio's poll selector with many idle fds) runs fewer round trips; the
 * output says so.
 */
public final class SelectorBench {
    /** libc calls the core does not bind. */
    public interface Posix {
        int mkfifo(String path, int mode);

        int open(String path, int flags);

        int unlink(String path);
    }

    private static final Posix POSIX = LibraryLoader.create(Posix.class).load(Platform.getNativePlatform().getStandardCLibraryName());
    private static final Object ECHO = "echo";
    private static final Object PONG = "pong";
    private static final Object IDLE = "idle";

    private SelectorBench() {
    }

    record Result(String impl, int bytes, int idle, int warmup, int iters, double medianUs, double p99Us, String note) {
        String workload() {
            return "S" + bytes;
        }
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = new LinkedHashMap<>();
        for (String a : args) {
            int eq = a.indexOf('=');
            if (eq > 0) {
                opts.put(a.substring(0, eq).trim(), a.substring(eq + 1).trim());
            }
        }
        int warmup = Integer.parseInt(opts.getOrDefault("warmup", "20000"));
        int iters = Integer.parseInt(opts.getOrDefault("iters", "100000"));
        double maxSeconds = Double.parseDouble(opts.getOrDefault("maxSeconds", "20"));
        int[] idles = Arrays.stream(opts.getOrDefault("idle", "10,1000,10000").split(",")).mapToInt(s -> Integer.parseInt(s.trim())).toArray();
        int[] sizes = Arrays.stream(opts.getOrDefault("bytes", "1").split(",")).mapToInt(s -> Integer.parseInt(s.trim())).toArray();
        List<String> impls = Arrays.asList(opts.getOrDefault("impl", "epoll,jnr").split(","));

        System.out.printf(Locale.ROOT, "SelectorBench: pipe ping-pong on one thread; warmup=%d iters=%d idle=%s bytes=%s impl=%s; java %s; cpus available %d%n",
                warmup, iters, Arrays.toString(idles), Arrays.toString(sizes), impls, System.getProperty("java.version"),
                Runtime.getRuntime().availableProcessors());
        List<Result> results = new ArrayList<>();
        for (int bytes : sizes) {
            for (String impl : impls) {
                for (int idle : idles) {
                    Result r = run(impl.trim(), bytes, idle, warmup, iters, maxSeconds);
                    results.add(r);
                    System.out.printf(Locale.ROOT, "RESULT impl=%s workload=%s idle=%d median_us=%.2f p99_us=%.2f iters=%d%n",
                            r.impl, r.workload(), r.idle, r.medianUs, r.p99Us, r.iters);
                    if (r.note != null) {
                        System.out.println("  note: " + r.note);
                    }
                }
            }
        }
        printTable(results, idles);
    }

    private static Result run(String impl, int bytes, int idle, int warmup, int iters, double maxSeconds) throws IOException {
        SelectorProvider provider;
        String name;
        switch (impl) {
            case "epoll":
                provider = EpollSelectorProvider.INSTANCE;
                name = "dualpipe-epoll";
                break;
            case "jnr":
                provider = Selectors.jnrProvider();
                name = "jnr-poll";
                break;
            default:
                throw new IllegalArgumentException("impl must be epoll or jnr: " + impl);
        }
        Path dir = Files.createTempDirectory("selbench");
        List<FdChannel> idleChannels = new ArrayList<>(idle);
        FdChannel[] a = FdChannel.pipe();
        FdChannel[] b = FdChannel.pipe();
        Selector selector = provider.openSelector();
        try {
            for (int i = 0; i < idle; i++) {
                idleChannels.add(openIdleFifo(dir, i));
            }
            // Every registration from this, the selecting, thread (jnr's poll selector requires it).
            a[0].register(selector, SelectionKey.OP_READ, ECHO);
            b[0].register(selector, SelectionKey.OP_READ, PONG);
            for (FdChannel ch : idleChannels) {
                ch.register(selector, SelectionKey.OP_READ, IDLE);
            }
            Loop loop = new Loop(selector, a, b, bytes);

            String note = null;
            // Calibrate: a short run estimates the cost per round trip.
            long c0 = System.nanoTime();
            int probe = 200;
            loop.pingPong(probe, null);
            double usPerRt = (System.nanoTime() - c0) / 1e3 / probe;
            long affordable = (long) (maxSeconds * 1e6 / Math.max(usPerRt, 0.001));
            int w = warmup;
            int n = iters;
            if ((long) warmup + iters > affordable) {
                n = (int) Math.max(1000, Math.min(iters, affordable * 5 / 6));
                w = (int) Math.max(200, Math.min(warmup, affordable / 6));
                note = String.format(Locale.ROOT, "%s idle=%d: ~%.0f us per round trip, so warmup %d -> %d and iters %d -> %d to stay near %.0f s",
                        name, idle, usPerRt, warmup, w, iters, n, maxSeconds);
            }
            loop.pingPong(w, null);
            long[] samples = new long[n];
            loop.pingPong(n, samples);
            if (loop.idleWakeups != 0) {
                throw new IllegalStateException(name + ": idle fds were reported ready " + loop.idleWakeups + " times");
            }
            Arrays.sort(samples);
            double median = samples[n / 2] / 1e3;
            double p99 = samples[Math.min(n - 1, (int) Math.ceil(n * 0.99) - 1)] / 1e3;
            return new Result(name, bytes, idle, w, n, median, p99, note);
        } finally {
            selector.close();
            for (FdChannel ch : idleChannels) {
                ch.close();
            }
            for (FdChannel ch : a) {
                ch.close();
            }
            for (FdChannel ch : b) {
                ch.close();
            }
            Files.deleteIfExists(dir);
        }
    }

    /** A FIFO's read end opened with no writer: never readable, and no hang-up since no writer ever came. */
    private static FdChannel openIdleFifo(Path dir, int i) {
        String path = dir.resolve("f" + i).toString();
        if (POSIX.mkfifo(path, 0600) != 0) {
            throw Native.lastError("mkfifo(" + path + ")");
        }
        int fd = POSIX.open(path, Native.O_CLOEXEC | Native.O_NONBLOCK /* | O_RDONLY (0) */);
        if (fd < 0) {
            throw Native.lastError("open(" + path + ")");
        }
        POSIX.unlink(path); // the open fd keeps the FIFO alive
        return new FdChannel(fd, SelectionKey.OP_READ);
    }

    /** The hand-written single-thread select loop, identical for every selector. */
    private static final class Loop {
        private final Selector selector;
        private final FdChannel aRead;
        private final FdChannel aWrite;
        private final FdChannel bRead;
        private final FdChannel bWrite;
        private final ByteBuffer payload;
        private final ByteBuffer echoBuf;
        private final ByteBuffer pongBuf;
        private final int bytes;
        long idleWakeups;

        Loop(Selector selector, FdChannel[] a, FdChannel[] b, int bytes) {
            this.selector = selector;
            this.aRead = a[0];
            this.aWrite = a[1];
            this.bRead = b[0];
            this.bWrite = b[1];
            this.bytes = bytes;
            this.payload = ByteBuffer.allocateDirect(bytes);
            this.echoBuf = ByteBuffer.allocateDirect(Math.max(bytes, 4096));
            this.pongBuf = ByteBuffer.allocateDirect(Math.max(bytes, 4096));
        }

        /** Runs {@code count} round trips; records each one's nanoseconds in {@code samples} if given. */
        void pingPong(int count, long[] samples) throws IOException {
            int done = 0;
            long t0 = System.nanoTime();
            send();
            while (done < count) {
                selector.select();
                Iterator<SelectionKey> it = selector.selectedKeys().iterator();
                while (it.hasNext()) {
                    SelectionKey k = it.next();
                    it.remove();
                    Object role = k.attachment();
                    if (role == ECHO) {
                        echo();
                    } else if (role == PONG) {
                        if (readFully(bRead, pongBuf)) {
                            long t1 = System.nanoTime();
                            if (samples != null) {
                                samples[done] = t1 - t0;
                            }
                            done++;
                            if (done < count) {
                                t0 = System.nanoTime();
                                send();
                            }
                        }
                    } else {
                        idleWakeups++;
                    }
                }
            }
        }

        private void send() throws IOException {
            payload.clear();
            while (payload.hasRemaining()) {
                if (aWrite.write(payload) == 0) {
                    throw new IllegalStateException("pipe A full");
                }
            }
        }

        private void echo() throws IOException {
            echoBuf.clear().limit(bytes);
            if (!readFully(aRead, echoBuf)) {
                return;
            }
            echoBuf.flip();
            while (echoBuf.hasRemaining()) {
                if (bWrite.write(echoBuf) == 0) {
                    throw new IllegalStateException("pipe B full");
                }
            }
        }

        /** Reads one payload (a write of up to PIPE_BUF bytes arrives whole); false on a spurious wakeup. */
        private boolean readFully(FdChannel ch, ByteBuffer buf) throws IOException {
            buf.clear().limit(bytes);
            int n = ch.read(buf);
            if (n == 0) {
                return false;
            }
            if (n != bytes) {
                throw new IllegalStateException("short read " + n + " of " + bytes + " (payload must be <= PIPE_BUF)");
            }
            return true;
        }
    }

    private static void printTable(List<Result> results, int[] idles) {
        System.out.println();
        System.out.printf(Locale.ROOT, "%-16s %-8s %8s %8s %8s %11s %10s %9s%n", "impl", "workload", "idle fds", "warmup", "iters", "median us", "p99 us", "vs epoll");
        for (Result r : results) {
            String vs = "";
            if (!r.impl.equals("dualpipe-epoll")) {
                Result e = find(results, "dualpipe-epoll", r.bytes, r.idle);
                if (e != null) {
                    vs = String.format(Locale.ROOT, "%.2fx", r.medianUs / e.medianUs);
                }
            }
            System.out.printf(Locale.ROOT, "%-16s %-8s %8d %8d %8d %11.2f %10.2f %9s%n",
                    r.impl, r.workload(), r.idle, r.warmup, r.iters, r.medianUs, r.p99Us, vs);
        }
        int lo = Arrays.stream(idles).min().orElse(0);
        int hi = Arrays.stream(idles).max().orElse(0);
        System.out.println();
        results.stream().map(r -> r.impl + " " + r.workload()).distinct().forEach(key -> {
            String[] f = key.split(" ");
            int bytes = Integer.parseInt(f[1].substring(1));
            Result small = find(results, f[0], bytes, lo);
            Result big = find(results, f[0], bytes, hi);
            if (small != null && big != null && lo != hi) {
                double ratio = big.medianUs / small.medianUs;
                String verdict = f[0].equals("dualpipe-epoll") ? (ratio <= 1.2 ? "  (target <= 1.2x: met)" : "  (target <= 1.2x: NOT met)") : "";
                System.out.printf(Locale.ROOT, "ratio median idle-%d/idle-%d  %-16s %-4s %.2fx%s%n", hi, lo, f[0], f[1], ratio, verdict);
            }
        });
        for (Result r : results) {
            if (!r.impl.equals("dualpipe-epoll")) {
                Result e = find(results, "dualpipe-epoll", r.bytes, r.idle);
                if (e != null) {
                    System.out.printf(Locale.ROOT, "ratio median %s/dualpipe-epoll  idle=%-6d %-4s %.2fx%n", r.impl, r.idle, r.workload(), r.medianUs / e.medianUs);
                }
            }
        }
    }

    private static Result find(List<Result> results, String impl, int bytes, int idle) {
        for (Result r : results) {
            if (r.impl.equals(impl) && r.bytes == bytes && r.idle == idle) {
                return r;
            }
        }
        return null;
    }
}
