package io.dualpipe.examples.bench;

import io.dualpipe.core.EventLoop;
import io.dualpipe.process.ChildProcess;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Cold start: a fresh JVM per run, from the first line of {@code main} to the first reply of a
 * {@code cat} child, through DualPipe ({@code EventLoop.create} + {@code ChildProcess.request}) and
 * through {@code ProcessBuilder} (write a line, read it back), alternating, median of {@code runs}.
 * A third implementation, {@code jnr}, is the floor of any JNR-based library: jffi's start-up and one
 * native call, then the {@code ProcessBuilder} conversation; DualPipe's own cost is what it takes
 * beyond {@code jnr}. Prints one {@code RESULT} line per implementation and the ratios, and the medians of the phases
 * ({@code loop}: {@code EventLoop.create}; {@code spawn}: {@code start()} returned; {@code reply}:
 * the request's reply), so a regression shows where it went.
 *
 * <pre>
 * java -cp "examples/target/classes:examples/target/lib/*" io.dualpipe.examples.bench.ColdStart [runs=10] [java=/path/to/bin/java]
 * </pre>
 *
 * The children get this JVM's own flags (so {@code -Xshare:...}, {@code -XX:SharedArchiveFile=...},
 * {@code --enable-native-access=...} carry over) and its class path. {@code wall} is the child
 * JVM's whole life as the parent sees it: start-up, main, cat's exit, JVM shutdown.
 */
public final class ColdStart {
    private ColdStart() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("child")) {
            child(args[1]);
            return;
        }
        int runs = 10;
        String java = ProcessHandle.current().info().command().orElse("java");
        for (String a : args) {
            if (a.startsWith("runs=")) {
                runs = Integer.parseInt(a.substring(5));
            } else if (a.startsWith("java=")) {
                java = a.substring(5);
            } else {
                throw new IllegalArgumentException("unknown argument (runs=N, java=PATH): " + a);
            }
        }
        List<String> flags = new ArrayList<>(ManagementFactory.getRuntimeMXBean().getInputArguments());
        if (Runtime.version().feature() >= 22 && flags.stream().noneMatch(f -> f.startsWith("--enable-native-access"))) {
            flags.add("--enable-native-access=ALL-UNNAMED"); // a jar's manifest grants it to `java -jar` alone
        }
        double[][] dp = new double[PHASES][runs];
        double[][] jnr = new double[PHASES][runs];
        double[][] jdk = new double[PHASES][runs];
        run(java, flags, "dualpipe"); // warm the page cache for the jars; not counted
        run(java, flags, "jnr");
        run(java, flags, "jdk");
        for (int i = 0; i < runs; i++) {
            double[] d = run(java, flags, "dualpipe");
            double[] n = run(java, flags, "jnr");
            double[] j = run(java, flags, "jdk");
            for (int k = 0; k < PHASES; k++) {
                dp[k][i] = d[k];
                jnr[k][i] = n[k];
                jdk[k][i] = j[k];
            }
            System.out.printf(Locale.ROOT, "run %2d: dualpipe %6.1f ms (wall %6.1f, cpu %5.0f)   jnr %6.1f ms (wall %6.1f, cpu %5.0f)"
                    + "   jdk %6.1f ms (wall %6.1f, cpu %5.0f)%n", i + 1, d[0], d[1], d[2], n[0], n[1], n[2], j[0], j[1], j[2]);
        }
        double dpMedian = median(dp[0]);
        double jnrMedian = median(jnr[0]);
        double jdkMedian = median(jdk[0]);
        String jvm = System.getProperty("java.version") + " " + String.join(" ", flags);
        String[] names = {"dualpipe", "jnr", "jdk"};
        double[][][] all = {dp, jnr, jdk};
        for (int k = 0; k < names.length; k++) {
            System.out.printf(Locale.ROOT, "RESULT impl=%s workload=coldstart main_to_reply_ms=%.1f wall_ms=%.1f cpu_to_reply_ms=%.0f runs=%d jvm=\"%s\"%n",
                    names[k], median(all[k][0]), median(all[k][1]), median(all[k][2]), runs, jvm);
        }
        System.out.printf(Locale.ROOT, "ratio dualpipe/jdk: %.2f, jnr/jdk: %.2f, dualpipe/jnr: %.2f (main to first reply, medians)%n",
                dpMedian / jdkMedian, jnrMedian / jdkMedian, dpMedian / jnrMedian);
        System.out.printf(Locale.ROOT, "phases (medians, ms): dualpipe loop %.1f, spawn %.1f, reply %.1f;   jnr floor %.1f, spawn %.1f, reply %.1f;"
                + "   jdk spawn %.1f, reply %.1f%n", median(dp[3]), median(dp[4]), median(dp[5]), median(jnr[3]), median(jnr[4]),
                median(jnr[5]), median(jdk[4]), median(jdk[5]));
    }

    /** main to reply, wall, CPU to reply, then the three phases (loop, spawn, reply). */
    private static final int PHASES = 6;

    /**
     * {main-to-reply ms as the child measured it, wall ms as this JVM saw the child, the child's CPU ms
     * until the reply, ms in EventLoop.create (jnr: in jffi's start-up; 0 for jdk), ms to start()
     * returning, ms to the reply}.
     */
    private static double[] run(String java, List<String> flags, String impl) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(java);
        cmd.addAll(flags);
        cmd.addAll(Arrays.asList("-cp", System.getProperty("java.class.path"), ColdStart.class.getName(), "child", impl));
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("child JVM did not exit in 60 s: " + cmd);
        }
        double wall = (System.nanoTime() - t0) / 1e6;
        double mainToReply = Double.NaN;
        double cpu = Double.NaN;
        double[] phases = new double[3];
        for (String line : out.split("\n")) {
            if (line.startsWith("COLD ")) {
                String[] f = line.substring(5).trim().split(" ");
                mainToReply = Double.parseDouble(f[0]);
                cpu = Double.parseDouble(f[1]);
                for (int k = 0; k < 3; k++) {
                    phases[k] = Double.parseDouble(f[2 + k]);
                }
            } else if (!line.isBlank()) {
                System.out.println("  [" + impl + "] " + line); // anything else (a warning) is shown, never hidden
            }
        }
        if (p.exitValue() != 0 || Double.isNaN(mainToReply)) {
            throw new IllegalStateException(impl + " child failed (exit " + p.exitValue() + "): " + out);
        }
        return new double[] {mainToReply, wall, cpu, phases[0], phases[1], phases[2]};
    }

    private static void child(String impl) throws Exception {
        long t0 = System.nanoTime();
        String reply;
        if (impl.equals("dualpipe")) {
            try (EventLoop loop = EventLoop.create("cold")) {
                long tLoop = System.nanoTime();
                ChildProcess cat = ChildProcess.builder("cat").loop(loop).start();
                long tSpawn = System.nanoTime();
                reply = cat.request("hello").get(10, TimeUnit.SECONDS);
                long t1 = System.nanoTime();
                cat.stdin().shutdownOutput();
                cat.onExit().get(10, TimeUnit.SECONDS);
                report(reply, t1 - t0, tLoop - t0, tSpawn - tLoop, t1 - tSpawn);
            }
        } else {
            long tJnr = t0;
            if (impl.equals("jnr")) {
                jnrFloor();
                tJnr = System.nanoTime();
            }
            Process cat = new ProcessBuilder("cat").start();
            long tSpawn = System.nanoTime();
            OutputStream in = cat.getOutputStream();
            BufferedReader out = new BufferedReader(new InputStreamReader(cat.getInputStream(), StandardCharsets.UTF_8));
            in.write("hello\n".getBytes(StandardCharsets.UTF_8));
            in.flush();
            reply = out.readLine();
            long t1 = System.nanoTime();
            in.close();
            cat.waitFor(10, TimeUnit.SECONDS);
            report(reply, t1 - t0, tJnr - t0, tSpawn - tJnr, t1 - tSpawn);
        }
    }

    /**
     * The least any JNR-based library pays before its first native call: jffi loads its stub (and
     * starts {@code java.util.logging} on the way), finds libc's {@code getpid} and calls it once.
     * DualPipe's own start-up is what {@code dualpipe} costs beyond {@code jnr}.
     */
    private static void jnrFloor() {
        com.kenai.jffi.Library libc = com.kenai.jffi.Library.getDefault();
        long getpid = libc.getSymbolAddress("getpid");
        com.kenai.jffi.CallContext ctx = com.kenai.jffi.CallContext.getCallContext(com.kenai.jffi.Type.SINT,
                new com.kenai.jffi.Type[0], com.kenai.jffi.CallingConvention.DEFAULT, false);
        int pid = com.kenai.jffi.Invoker.getInstance().invokeI0(ctx, getpid);
        if (pid != ProcessHandle.current().pid()) {
            throw new IllegalStateException("getpid through jffi returned " + pid);
        }
    }

    private static void report(String reply, long nanos, long loopNanos, long spawnNanos, long replyNanos) {
        // CPU of all this JVM's threads so far (JIT and GC included): less swayed by a busy machine than wall time.
        long cpu = ProcessHandle.current().info().totalCpuDuration().map(d -> d.toMillis()).orElse(-1L);
        if (!"hello".equals(reply)) {
            throw new IllegalStateException("cat replied " + reply);
        }
        System.out.printf(Locale.ROOT, "COLD %.2f %d %.2f %.2f %.2f%n", nanos / 1e6, cpu, loopNanos / 1e6, spawnNanos / 1e6, replyNanos / 1e6);
    }

    private static double median(double[] values) {
        double[] s = values.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }
}
