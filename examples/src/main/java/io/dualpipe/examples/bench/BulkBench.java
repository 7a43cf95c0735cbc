package io.dualpipe.examples.bench;

import io.dualpipe.core.ByteSink;
import io.dualpipe.core.ByteSource;
import io.dualpipe.core.EventLoop;
import io.dualpipe.process.ChildProcess;
import io.dualpipe.process.ChildProcessBuilder;
import io.dualpipe.process.ExitStatus;

import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static io.dualpipe.examples.bench.ProcessBench.TIMEOUT_S;
import static io.dualpipe.examples.bench.ProcessBench.await;
import static io.dualpipe.examples.bench.ProcessBench.check;
import static io.dualpipe.examples.bench.ProcessBench.drain;
import static io.dualpipe.examples.bench.ProcessBench.result;
import static io.dualpipe.examples.bench.ProcessBench.rethrow;

/**
 * W2, bulk echo through one {@code cat}: DualPipe against {@link ProcessBuilder} (a writer thread and
 * a reader thread), same bytes, same run. Run as {@code ProcessBench W2 ...} or {@code BulkBench ...}.
 *
 * <pre>
 * [bytes=1073741824] [chunk=65536] [pipe=0|1048576|both] [src=heap|direct] [verify=full|sample|count]
 * [warmup_bytes=268435456] [impl=dualpipe|jdk|both] [rounds=1] [c=auto|off] [c_src=examples/bench/c/bulk_cat.c] [spin_us=50]
 * </pre>
 *
 * <p>DualPipe's writes are the library's backpressured ones: a pump on the loop writes until
 * {@code isWritable()} turns false and resumes on {@code whenWritable()}, while a listener checks
 * what comes back. {@code rounds=N} alternates the implementations N times (JDK, DualPipe per pipe
 * size, again) so that a shared machine's load falls on both, and prints the median of each. Each
 * RESULT line also gives the CPU the JVM and cat used over the timed part, in percent of one CPU
 * ({@code jvm_cpu}, {@code cat_cpu}; cat's read from /proc just before stdin is closed), and the JVM's
 * CPU microseconds per MB moved ({@code jvm_us_per_mb}), which the machine's load distorts far less.
 *
 * <p>{@code c=auto} (this class's default; {@code ProcessBench W2} defaults to {@code off}, its table
 * having no column for them) adds the physical reference: {@code examples/bench/c/bulk_cat.c}, compiled
 * once with {@code cc -O2} into a temporary directory, moves the same bytes in C with the same chunk,
 * pipe size and verification, as {@code c-poll} (one thread, a poll loop: the best a single event loop
 * can do) and {@code c-threads} (a writer thread and a reading thread on blocking fds: the JDK
 * baseline's shape), in the same rounds. Without a compiler or the source the run goes on without them.
 *
 * <p>{@code spin_us=N} (default 50; 0: off) adds {@code dualpipe-spin}, default pipes only: the same
 * run on a loop made with {@code EventLoop.create(name, idleSpin)}, which polls its selector for N µs
 * before it sleeps (see that method for the CPU it costs).
 */
public final class BulkBench {
    private BulkBench() {
    }

    public static void main(String[] argv) throws Exception {
        ProcessBench.quietLogging();
        Map<String, String> a = new LinkedHashMap<>();
        for (String s : argv) {
            int eq = s.indexOf('=');
            if (eq > 0) {
                a.put(s.substring(0, eq), s.substring(eq + 1));
            }
        }
        a.putIfAbsent("c", "auto");
        List<String[]> table = new ArrayList<>();
        List<String[]> cTable = new ArrayList<>();
        try {
            w2(a, (w, m, dp, jdk) -> table.add(new String[] {w, m, String.format(Locale.ROOT, "%.0f", dp),
                    String.format(Locale.ROOT, "%.0f", jdk), String.format(Locale.ROOT, "%.2f", dp / jdk)}),
                    (w, m, cPoll, cThreads, dp, jdk) -> cTable.add(new String[] {w, m, fmt("%.0f", cPoll), fmt("%.0f", cThreads),
                            fmt("%.2f", dp / cPoll), fmt("%.2f", jdk / cThreads)}));
        } catch (ProcessBench.VerificationError e) {
            System.out.flush();
            System.err.println("VERIFICATION FAILED: " + e.getMessage());
            System.exit(3);
        }
        System.out.println();
        System.out.printf(Locale.ROOT, "%-10s %-22s %12s %12s %14s%n", "workload", "metric", "dualpipe", "jdk", "dualpipe/jdk");
        for (String[] r : table) {
            System.out.printf(Locale.ROOT, "%-10s %-22s %12s %12s %14s%n", (Object[]) r);
        }
        if (!cTable.isEmpty()) {
            // A table of its own, so the lines above stay as older notes quote them.
            System.out.println();
            System.out.printf(Locale.ROOT, "%-10s %-22s %12s %12s %16s %14s%n", "workload", "metric", "c-poll", "c-threads",
                    "dualpipe/c-poll", "jdk/c-threads");
            for (String[] r : cTable) {
                System.out.printf(Locale.ROOT, "%-10s %-22s %12s %12s %16s %14s%n", (Object[]) r);
            }
        }
        System.out.flush();
        System.exit(0);
    }

    /** Where the table rows go: ProcessBench's table, or this class's own main. */
    interface Rows {
        void row(String workload, String metric, double dualpipe, double jdk);
    }

    /** The C baseline's medians beside DualPipe's and the JDK's for the same pipe size (NaN: not run). */
    interface CRows {
        void row(String workload, String metric, double cPoll, double cThreads, double dualpipe, double jdk);
    }

    /** One timed transfer: throughput and the CPU spent on it ({@code jvmCpu}: the C program's for C runs). */
    record Run(double mbps, double jvmCpu, double catCpu) {
        String kv() {
            return kv("jvm");
        }

        String kv(String self) {
            // CPU per MB: what the JVM spends per byte, which a loaded machine's share of CPU distorts far less than MB/s.
            return String.format(Locale.ROOT, "mbps=%.0f %s_cpu=%.0f%% cat_cpu=%.0f%% %s_us_per_mb=%.0f", mbps, self, jvmCpu, catCpu,
                    self, jvmCpu * 1e4 / mbps);
        }
    }

    private static String fmt(String format, double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, format, v);
    }

    private static long num(Map<String, String> args, String key, long dflt) {
        String v = args.get(key);
        return v == null ? dflt : Long.decode(v.replace("_", ""));
    }

    static void w2(Map<String, String> args, Rows rows) throws Exception {
        w2(args, rows, null);
    }

    static void w2(Map<String, String> args, Rows rows, CRows cRows) throws Exception {
        long bytes = num(args, "bytes", 1L << 30);
        int chunk = (int) num(args, "chunk", 64 * 1024);
        check(chunk > 0 && chunk <= BulkPattern.MAX_READ, "chunk must be in (0, 1 MiB]");
        String pipe = args.getOrDefault("pipe", "both");
        boolean direct = args.getOrDefault("src", "heap").equals("direct");
        String v = args.getOrDefault("verify", "full");
        BulkPattern.mode(v);
        String impl = args.getOrDefault("impl", "both");
        boolean jdkRuns = impl.equals("both") || impl.equals("jdk");
        boolean dpRuns = impl.equals("both") || impl.equals("dualpipe");
        int rounds = (int) num(args, "rounds", 1);
        check(rounds > 0, "rounds must be > 0");
        long spinNanos = num(args, "spin_us", 50) * 1000;
        check(spinNanos >= 0 && spinNanos <= 10_000_000, "spin_us must be in [0, 10000]");
        double[] dpSpin = new double[rounds];
        Arrays.fill(dpSpin, Double.NaN);
        Path cBin = args.getOrDefault("c", "off").equals("off") ? null : CBulk.compile(args.get("c_src"));
        byte[] src = BulkPattern.pattern();
        List<Integer> pipes = new ArrayList<>();
        if (pipe.equals("both")) {
            pipes.add(0);
            pipes.add(1 << 20);
        } else {
            pipes.add((int) num(args, "pipe", 0));
        }
        // Warm-up (untimed): JIT-compiles each implementation's path before its timed run; without it
        // a pinned run pays C2 compile time (hundreds of ms) on the same CPU inside the measurement.
        long warm = num(args, "warmup_bytes", 256L << 20);
        if (warm > 0 && jdkRuns) {
            jdkBulk(warm, chunk, src);
        }
        if (warm > 0 && dpRuns) {
            for (int ps : pipes) {
                dpBulk(warm, chunk, ps, src, direct, 0);
            }
        }
        double[] jdk = new double[rounds];
        double[][] dp = new double[pipes.size()][rounds];
        double[][] cPoll = new double[pipes.size()][rounds];
        double[][] cThreads = new double[pipes.size()][rounds];
        Arrays.fill(jdk, Double.NaN);
        for (double[] d : dp) {
            Arrays.fill(d, Double.NaN);
        }
        for (int r = 0; r < rounds; r++) {
            if (jdkRuns) {
                Run run = jdkBulk(bytes, chunk, src);
                jdk[r] = run.mbps;
                result("jdk", "W2", String.format(Locale.ROOT, "%s bytes=%d chunk=%d pipe=default", run.kv(), bytes, chunk));
            }
            for (int i = 0; i < pipes.size(); i++) {
                int ps = pipes.get(i);
                String pipeKv = ps == 0 ? "default" : Integer.toString(ps);
                if (dpRuns) {
                    Run run = dpBulk(bytes, chunk, ps, src, direct, 0);
                    dp[i][r] = run.mbps;
                    result("dualpipe", "W2", String.format(Locale.ROOT, "%s bytes=%d chunk=%d pipe=%s src=%s", run.kv(), bytes, chunk,
                            pipeKv, direct ? "direct" : "heap"));
                }
                if (dpRuns && ps == 0 && spinNanos > 0) {
                    Run run = dpBulk(bytes, chunk, ps, src, direct, spinNanos);
                    dpSpin[r] = run.mbps;
                    result("dualpipe-spin", "W2", String.format(Locale.ROOT, "%s bytes=%d chunk=%d pipe=%s src=%s spin_us=%d", run.kv(), bytes,
                            chunk, pipeKv, direct ? "direct" : "heap", spinNanos / 1000));
                }
                if (cBin != null) {
                    for (String mode : new String[] {"poll", "threads"}) {
                        Run run = CBulk.run(cBin, mode, bytes, chunk, ps, v);
                        (mode.equals("poll") ? cPoll : cThreads)[i][r] = run.mbps;
                        result("c-" + mode, "W2", String.format(Locale.ROOT, "%s bytes=%d chunk=%d pipe=%s verify=%s", run.kv("c"), bytes,
                                chunk, pipeKv, v));
                    }
                }
            }
        }
        for (int i = 0; i < pipes.size() && dpRuns; i++) {
            int ps = pipes.get(i);
            String metric = "mbps pipe=" + (ps == 0 ? "dflt" : (ps >> 10) + "K") + (rounds > 1 ? " med" : "");
            rows.row("W2", metric, median(dp[i]), median(jdk));
            if (ps == 0 && spinNanos > 0) {
                rows.row("W2", metric + " spin", median(dpSpin), median(jdk));
            }
        }
        for (int i = 0; i < pipes.size() && cBin != null && cRows != null; i++) {
            int ps = pipes.get(i);
            String metric = "mbps pipe=" + (ps == 0 ? "dflt" : (ps >> 10) + "K") + (rounds > 1 ? " med" : "");
            // The JDK always runs on default pipes, so jdk/c-threads is only like for like on that row.
            cRows.row("W2", metric, median(cPoll[i]), median(cThreads[i]), median(dp[i]), ps == 0 ? median(jdk) : Double.NaN);
        }
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    /** CPU time of this JVM, ns. */
    private static long jvmCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    /** A live process's user + system CPU time from /proc, ns; -1 when unreadable (not Linux). */
    static long procCpuNanos(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10_000_000L; // fields 14, 15; USER_HZ 100
        } catch (Exception e) {
            return -1;
        }
    }

    private static Run run(long bytes, long t0, long t1, long cpu0, long cpu1, long catCpu) {
        double wall = t1 - t0;
        return new Run(bytes * 1e3 / wall, (cpu1 - cpu0) * 100 / wall, catCpu < 0 ? Double.NaN : catCpu * 100 / wall);
    }

    /** MB/s (10^6 bytes) through cat: the loop pumps stdin on writability and a listener checks stdout. */
    private static Run dpBulk(long bytes, int chunk, int pipeSize, byte[] src, boolean direct, long spinNanos) throws Exception {
        ByteBuffer directSrc = null;
        if (direct) {
            directSrc = ByteBuffer.allocateDirect(src.length);
            directSrc.put(src).clear();
        }
        ByteBuffer ds = directSrc;
        try (EventLoop loop = EventLoop.create("bench-loop", Duration.ofNanos(spinNanos))) {
            ChildProcessBuilder b = ChildProcess.builder("cat").loop(loop);
            if (pipeSize > 0) {
                b.pipeBufferSize(pipeSize);
            }
            ChildProcess child = b.start();
            ByteSink in = child.stdin();
            CompletableFuture<Void> done = new CompletableFuture<>();
            long[] received = {0};
            long[] catCpu = {-1};
            child.stdout().listen(new ByteSource.Listener() {
                @Override
                public void onData(ByteBuffer data) {
                    try {
                        long r = received[0];
                        BulkPattern.verify(data, src, r);
                        received[0] = r + data.remaining();
                    } catch (ProcessBench.VerificationError e) {
                        done.completeExceptionally(e);
                    }
                }

                @Override
                public void onEnd() {
                    if (received[0] == bytes) {
                        done.complete(null);
                    } else {
                        done.completeExceptionally(new ProcessBench.VerificationError("received " + received[0] + " of " + bytes + " bytes"));
                    }
                }

                @Override
                public void onError(Throwable error) {
                    done.completeExceptionally(error);
                }
            });
            long cpu0 = jvmCpuNanos();
            long t0 = System.nanoTime();
            Runnable pump = new Runnable() {
                long sent;

                @Override
                public void run() {
                    while (sent < bytes) {
                        if (!in.isWritable()) {
                            in.whenWritable().thenRun(this);
                            return;
                        }
                        int len = (int) Math.min(chunk, bytes - sent);
                        int off = (int) (sent % BulkPattern.PERIOD);
                        // Never-modified windows of one array: safe to share across queued writes.
                        if (ds != null) {
                            in.write(ds.duplicate().position(off).limit(off + len));
                        } else {
                            in.write(ByteBuffer.wrap(src, off, len));
                        }
                        sent += len;
                    }
                    catCpu[0] = procCpuNanos(child.pid());
                    in.shutdownOutput();
                }
            };
            loop.execute(pump);
            await(done);
            long t1 = System.nanoTime();
            long cpu1 = jvmCpuNanos();
            ExitStatus st = child.onExit().get(TIMEOUT_S, TimeUnit.SECONDS);
            check(st.isSuccess(), "cat exited with " + st);
            child.close();
            return run(bytes, t0, t1, cpu0, cpu1, catCpu[0]);
        }
    }

    /** JDK: the caller writes, a reader thread reads and checks, a third thread drains stderr. */
    private static Run jdkBulk(long bytes, int chunk, byte[] src) throws Exception {
        Process p = new ProcessBuilder("cat").start();
        Thread err = drain(p.getErrorStream(), "stderr-drain");
        long[] received = {0};
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread reader = new Thread(() -> {
            byte[] buf = new byte[chunk];
            try (InputStream in = p.getInputStream()) {
                int n;
                while ((n = in.read(buf)) >= 0) {
                    BulkPattern.verify(ByteBuffer.wrap(buf, 0, n), src, received[0]);
                    received[0] += n;
                }
            } catch (Throwable t) {
                failure.set(t);
            }
        }, "stdout-reader");
        long cpu0 = jvmCpuNanos();
        long t0 = System.nanoTime();
        reader.start();
        long catCpu;
        try (OutputStream out = p.getOutputStream()) {
            long sent = 0;
            while (sent < bytes) {
                int len = (int) Math.min(chunk, bytes - sent);
                out.write(src, (int) (sent % BulkPattern.PERIOD), len);
                sent += len;
            }
            catCpu = procCpuNanos(p.pid());
        }
        reader.join();
        long t1 = System.nanoTime();
        long cpu1 = jvmCpuNanos();
        rethrow(failure.get());
        check(received[0] == bytes, "received " + received[0] + " of " + bytes + " bytes");
        check(p.waitFor() == 0, "cat failed");
        err.join();
        return run(bytes, t0, t1, cpu0, cpu1, catCpu);
    }
}
