package io.dualpipe.examples.bench;

import io.dualpipe.core.EventLoopGroup;
import io.dualpipe.examples.bench.ProcessBench.VerificationError;
import io.dualpipe.process.ChildProcess;
import io.dualpipe.process.ChildProcessBuilder;
import io.dualpipe.process.StderrMode;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static io.dualpipe.examples.bench.BenchRun.makeLine;
import static io.dualpipe.examples.bench.ProcessBench.TIMEOUT_S;
import static io.dualpipe.examples.bench.ProcessBench.check;
import static io.dualpipe.examples.bench.ProcessBench.result;
import static io.dualpipe.examples.bench.ProcessBench.rethrow;

/**
 * {@link ProcessBench} W3: fan-out, 1000 cats x 100 round trips. With {@code impl=both} or a
 * {@code loops} list it relays each run to a fresh JVM ({@code ProcessBench W3 impl=...}), so that
 * neither run's peak RSS or thread count pollutes another's, and tabulates the relayed RESULT lines.
 */
final class FanOutBench {
    private FanOutBench() {
    }

    static void w3(BenchRun run) throws Exception {
        String impl = run.str("impl", "both");
        if (run.str("loops", "1").contains(",")) {
            w3Loops(run);
            return;
        }
        if (impl.equals("both")) {
            // A fresh JVM per implementation, so neither's peak RSS or thread count pollutes the other's.
            double[] dp = relay(run, "dualpipe", null);
            double[] jdk = relay(run, "jdk", null);
            run.row("W3", "wall_ms", dp[0], jdk[0]);
            run.row("W3", "threads_peak", dp[1], jdk[1]);
            run.row("W3", "threads_extra", dp[2], jdk[2]);
            run.row("W3", "rss_hwm_mib", dp[3] / 1024, jdk[3] / 1024);
            return;
        }
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        int base = mx.getThreadCount();
        mx.resetPeakThreadCount();
        int n = (int) run.num("n", 1000);
        int rounds = (int) run.num("rounds", 100);
        String line = makeLine((int) run.num("linelen", 64));
        int loops = (int) run.num("loops", 1);
        long wallNs = impl.equals("jdk") ? jdkFanOut(n, rounds, line) : dpFanOut(n, rounds, line, loops);
        int peak = mx.getPeakThreadCount();
        long hwm = vmHwmKb();
        result(impl, "W3", String.format(Locale.ROOT, "wall_ms=%.0f spawn_ms=%.0f threads=%d threads_base=%d threads_extra=%d rss_hwm_kb=%d n=%d rounds=%d%s jvm_flags=\"%s\"",
                wallNs / 1e6, spawnedNs / 1e6, peak, base, peak - base, hwm, n, rounds, impl.equals("jdk") ? "" : " loops=" + loops,
                String.join(" ", ManagementFactory.getRuntimeMXBean().getInputArguments())));
    }

    /** W3 with loops=1,2,...: DualPipe once per loop count, each in a fresh JVM; ratios to the first count. */
    private static void w3Loops(BenchRun run) throws Exception {
        String[] counts = run.str("loops", "1").split(",");
        List<double[]> rs = new ArrayList<>();
        for (String c : counts) {
            rs.add(relay(run, "dualpipe", c.trim()));
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
                System.out.printf(Locale.ROOT, " %12s", BenchRun.fmt(metricOf(r, index[m])));
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
    private static double[] relay(BenchRun run, String impl, String loops) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(ProcessBench.class.getName());
        cmd.add("W3");
        run.args.forEach((k, v) -> {
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
}
