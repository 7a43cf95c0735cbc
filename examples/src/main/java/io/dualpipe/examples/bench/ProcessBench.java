package io.dualpipe.examples.bench;

import java.io.IOException;
import java.io.InputStream;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

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
 *
 * <p>This class is the entry point and holds what every workload (and {@link BulkBench}) shares:
 * RESULT lines, verification, waiting. The workloads live beside it: W1* in {@link PingPongBench}
 * (JDK side in {@link JdkPingPong}), W3 in {@link FanOutBench}, W4/W4F in {@link SpawnBench}; the
 * arguments and the summary table in {@link BenchRun}.
 */
public final class ProcessBench {
    static final long TIMEOUT_S = 600;

    private ProcessBench() {
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
        BenchRun b = new BenchRun(a);
        String w = argv[0].toUpperCase(Locale.ROOT);
        try {
            switch (w) {
                case "W1", "W1R", "W1P", "W1F" -> PingPongBench.w1(b, w);
                case "W2" -> BulkBench.w2(b.args, b::row); // in its own file: BulkBench
                case "W3" -> FanOutBench.w3(b);
                case "W4", "W4F" -> SpawnBench.w4(b, w);
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

    static void result(String impl, String workload, String kv) {
        System.out.println("RESULT impl=" + impl + " workload=" + workload + " " + kv);
        System.out.flush();
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
}
