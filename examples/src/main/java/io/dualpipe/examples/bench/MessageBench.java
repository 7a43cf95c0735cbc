package io.dualpipe.examples.bench;

import org.slf4j.LoggerFactory;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Request/reply frames over a Unix socket (or TCP with {@code transport=tcp}): DualPipe's
 * {@code MessageServer} and {@code MessageClient} ({@link DualPipeW5}) against a plain JDK NIO program
 * doing the same work with the same frames ({@link NioW5}), and for latency also blocking JDK
 * sockets ({@link BlockingW5L}), all in the same invocation.
 *
 * <pre>
 * MessageBench W5T [clients=16] [msgs=500000] [window=32] [rounds=3] [warmup=100000] [cold=1] [cold_msgs=50000]
 * MessageBench W5L [warmup=20000] [iters=100000] [impl=all|dualpipe|dualpipe-listener|nio|blocking]
 * </pre>
 *
 * <p><b>W5T</b>, throughput: each client keeps {@code window} requests in flight, sending the next as
 * each reply arrives; counted in request/reply pairs per second. Two rounds are reported separately:
 * <ul>
 * <li><b>cold</b>: a fresh JVM per implementation (run {@code cold} times, alternating), connects,
 *     then times one round of {@code cold_msgs} per client with no warm-up: what a short-lived
 *     program sees, JIT compilation included;</li>
 * <li><b>steady</b>: in this JVM, after a warm-up round of {@code warmup} per client for each
 *     implementation, {@code rounds} rounds of {@code msgs} per client, the implementations
 *     alternating; the median round is the RESULT.</li>
 * </ul>
 * Besides the wall-clock rate, each round reports the CPU time its loop threads spent per message
 * ({@code loop_cpu_ns_per_msg}; JIT and GC threads not included), which a busy machine sways less.
 *
 * <p><b>W5L</b>, latency: one client, one request at a time, the next sent as the reply arrives;
 * DualPipe and NIO run client and server on one loop thread, the blocking baseline on two threads.
 * Pin for stable figures: {@code taskset -c 0 java -cp ... MessageBench W5L}. W5L lives in {@link MessageLatency}.
 *
 * <p>A frame is 64 bytes on the wire: the 10-byte header and a 54-byte {@code bytes} body that
 * carries a sequence number, so every reply is checked against its request. Other keys:
 * {@code impl=all|both|dualpipe|dualpipe-listener|nio} (W5T: {@code all}, the default, runs
 * DualPipe's two API styles, futures and listeners, see {@link DualPipeW5}, and NIO; {@code both}
 * the futures and NIO), {@code transport=unix|tcp} (DualPipe only; the baselines are Unix sockets), {@code size} (frame bytes, at least 18), {@code loops=1|2} (W5T: clients on the
 * server's loop thread, or on a second one, on both sides). Unknown keys are ignored. A reply that
 * does not match its request makes the run exit with status 1.
 */
public final class MessageBench {
    static final int HEADER = 10;

    /** One implementation of the workloads, connected and idle between calls. */
    interface W5 extends AutoCloseable {
        String name();

        /** One W5T round; the clients start from their loop in one pass. */
        Round round(int msgs, int window) throws Exception;

        /** W5L on the first client: per round trip latencies in ns. */
        long[] pingPong(int iters) throws Exception;

        long[] loopThreadIds() throws Exception;
    }

    record Round(long nanos, long mismatches) {
    }

    private MessageBench() {
    }

    public static void main(String[] args) throws Exception {
        quietLogging();
        if (args.length == 0) {
            System.err.println("usage: MessageBench W5L|W5T [key=value ...]");
            System.exit(2);
        }
        Map<String, String> opts = new HashMap<>();
        for (int i = 1; i < args.length; i++) {
            int eq = args[i].indexOf('=');
            if (eq > 0) {
                opts.put(args[i].substring(0, eq), args[i].substring(eq + 1));
            }
        }
        boolean ok;
        switch (args[0]) {
            case "W5L" -> ok = MessageLatency.run(opts);
            case "W5T" -> ok = throughput(opts);
            case "W5T-cold" -> ok = coldChild(opts);
            default -> {
                System.err.println("unknown workload " + args[0] + ": W5L or W5T");
                System.exit(2);
                return;
            }
        }
        System.exit(ok ? 0 : 1);
    }

    static int intOpt(Map<String, String> opts, String key, int dflt) {
        return Integer.parseInt(opts.getOrDefault(key, String.valueOf(dflt)).replace("_", ""));
    }

    static byte[] body(int size, long seq) {
        byte[] b = new byte[size - HEADER];
        ByteBuffer.wrap(b).putLong(0, seq).putLong(b.length - 8, ~seq);
        return b;
    }

    static boolean matches(byte[] reply, long seq, int size) {
        ByteBuffer b = ByteBuffer.wrap(reply);
        return reply.length == size - HEADER && b.getLong(0) == seq && b.getLong(reply.length - 8) == ~seq;
    }

    /** As {@link #matches(byte[], long, int)}, for a body read in place (absolute reads: position untouched). */
    static boolean matches(ByteBuffer reply, long seq, int size) {
        int at = reply.position();
        return reply.remaining() == size - HEADER && reply.getLong(at) == seq && reply.getLong(reply.limit() - 8) == ~seq;
    }

    static W5 open(String impl, Map<String, String> opts, Path dir, int clients, int loops, int size) throws Exception {
        Path sock = dir.resolve(impl + ".sock");
        return switch (impl) {
            case "dualpipe" -> new DualPipeW5(sock, "tcp".equals(opts.get("transport")), clients, loops, size, false);
            case "dualpipe-listener" -> new DualPipeW5(sock, "tcp".equals(opts.get("transport")), clients, loops, size, true);
            case "nio" -> new NioW5(sock, clients, loops, size);
            default -> throw new IllegalArgumentException("impl must be dualpipe, dualpipe-listener, nio, both or all: " + impl);
        };
    }

    /** {@code all} (the default): both DualPipe styles and NIO; {@code both}: futures and NIO; or one, or a comma list. */
    private static List<String> impls(Map<String, String> opts) {
        String impl = opts.getOrDefault("impl", "all");
        return switch (impl) {
            case "all" -> List.of("dualpipe", "dualpipe-listener", "nio");
            case "both" -> List.of("dualpipe", "nio");
            default -> List.of(impl.split(","));
        };
    }

    // =========================================================================================
    // W5T
    // =========================================================================================

    private static boolean throughput(Map<String, String> opts) throws Exception {
        int clients = intOpt(opts, "clients", 16);
        int msgs = intOpt(opts, "msgs", 500_000);
        int window = intOpt(opts, "window", 32);
        int size = Math.max(18, intOpt(opts, "size", 64));
        int loops = intOpt(opts, "loops", 1);
        int rounds = Math.max(1, intOpt(opts, "rounds", 3));
        int warmup = intOpt(opts, "warmup", 100_000);
        int coldRuns = intOpt(opts, "cold", 1);
        int coldMsgs = intOpt(opts, "cold_msgs", 50_000);
        List<String> impls = impls(opts);
        System.out.printf(Locale.ROOT, "INFO workload=W5T transport=%s loops=%d clients=%d window=%d frame_bytes=%d cold_msgs=%d msgs=%d warmup=%d cpus=%d%n",
                opts.getOrDefault("transport", "unix"), loops, clients, window, size, coldMsgs, msgs, warmup,
                Runtime.getRuntime().availableProcessors());
        boolean ok = true;

        // Cold: a fresh JVM per implementation and run, the order alternating.
        Map<String, double[][]> cold = new LinkedHashMap<>();
        for (String impl : impls) {
            cold.put(impl, new double[2][coldRuns]);
        }
        for (int run = 0; run < coldRuns; run++) {
            for (int k = 0; k < impls.size(); k++) {
                String impl = impls.get((k + run) % impls.size());
                double[] r = forkCold(impl, opts, clients, coldMsgs, window, size, loops);
                ok &= r[2] == 0;
                cold.get(impl)[0][run] = r[0];
                cold.get(impl)[1][run] = r[1];
                System.out.printf(Locale.ROOT, "INFO round=cold run=%d impl=%s msgs_per_s=%.0f loop_cpu_ns_per_msg=%.0f mismatches=%.0f%n",
                        run + 1, impl, r[0], r[1], r[2]);
            }
        }

        // Steady: both implementations connected in this JVM, warmed up, then rounds alternating.
        Map<String, double[][]> steady = new LinkedHashMap<>();
        Path dir = Files.createTempDirectory("dualpipe-bench");
        List<W5> open = new ArrayList<>();
        try {
            for (String impl : impls) {
                open.add(open(impl, opts, dir, clients, loops, size));
                steady.put(impl, new double[3][rounds]);
            }
            for (W5 w : open) {
                ok &= w.round(warmup, window).mismatches() == 0;
            }
            for (int r = 0; r < rounds; r++) {
                for (int k = 0; k < open.size(); k++) {
                    W5 w = open.get((k + r) % open.size());
                    long[] ids = w.loopThreadIds();
                    long cpu0 = cpu(ids);
                    long alloc0 = allocated(ids);
                    Round result = w.round(msgs, window);
                    double n = (double) clients * msgs;
                    double rate = n / (result.nanos() / 1e9);
                    double cpuPerMsg = (cpu(ids) - cpu0) / n;
                    double allocPerMsg = (allocated(ids) - alloc0) / n;
                    ok &= result.mismatches() == 0;
                    double[][] s = steady.get(w.name());
                    s[0][r] = rate;
                    s[1][r] = cpuPerMsg;
                    s[2][r] = allocPerMsg;
                    System.out.printf(Locale.ROOT, "INFO round=steady run=%d impl=%s msgs_per_s=%.0f loop_cpu_ns_per_msg=%.0f loop_alloc_bytes_per_msg=%.0f mismatches=%d%n",
                            r + 1, w.name(), rate, cpuPerMsg, allocPerMsg, result.mismatches());
                }
            }
        } finally {
            for (W5 w : open) {
                w.close();
            }
            try (var files = Files.list(dir)) {
                for (Path p : files.toList()) {
                    Files.deleteIfExists(p);
                }
            }
            Files.deleteIfExists(dir);
        }

        for (String impl : impls) {
            double[][] c = cold.get(impl);
            if (coldRuns > 0) {
                System.out.printf(Locale.ROOT, "RESULT impl=%s workload=W5T round=cold msgs_per_s=%.0f loop_cpu_ns_per_msg=%.0f runs=%d%n",
                        impl, median(c[0]), median(c[1]), coldRuns);
            }
        }
        for (String impl : impls) {
            double[][] s = steady.get(impl);
            System.out.printf(Locale.ROOT, "RESULT impl=%s workload=W5T round=steady msgs_per_s=%.0f loop_cpu_ns_per_msg=%.0f loop_alloc_bytes_per_msg=%.0f rounds=%d%n",
                    impl, median(s[0]), median(s[1]), median(s[2]), rounds);
        }
        if (impls.contains("nio")) {
            double[][] j = steady.get("nio");
            for (String impl : impls) {
                if (impl.equals("nio")) {
                    continue;
                }
                if (coldRuns > 0) {
                    double[][] d = cold.get(impl);
                    double[][] jc = cold.get("nio");
                    System.out.printf(Locale.ROOT, "RATIO workload=W5T round=cold %s/nio msgs_per_s=%.2f loop_cpu_per_msg=%.2f%n",
                            impl, median(d[0]) / median(jc[0]), median(d[1]) / median(jc[1]));
                }
                double[][] d = steady.get(impl);
                StringBuilder pairs = new StringBuilder();
                for (int r = 0; r < rounds; r++) {
                    pairs.append(r == 0 ? "" : ",").append(String.format(Locale.ROOT, "%.2f", d[0][r] / j[0][r]));
                }
                System.out.printf(Locale.ROOT, "RATIO workload=W5T round=steady %s/nio msgs_per_s=%.2f loop_cpu_per_msg=%.2f per_round=%s%n",
                        impl, median(d[0]) / median(j[0]), median(d[1]) / median(j[1]), pairs);
            }
        }
        return ok;
    }

    /** {msgs/s, loop CPU ns per message, mismatches} of one cold round in a fresh JVM. */
    private static double[] forkCold(String impl, Map<String, String> opts, int clients, int msgs, int window, int size, int loops)
            throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        for (String f : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!f.startsWith("-XX:StartFlightRecording") && !f.startsWith("-agentlib") && !f.startsWith("-javaagent")) {
                cmd.add(f);
            }
        }
        cmd.addAll(Arrays.asList("-cp", System.getProperty("java.class.path"), MessageBench.class.getName(), "W5T-cold",
                "impl=" + impl, "clients=" + clients, "msgs=" + msgs, "window=" + window, "size=" + size, "loops=" + loops,
                "transport=" + opts.getOrDefault("transport", "unix")));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(600, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("cold " + impl + " JVM did not exit in 600 s");
        }
        for (String line : out.split("\n")) {
            if (line.startsWith("COLD ")) {
                String[] f = line.substring(5).trim().split(" ");
                return new double[] {Double.parseDouble(f[0]), Double.parseDouble(f[1]), Double.parseDouble(f[2])};
            }
        }
        throw new IllegalStateException("cold " + impl + " JVM failed (exit " + p.exitValue() + "): " + out);
    }

    /** In a fresh JVM: connect, then one round with no warm-up; prints "COLD rate cpu_ns_per_msg mismatches". */
    private static boolean coldChild(Map<String, String> opts) throws Exception {
        int clients = intOpt(opts, "clients", 16);
        int msgs = intOpt(opts, "msgs", 50_000);
        Path dir = Files.createTempDirectory("dualpipe-bench");
        try (W5 w = open(opts.get("impl"), opts, dir, clients, intOpt(opts, "loops", 1), Math.max(18, intOpt(opts, "size", 64)))) {
            long[] ids = w.loopThreadIds();
            long cpu0 = cpu(ids);
            Round r = w.round(msgs, intOpt(opts, "window", 32));
            double n = (double) clients * msgs;
            System.out.printf(Locale.ROOT, "COLD %.0f %.0f %d%n", n / (r.nanos() / 1e9), (cpu(ids) - cpu0) / n, r.mismatches());
            return r.mismatches() == 0;
        } finally {
            try (var files = Files.list(dir)) {
                for (Path p : files.toList()) {
                    Files.deleteIfExists(p);
                }
            }
            Files.deleteIfExists(dir);
        }
    }

    // =========================================================================================

    static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    private static com.sun.management.ThreadMXBean threads() {
        return (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    }

    /** CPU ns the given threads have used so far. */
    private static long cpu(long[] ids) {
        long sum = 0;
        for (long id : ids) {
            sum += threads().getThreadCpuTime(id);
        }
        return sum;
    }

    /** Bytes the given threads have allocated so far (HotSpot's per-thread counter). */
    static long allocated(long[] ids) {
        long sum = 0;
        for (long id : ids) {
            sum += threads().getThreadAllocatedBytes(id);
        }
        return sum;
    }

    /** Logback's default is DEBUG to the console; a benchmark wants warnings only. */
    static void quietLogging() {
        if (LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME) instanceof ch.qos.logback.classic.Logger root) {
            root.setLevel(ch.qos.logback.classic.Level.WARN);
        }
    }
}
