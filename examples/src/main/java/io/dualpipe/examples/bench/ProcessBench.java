package io.dualpipe.examples.bench;

import io.dualpipe.core.ByteSink;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.EventLoopGroup;
import io.dualpipe.core.line.LineReader;
import io.dualpipe.process.ChildProcess;
import io.dualpipe.process.ChildProcessBuilder;
import io.dualpipe.process.ExitStatus;
import io.dualpipe.process.StderrMode;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * Child-process I/O benchmark: DualPipe against the JDK's {@link ProcessBuilder} (blocking streams,
 * one reader thread per stream, as a competent JDK user would write it), same workload, same run.
 *
 * <pre>
 * ProcessBench W1  [warmup=20000] [iters=100000] [linelen=64] [impl=both]   raw line events, next write from the listener
 * ProcessBench W1R [same]                                                     request() chained on the loop, one at a time
 * ProcessBench W1P [same] [inflight=32]                                       request() pipelined, 32 in flight
 * ProcessBench W1F [same]                                                     caller thread blocks on request().get()
 * ProcessBench W2  [...]  bulk echo through cat: see {@link BulkBench}
 * ProcessBench W3  [n=1000] [rounds=100] [linelen=64] [impl=dualpipe|jdk|both] (both: a fresh JVM per impl)
 *                  [loops=1|N|1,2,...]  DualPipe's children spread over an EventLoopGroup of N loops;
 *                                       a list runs DualPipe once per count, each in a fresh JVM, ratio to the first
 * ProcessBench W4  [count=2000] [warmup=6000] [impl=both]                     next spawn from the onExit completion on the loop
 * ProcessBench W4F [same]                                                     caller thread blocks on onExit().get()
 * </pre>
 *
 * Prints one {@code RESULT impl=... workload=... key=value...} line per measurement and a table with
 * the DualPipe/JDK ratio. Exits non-zero when a reply, a byte count or a checksum does not verify.
 * Unknown keys are ignored. This is a plain main, not a JMH harness: each figure is one run's
 * distribution (latencies) or one run's total (throughput, wall time).
 */
public final class ProcessBench {
    static final long TIMEOUT_S = 600;

    final Map<String, String> args;
    private final List<String[]> table = new ArrayList<>();

    private ProcessBench(Map<String, String> args) {
        this.args = args;
    }

    public static void main(String[] argv) throws Exception {
        quietLogging();
        if (argv.length == 0) {
            System.err.println("usage: ProcessBench W1|W1R|W1P|W1F|W2|W3|W4|W4F [key=value ...]");
            System.exit(2);
        }
        Map<String, String> a = new LinkedHashMap<>();
        for (int i = 1; i < argv.length; i++) {
            int eq = argv[i].indexOf('=');
            if (eq > 0) {
                a.put(argv[i].substring(0, eq), argv[i].substring(eq + 1));
            }
        }
        ProcessBench b = new ProcessBench(a);
        String w = argv[0].toUpperCase(Locale.ROOT);
        try {
            switch (w) {
                case "W1", "W1R", "W1P", "W1F" -> b.w1(w);
                case "W2" -> BulkBench.w2(b.args, b::row); // in its own file: BulkBench
                case "W3" -> b.w3();
                case "W4", "W4F" -> b.w4(w);
                default -> {
                    System.err.println("unknown workload " + argv[0]);
                    System.exit(2);
                }
            }
        } catch (VerificationError e) {
            System.out.flush();
            System.err.println("VERIFICATION FAILED: " + e.getMessage());
            System.exit(3);
        }
        b.printTable();
        System.out.flush();
        System.exit(0); // the shared JDK reaper/stderr threads are daemons, but be explicit
    }

    // ---------------------------------------------------------------------------------------------
    // arguments and output
    // ---------------------------------------------------------------------------------------------

    private long num(String key, long dflt) {
        String v = args.get(key);
        return v == null ? dflt : Long.decode(v.replace("_", ""));
    }

    private String str(String key, String dflt) {
        return args.getOrDefault(key, dflt);
    }

    private boolean runs(String impl) {
        String want = str("impl", "both");
        return want.equals("both") || want.equals(impl);
    }

    static void result(String impl, String workload, String kv) {
        System.out.println("RESULT impl=" + impl + " workload=" + workload + " " + kv);
        System.out.flush();
    }

    /** One table row: lower-is-better metrics print the ratio as dualpipe/jdk as well. */
    void row(String workload, String metric, double dp, double jdk) {
        table.add(new String[] {workload, metric, fmt(dp), fmt(jdk),
                Double.isNaN(dp) || Double.isNaN(jdk) || jdk == 0 ? "-" : String.format(Locale.ROOT, "%.2f", dp / jdk)});
    }

    private static String fmt(double v) {
        if (Double.isNaN(v)) {
            return "-";
        }
        return v >= 100 ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%.2f", v);
    }

    private void printTable() {
        if (table.isEmpty()) {
            return;
        }
        System.out.println();
        System.out.printf(Locale.ROOT, "%-10s %-22s %12s %12s %14s%n", "workload", "metric", "dualpipe", "jdk", "dualpipe/jdk");
        for (String[] r : table) {
            System.out.printf(Locale.ROOT, "%-10s %-22s %12s %12s %14s%n", (Object[]) r);
        }
    }

    static void quietLogging() {
        // The library logs DEBUG details at start-up (posix_spawn probing); keep the output to RESULT lines.
        org.slf4j.Logger root = org.slf4j.LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        if (root instanceof ch.qos.logback.classic.Logger) {
            ((ch.qos.logback.classic.Logger) root).setLevel(ch.qos.logback.classic.Level.WARN);
        }
    }

    static final class VerificationError extends RuntimeException {
        VerificationError(String m) {
            super(m);
        }
    }

    static void check(boolean ok, String what) {
        if (!ok) {
            throw new VerificationError(what);
        }
    }

    /** 63 printable chars (for linelen=64), without the newline. */
    private static String makeLine(int lineLen) {
        check(lineLen >= 2, "linelen must be >= 2");
        StringBuilder sb = new StringBuilder(lineLen - 1);
        for (int i = 0; i < lineLen - 1; i++) {
            sb.append((char) ('a' + i % 26));
        }
        return sb.toString();
    }

    // ---------------------------------------------------------------------------------------------
    // W1*: line ping-pong through cat
    // ---------------------------------------------------------------------------------------------

    private void w1(String w) throws Exception {
        int warmup = (int) num("warmup", 20_000);
        int iters = (int) num("iters", 100_000);
        int lineLen = (int) num("linelen", 64);
        int inflight = (int) num("inflight", 32);
        String line = makeLine(lineLen);
        byte[] lineBytes = (line + "\n").getBytes(StandardCharsets.UTF_8);
        double[] dp = null;
        double[] jdk = null;
        if (runs("dualpipe")) {
            long[] lat;
            double[] thr = new double[1];
            switch (w) {
                case "W1" -> lat = dpRawLines(warmup, iters, line, lineBytes);
                case "W1R" -> lat = dpRequests(warmup, iters, line, 1, thr);
                case "W1P" -> lat = dpRequests(warmup, iters, line, inflight, thr);
                default -> lat = dpBlocking(warmup, iters, line);
            }
            dp = report("dualpipe", w, lat, w.equals("W1P") ? thr[0] : Double.NaN);
        }
        if (runs("jdk")) {
            long[] lat;
            double[] thr = new double[1];
            switch (w) {
                case "W1" -> lat = jdkReaderDriven(warmup, iters, line, lineBytes);
                case "W1R" -> lat = jdkRequests(warmup, iters, line, 1, thr);
                case "W1P" -> lat = jdkRequests(warmup, iters, line, inflight, thr);
                default -> lat = jdkBlocking(warmup, iters, line, lineBytes);
            }
            jdk = report("jdk", w, lat, w.equals("W1P") ? thr[0] : Double.NaN);
        }
        double nan = Double.NaN;
        row(w, "median_us", dp == null ? nan : dp[0], jdk == null ? nan : jdk[0]);
        row(w, "p99_us", dp == null ? nan : dp[1], jdk == null ? nan : jdk[1]);
        if (w.equals("W1P")) {
            row(w, "req_per_s", dp == null ? nan : dp[2], jdk == null ? nan : jdk[2]);
        }
    }

    private static double[] report(String impl, String w, long[] lat, double perSec) {
        long[] s = lat.clone();
        Arrays.sort(s);
        double median = s[s.length / 2] / 1000.0;
        double p99 = s[(int) Math.ceil(s.length * 0.99) - 1] / 1000.0;
        double mean = Arrays.stream(s).average().orElse(0) / 1000.0;
        String extra = Double.isNaN(perSec) ? "" : String.format(Locale.ROOT, " req_per_s=%.0f", perSec);
        result(impl, w, String.format(Locale.ROOT, "median_us=%.2f p99_us=%.2f mean_us=%.2f n=%d%s", median, p99, mean, s.length, extra));
        return new double[] {median, p99, perSec};
    }

    private static ChildProcess startCat(EventLoop loop) {
        return ChildProcess.builder("cat").loop(loop).start();
    }

    private static void finish(ChildProcess child) throws Exception {
        child.stdin().shutdownOutput();
        ExitStatus st = child.onExit().get(TIMEOUT_S, TimeUnit.SECONDS);
        check(st.isSuccess(), "cat exited with " + st);
        child.close();
    }

    /** W1: raw line events; the listener (on the loop) timestamps the reply and writes the next line. */
    private static long[] dpRawLines(int warmup, int iters, String line, byte[] lineBytes) throws Exception {
        try (EventLoop loop = EventLoop.create("bench-loop")) {
            ChildProcess child = startCat(loop);
            ByteSink in = child.stdin();
            int total = warmup + iters;
            long[] lat = new long[iters];
            CompletableFuture<Void> done = new CompletableFuture<>();
            RawPingPong pp = new RawPingPong(in, line, lineBytes, warmup, total, lat, done);
            child.lines().listen(pp);
            loop.execute(pp::send); // after listen() in the loop's task order
            await(done);
            finish(child);
            return lat;
        }
    }

    /** The W1 listener: timestamps each reply and writes the next line, on the loop thread. */
    private static final class RawPingPong implements LineReader.Listener {
        private final ByteSink in;
        private final String line;
        private final byte[] lineBytes;
        private final int warmup;
        private final int total;
        private final long[] lat;
        private final CompletableFuture<Void> done;
        private int n;
        private long t0;

        RawPingPong(ByteSink in, String line, byte[] lineBytes, int warmup, int total, long[] lat, CompletableFuture<Void> done) {
            this.in = in;
            this.line = line;
            this.lineBytes = lineBytes;
            this.warmup = warmup;
            this.total = total;
            this.lat = lat;
            this.done = done;
        }

        void send() {
            t0 = System.nanoTime();
            in.write(lineBytes); // the same array every time: the kernel takes it at once or it is queued, never changed
        }

        @Override
        public void onLine(String reply) {
            long now = System.nanoTime();
            int i = n++;
            if (!reply.equals(line)) {
                done.completeExceptionally(new VerificationError("reply " + i + " differs: " + reply));
                return;
            }
            if (i >= warmup) {
                lat[i - warmup] = now - t0;
            }
            if (i + 1 == total) {
                done.complete(null);
            } else {
                send();
            }
        }

        @Override
        public void onEnd() {
            done.completeExceptionally(new VerificationError("stdout ended early"));
        }

        @Override
        public void onError(Throwable error) {
            done.completeExceptionally(error);
        }
    }

    /** W1R / W1P: request() chained from its own completion on the loop, {@code inflight} at a time. */
    private static long[] dpRequests(int warmup, int iters, String line, int inflight, double[] perSec) throws Exception {
        try (EventLoop loop = EventLoop.create("bench-loop")) {
            ChildProcess child = startCat(loop);
            int total = warmup + iters;
            long[] lat = new long[iters];
            CompletableFuture<Void> done = new CompletableFuture<>();
            long[] marks = new long[2];
            @SuppressWarnings("unchecked")
            Consumer<Integer>[] issue = new Consumer[1];
            int[] issued = {0};
            int[] completed = {0};
            issue[0] = idx -> {
                long t0 = System.nanoTime();
                child.request(line).whenComplete((reply, e) -> {
                    long now = System.nanoTime();
                    if (e != null) {
                        done.completeExceptionally(e);
                        return;
                    }
                    if (!line.equals(reply)) {
                        done.completeExceptionally(new VerificationError("reply " + idx + " differs: " + reply));
                        return;
                    }
                    if (idx >= warmup) {
                        lat[idx - warmup] = now - t0;
                    }
                    int c = ++completed[0];
                    if (c == warmup) {
                        marks[0] = now;
                    }
                    if (c == total) {
                        marks[1] = now;
                        done.complete(null);
                    } else if (issued[0] < total) {
                        issue[0].accept(issued[0]++);
                    }
                });
            };
            loop.execute(() -> {
                for (int k = 0; k < inflight && issued[0] < total; k++) {
                    issue[0].accept(issued[0]++);
                }
            });
            await(done);
            perSec[0] = iters * 1e9 / (marks[1] - marks[0]);
            finish(child);
            return lat;
        }
    }

    /** W1F: a caller thread blocks on every reply future. */
    private static long[] dpBlocking(int warmup, int iters, String line) throws Exception {
        try (EventLoop loop = EventLoop.create("bench-loop")) {
            ChildProcess child = startCat(loop);
            long[] lat = new long[iters];
            for (int i = 0; i < warmup + iters; i++) {
                long t0 = System.nanoTime();
                String reply = child.request(line).get();
                long now = System.nanoTime();
                check(line.equals(reply), "reply " + i + " differs: " + reply);
                if (i >= warmup) {
                    lat[i - warmup] = now - t0;
                }
            }
            finish(child);
            return lat;
        }
    }

    // ---- JDK ----

    /** A JDK child with a stderr drain thread (one reader thread per stream). */
    private static final class JdkCat implements AutoCloseable {
        final Process p;
        final OutputStream out;
        final BufferedReader lines;
        final Thread errDrain;

        JdkCat() throws IOException {
            p = new ProcessBuilder("cat").start();
            out = p.getOutputStream();
            lines = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            errDrain = drain(p.getErrorStream(), "stderr-drain");
        }

        @Override
        public void close() throws Exception {
            out.close();
            check(p.waitFor(TIMEOUT_S, TimeUnit.SECONDS) && p.exitValue() == 0, "cat did not exit cleanly");
            errDrain.join();
            lines.close();
        }
    }

    static Thread drain(InputStream in, String name) {
        Thread t = new Thread(() -> {
            byte[] b = new byte[8192];
            try {
                while (in.read(b) >= 0) {
                    // discard
                }
            } catch (IOException ignored) {
                // closed
            }
        }, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** JDK W1: the stdout reader thread reads each reply and writes the next line itself. */
    private static long[] jdkReaderDriven(int warmup, int iters, String line, byte[] lineBytes) throws Exception {
        try (JdkCat c = new JdkCat()) {
            long[] lat = new long[iters];
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread reader = new Thread(() -> {
                try {
                    int total = warmup + iters;
                    long t0 = System.nanoTime();
                    c.out.write(lineBytes);
                    c.out.flush();
                    for (int i = 0; i < total; i++) {
                        String reply = c.lines.readLine();
                        long now = System.nanoTime();
                        check(line.equals(reply), "reply " + i + " differs: " + reply);
                        if (i >= warmup) {
                            lat[i - warmup] = now - t0;
                        }
                        if (i + 1 < total) {
                            t0 = System.nanoTime();
                            c.out.write(lineBytes);
                            c.out.flush();
                        }
                    }
                } catch (Throwable t) {
                    failure.set(t);
                }
            }, "stdout-reader");
            reader.start();
            reader.join();
            rethrow(failure.get());
            return lat;
        }
    }

    /**
     * What a JDK user writes for request/reply: futures queued in FIFO order, completed by the
     * stdout reader thread; the next request is chained from the completion (on that thread).
     */
    private static long[] jdkRequests(int warmup, int iters, String line, int inflight, double[] perSec) throws Exception {
        try (JdkCat c = new JdkCat()) {
            ConcurrentLinkedQueue<CompletableFuture<String>> pending = new ConcurrentLinkedQueue<>();
            Object writeLock = new Object();
            Thread reader = new Thread(() -> {
                try {
                    String l;
                    while ((l = c.lines.readLine()) != null) {
                        CompletableFuture<String> f = pending.poll();
                        if (f != null) {
                            f.complete(l);
                        }
                    }
                } catch (IOException e) {
                    CompletableFuture<String> f;
                    while ((f = pending.poll()) != null) {
                        f.completeExceptionally(e);
                    }
                }
            }, "stdout-reader");
            reader.setDaemon(true);
            reader.start();
            java.util.function.Function<String, CompletableFuture<String>> request = req -> {
                CompletableFuture<String> f = new CompletableFuture<>();
                byte[] b = (req + "\n").getBytes(StandardCharsets.UTF_8);
                synchronized (writeLock) {
                    pending.add(f);
                    try {
                        c.out.write(b);
                        c.out.flush();
                    } catch (IOException e) {
                        f.completeExceptionally(e);
                    }
                }
                return f;
            };
            int total = warmup + iters;
            long[] lat = new long[iters];
            CompletableFuture<Void> done = new CompletableFuture<>();
            long[] marks = new long[2];
            int[] issued = {0};
            int[] completed = {0};
            Object state = new Object(); // issued/completed are touched by main (first batch) and the reader
            @SuppressWarnings("unchecked")
            Consumer<Integer>[] issue = new Consumer[1];
            issue[0] = idx -> {
                long t0 = System.nanoTime();
                request.apply(line).whenComplete((reply, e) -> {
                    long now = System.nanoTime();
                    if (e != null) {
                        done.completeExceptionally(e);
                        return;
                    }
                    if (!line.equals(reply)) {
                        done.completeExceptionally(new VerificationError("reply " + idx + " differs: " + reply));
                        return;
                    }
                    if (idx >= warmup) {
                        lat[idx - warmup] = now - t0;
                    }
                    int next = -1;
                    synchronized (state) {
                        int cnt = ++completed[0];
                        if (cnt == warmup) {
                            marks[0] = now;
                        }
                        if (cnt == total) {
                            marks[1] = now;
                        } else if (issued[0] < total) {
                            next = issued[0]++;
                        }
                    }
                    if (next >= 0) {
                        issue[0].accept(next);
                    } else if (marks[1] != 0) {
                        done.complete(null);
                    }
                });
            };
            List<Integer> first = new ArrayList<>();
            synchronized (state) {
                for (int k = 0; k < inflight && issued[0] < total; k++) {
                    first.add(issued[0]++);
                }
            }
            for (int idx : first) {
                issue[0].accept(idx);
            }
            await(done);
            perSec[0] = iters * 1e9 / (marks[1] - marks[0]);
            return lat;
        }
    }

    /** JDK W1F: the natural blocking loop, write + flush + readLine on the caller thread. */
    private static long[] jdkBlocking(int warmup, int iters, String line, byte[] lineBytes) throws Exception {
        try (JdkCat c = new JdkCat()) {
            long[] lat = new long[iters];
            for (int i = 0; i < warmup + iters; i++) {
                long t0 = System.nanoTime();
                c.out.write(lineBytes);
                c.out.flush();
                String reply = c.lines.readLine();
                long now = System.nanoTime();
                check(line.equals(reply), "reply " + i + " differs: " + reply);
                if (i >= warmup) {
                    lat[i - warmup] = now - t0;
                }
            }
            return lat;
        }
    }

    static void await(CompletableFuture<?> f) throws Exception {
        try {
            f.get(TIMEOUT_S, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            rethrow(e.getCause());
        }
    }

    static void rethrow(Throwable t) throws Exception {
        if (t == null) {
            return;
        }
        if (t instanceof Exception) {
            throw (Exception) t;
        }
        if (t instanceof Error) {
            throw (Error) t;
        }
        throw new RuntimeException(t);
    }

    // ---------------------------------------------------------------------------------------------
    // W3: fan-out, 1000 cats x 100 round trips
    // ---------------------------------------------------------------------------------------------

    private void w3() throws Exception {
        String impl = str("impl", "both");
        if (str("loops", "1").contains(",")) {
            w3Loops();
            return;
        }
        if (impl.equals("both")) {
            // A fresh JVM per implementation, so neither's peak RSS or thread count pollutes the other's.
            double[] dp = relay("dualpipe", null);
            double[] jdk = relay("jdk", null);
            row("W3", "wall_ms", dp[0], jdk[0]);
            row("W3", "threads_peak", dp[1], jdk[1]);
            row("W3", "threads_extra", dp[2], jdk[2]);
            row("W3", "rss_hwm_mib", dp[3] / 1024, jdk[3] / 1024);
            return;
        }
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        int base = mx.getThreadCount();
        mx.resetPeakThreadCount();
        int n = (int) num("n", 1000);
        int rounds = (int) num("rounds", 100);
        String line = makeLine((int) num("linelen", 64));
        int loops = (int) num("loops", 1);
        long wallNs = impl.equals("jdk") ? jdkFanOut(n, rounds, line) : dpFanOut(n, rounds, line, loops);
        int peak = mx.getPeakThreadCount();
        long hwm = vmHwmKb();
        result(impl, "W3", String.format(Locale.ROOT, "wall_ms=%.0f spawn_ms=%.0f threads=%d threads_base=%d threads_extra=%d rss_hwm_kb=%d n=%d rounds=%d%s jvm_flags=\"%s\"",
                wallNs / 1e6, spawnedNs / 1e6, peak, base, peak - base, hwm, n, rounds, impl.equals("jdk") ? "" : " loops=" + loops,
                String.join(" ", ManagementFactory.getRuntimeMXBean().getInputArguments())));
    }

    /** W3 with loops=1,2,...: DualPipe once per loop count, each in a fresh JVM; ratios to the first count. */
    private void w3Loops() throws Exception {
        String[] counts = str("loops", "1").split(",");
        List<double[]> rs = new ArrayList<>();
        for (String c : counts) {
            rs.add(relay("dualpipe", c.trim()));
        }
        System.out.println();
        System.out.printf(Locale.ROOT, "%-10s %-16s", "workload", "metric");
        for (String c : counts) {
            System.out.printf(Locale.ROOT, " %12s", "loops=" + c.trim());
        }
        for (int i = 1; i < counts.length; i++) {
            System.out.printf(Locale.ROOT, " %14s", counts[i].trim() + "/" + counts[0].trim());
        }
        System.out.println();
        // spawn_ms: the caller thread's spawns (serial whatever the loop count); converse_ms: the rest of wall_ms.
        String[] metrics = {"wall_ms", "spawn_ms", "converse_ms", "threads_extra", "rss_hwm_mib"};
        int[] index = {0, 4, 5, 2, 3};
        for (int m = 0; m < metrics.length; m++) {
            System.out.printf(Locale.ROOT, "%-10s %-16s", "W3", metrics[m]);
            for (double[] r : rs) {
                System.out.printf(Locale.ROOT, " %12s", fmt(metricOf(r, index[m])));
            }
            for (int i = 1; i < rs.size(); i++) {
                double base = metricOf(rs.get(0), index[m]);
                System.out.printf(Locale.ROOT, " %14s", base == 0 ? "-" : String.format(Locale.ROOT, "%.2f", metricOf(rs.get(i), index[m]) / base));
            }
            System.out.println();
        }
    }

    private static double metricOf(double[] r, int i) {
        return i == 3 ? r[3] / 1024 : i == 5 ? r[0] - r[4] : r[i];
    }

    /** Runs W3 for {@code impl} in a fresh JVM with this one's flags and arguments ({@code loops} replaced unless null). */
    private double[] relay(String impl, String loops) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(ProcessBench.class.getName());
        cmd.add("W3");
        args.forEach((k, v) -> {
            if (!k.equals("impl") && !(loops != null && k.equals("loops"))) {
                cmd.add(k + "=" + v);
            }
        });
        cmd.add("impl=" + impl);
        if (loops != null) {
            cmd.add("loops=" + loops);
        }
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        double[] r = {Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN};
        try (BufferedReader rd = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String l;
            while ((l = rd.readLine()) != null) {
                if (l.isBlank() || l.startsWith("workload ")) {
                    continue;
                }
                System.out.println(l);
                if (l.startsWith("RESULT ")) {
                    r[0] = field(l, "wall_ms");
                    r[1] = field(l, "threads");
                    r[2] = field(l, "threads_extra");
                    r[3] = field(l, "rss_hwm_kb");
                    r[4] = field(l, "spawn_ms");
                }
            }
        }
        int rc = p.waitFor();
        if (rc != 0) {
            System.out.flush();
            System.err.println("W3 impl=" + impl + " failed with exit code " + rc);
            System.exit(rc);
        }
        return r;
    }

    private static double field(String line, String key) {
        for (String tok : line.split(" ")) {
            if (tok.startsWith(key + "=")) {
                return Double.parseDouble(tok.substring(key.length() + 1));
            }
        }
        return Double.NaN;
    }

    private static long vmHwmKb() throws IOException {
        for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (l.startsWith("VmHWM:")) {
                return Long.parseLong(l.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }

    /** Time the spawning phase of the last W3 run took. */
    private static long spawnedNs;

    /**
     * The children spread round-robin over a group of {@code loops} loops (one loop: the same code,
     * a group of one); each child's requests chain from the previous reply, on the child's loop.
     */
    private static long dpFanOut(int n, int rounds, String line, int loops) throws Exception {
        try (EventLoopGroup group = EventLoopGroup.create(loops, "bench-loop")) {
            ChildProcessBuilder b = ChildProcess.builder("cat").stderr(StderrMode.DISCARD);
            CountDownLatch finished = new CountDownLatch(n);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            long t0 = System.nanoTime();
            ChildProcess[] kids = new ChildProcess[n];
            for (int i = 0; i < n; i++) {
                kids[i] = b.loop(group.next()).start();
            }
            spawnedNs = System.nanoTime() - t0;
            // All n children are alive now; every conversation starts at once.
            for (ChildProcess c : kids) {
                c.loop().execute(new Runnable() {
                    int done;

                    @Override
                    public void run() {
                        c.request(line).whenComplete((reply, e) -> {
                            if (e != null || !line.equals(reply)) {
                                failure.compareAndSet(null, e != null ? e : new VerificationError("wrong reply: " + reply));
                                finished.countDown();
                                return;
                            }
                            if (++done == rounds) {
                                c.stdin().shutdownOutput();
                                c.onExit().whenComplete((st, x) -> {
                                    if (x != null || !st.isSuccess()) {
                                        failure.compareAndSet(null, x != null ? x : new VerificationError("cat exited " + st));
                                    }
                                    finished.countDown();
                                });
                            } else {
                                run();
                            }
                        });
                    }
                });
            }
            check(finished.await(TIMEOUT_S, TimeUnit.SECONDS), "W3 timed out");
            long wall = System.nanoTime() - t0;
            rethrow(failure.get());
            for (ChildProcess c : kids) {
                c.close();
            }
            return wall;
        }
    }

    /** A thread per child doing blocking write + readLine (stderr to /dev/null, as DualPipe's run). */
    private static long jdkFanOut(int n, int rounds, String line) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("cat").redirectError(ProcessBuilder.Redirect.DISCARD);
        byte[] lineBytes = (line + "\n").getBytes(StandardCharsets.UTF_8);
        CountDownLatch finished = new CountDownLatch(n);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        CountDownLatch go = new CountDownLatch(1);
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            Process p = pb.start();
            Thread t = new Thread(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                try (OutputStream out = p.getOutputStream();
                     BufferedReader rd = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                    for (int r = 0; r < rounds; r++) {
                        out.write(lineBytes);
                        out.flush();
                        String reply = rd.readLine();
                        check(line.equals(reply), "wrong reply: " + reply);
                    }
                    out.close();
                    check(p.waitFor() == 0, "cat failed");
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                } finally {
                    finished.countDown();
                }
            }, "child-" + i);
            t.start();
        }
        spawnedNs = System.nanoTime() - t0;
        // All n children (and their threads) exist now; every conversation starts at once.
        go.countDown();
        check(finished.await(TIMEOUT_S, TimeUnit.SECONDS), "W3 timed out");
        long wall = System.nanoTime() - t0;
        rethrow(failure.get());
        return wall;
    }

    // ---------------------------------------------------------------------------------------------
    // W4: spawn rate
    // ---------------------------------------------------------------------------------------------

    /**
     * W4 chains each spawn on the previous child's exit, on the loop thread (as W1 issues its next
     * write there, and as an async server would); W4F has the caller thread block on each exit.
     * The warm-up is long because each spawn runs the spawn path once: C2 compiles it only after
     * several thousand spawns, and until then the figure measures the interpreter and C1.
     */
    private void w4(String workload) throws Exception {
        int count = (int) num("count", 2000);
        int warmup = (int) num("warmup", 6000);
        boolean chained = workload.equals("W4");
        double dp = Double.NaN;
        double jdk = Double.NaN;
        if (runs("dualpipe")) {
            try (EventLoop loop = EventLoop.create("bench-loop")) {
                ChildProcessBuilder b = ChildProcess.builder("/bin/true").loop(loop); // stdin, stdout, stderr: pipes
                if (chained) {
                    dpSpawnsChained(loop, b, warmup);
                } else {
                    dpSpawnsBlocking(b, warmup);
                }
                long t0 = System.nanoTime();
                if (chained) {
                    dpSpawnsChained(loop, b, count);
                } else {
                    dpSpawnsBlocking(b, count);
                }
                dp = count * 1e9 / (System.nanoTime() - t0);
            }
            result("dualpipe", workload, String.format(Locale.ROOT, "spawns_per_s=%.0f count=%d", dp, count));
        }
        if (runs("jdk")) {
            ProcessBuilder pb = new ProcessBuilder("/bin/true"); // three pipes by default
            jdkSpawns(pb, warmup);
            long t0 = System.nanoTime();
            jdkSpawns(pb, count);
            jdk = count * 1e9 / (System.nanoTime() - t0);
            result("jdk", workload, String.format(Locale.ROOT, "spawns_per_s=%.0f count=%d", jdk, count));
        }
        row(workload, "spawns_per_s", dp, jdk);
    }

    private static void dpSpawnsBlocking(ChildProcessBuilder b, int count) throws Exception {
        for (int i = 0; i < count; i++) {
            ChildProcess c = b.start();
            ExitStatus st = c.onExit().get(TIMEOUT_S, TimeUnit.SECONDS);
            check(st.isSuccess(), "/bin/true exited with " + st);
            c.close();
        }
    }

    private static void dpSpawnsChained(EventLoop loop, ChildProcessBuilder b, int count) throws Exception {
        CompletableFuture<Void> done = new CompletableFuture<>();
        loop.execute(() -> spawnNext(b, count, done));
        try {
            done.get(TIMEOUT_S, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof VerificationError v ? v : e;
        }
    }

    /** Loop thread: spawns one child and, when it has exited, the next. */
    private static void spawnNext(ChildProcessBuilder b, int left, CompletableFuture<Void> done) {
        if (left == 0) {
            done.complete(null);
            return;
        }
        ChildProcess c;
        try {
            c = b.start();
        } catch (RuntimeException e) {
            done.completeExceptionally(e);
            return;
        }
        c.onExit().whenComplete((st, e) -> {
            c.close();
            if (e != null) {
                done.completeExceptionally(e);
            } else if (!st.isSuccess()) {
                done.completeExceptionally(new VerificationError("/bin/true exited with " + st));
            } else {
                spawnNext(b, left - 1, done);
            }
        });
    }

    private static void jdkSpawns(ProcessBuilder pb, int count) throws Exception {
        for (int i = 0; i < count; i++) {
            Process p = pb.start();
            check(p.waitFor() == 0, "/bin/true failed");
            p.getOutputStream().close();
            p.getInputStream().close();
            p.getErrorStream().close();
        }
    }
}
