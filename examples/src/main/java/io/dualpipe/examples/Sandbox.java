package io.dualpipe.examples;

import io.dualpipe.DualPipe;
import io.dualpipe.WaitTimeoutException;
import io.dualpipe.process.ChildProcess;
import io.dualpipe.process.ExitStatus;
import io.dualpipe.process.ResourceLimits;
import io.dualpipe.process.StderrMode;
import io.dualpipe.process.StdinMode;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Sandboxed execution of untrusted code with controlled channels: each snippet runs under
 * {@code sh -c} with an empty environment (PATH only), in a fresh temporary directory, as the leader
 * of its own process group, with stdin closed, stderr merged into stdout, its output capped and its
 * run time limited. On overrun the whole group gets SIGTERM, then SIGKILL: background processes the
 * snippet started go too.
 *
 * <p>Two more snippets run under {@link ResourceLimits}, which are in force before their first
 * instruction: a loop trying to start {@value #FORKS} background processes is stopped by
 * {@code processes(}{@value #MAX_PROCESSES}{@code )} (fork fails with EAGAIN), and a 1 GiB allocation by
 * {@code addressSpaceBytes} (Python raises MemoryError): the limits stop them, not the time limit.
 * RLIMIT_NPROC counts every process of the user and the kernel does not enforce it for root, so
 * when the JVM runs as root these run as nobody ({@code setpriv --reuid=65534}).
 *
 * <p>This controls the channels and the resources, not what the code may touch: real isolation
 * also needs namespaces or a container.
 *
 * <pre>mvn -q -pl examples -am -DskipTests package exec:exec -Dmain=io.dualpipe.examples.Sandbox</pre>
 */
public final class Sandbox {
    static final Duration TIME_LIMIT = Duration.ofSeconds(3);
    static final int OUTPUT_LIMIT = 4096;
    private static final Duration GRACE = Duration.ofMillis(500);
    static final int FORKS = 200;
    static final int MAX_PROCESSES = 16;
    static final long MAX_ADDRESS_SPACE = 256L << 20;
    private static final boolean ROOT = "root".equals(System.getProperty("user.name"));

    private Sandbox() {
    }

    /** What became of one snippet. */
    record Outcome(String output, boolean stopped, String status) {
    }

    public static void main(String[] args) throws Exception {
        run(System.out);
    }

    static List<Outcome> run(PrintStream out) throws Exception {
        Outcome ok = evaluate(out, "well-behaved", "echo \"hello from $(pwd)\"; echo \"environment: $(env | cut -d= -f1 | sort | tr '\\n' ' ')\"");
        Outcome forever = evaluate(out, "runs forever", "sleep 600 & echo \"started background pid $!\"; while :; do :; done");
        Outcome flood = evaluate(out, "floods output", "yes flood");
        Outcome fails = evaluate(out, "fails", "echo 'about to fail' >&2; exit 3");
        Matcher m = Pattern.compile("started background pid (\\d+)").matcher(forever.output());
        if (m.find()) {
            long pid = Long.parseLong(m.group(1));
            Optional<ProcessHandle> bg = ProcessHandle.of(pid);
            if (bg.isPresent()) {
                bg.get().onExit().get(5, TimeUnit.SECONDS); // bounded; the group's SIGTERM reached it
            }
            out.println("background pid " + pid + " of \"runs forever\" is gone too: the signal went to its group");
        }
        Outcome forks = limited(out, "fork loop", ResourceLimits.builder().processes(MAX_PROCESSES).build(),
                "import subprocess, time\n"
                + "kids, why = [], 'nothing'\n"
                + "for i in range(" + FORKS + "):\n"
                + "    try:\n"
                + "        kids.append(subprocess.Popen(['sleep', '30'], stdin=subprocess.DEVNULL,"
                + " stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))\n"
                + "    except OSError as e:\n"
                + "        why = e.strerror\n"
                + "        break\n"
                + "print(f'started {len(kids)} of " + FORKS + " background processes, then fork failed: {why}', flush=True)\n"
                + "time.sleep(30)\n"); // holds its group together until the sandbox kills it
        Outcome hog = limited(out, "memory hog", ResourceLimits.builder().addressSpaceBytes(MAX_ADDRESS_SPACE).build(),
                "b = bytearray(1 << 30)\nprint('allocated 1 GiB', flush=True)\n");
        return List.of(ok, forever, flood, fails, forks, hog);
    }

    /**
     * Runs Python {@code code} under {@code limits} (as nobody when we are root), in its own process
     * group. Its first stdout line (or its end) is awaited for {@link #TIME_LIMIT} at most; then the
     * whole group gets SIGTERM, so nothing it started outlives it. stderr is left at the default,
     * {@link StderrMode#TAIL}: its last line says what stopped the code.
     */
    static Outcome limited(PrintStream out, String name, ResourceLimits limits, String code) throws Exception {
        List<String> argv = new ArrayList<>();
        if (ROOT) {
            argv.addAll(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"));
        }
        argv.addAll(List.of("python3", "-c", code));
        long t0 = System.nanoTime();
        ChildProcess child = ChildProcess.builder(argv)
                .clearEnvironment().environment("PATH", "/usr/bin:/bin")
                .directory(Path.of("/"))
                .stdin(StdinMode.NULL_DEVICE)
                .newProcessGroup(true)
                .limits(limits)
                .start();
        boolean stopped = false;
        String line;
        try {
            line = child.readLine().get(TIME_LIMIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            line = null;
            stopped = true; // the limit did not stop it: the time limit does
        }
        ExitStatus status = child.terminate(GRACE).get(5, TimeUnit.SECONDS); // the group, if its leader still runs
        child.onDrained().get(5, TimeUnit.SECONDS); // every stderr byte is in the tail
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        int left = awaitGroupGone(child.pid());
        child.close();
        String said = line != null ? line : child.stderrTail().strip().lines().reduce((a, b) -> b).orElse("");
        out.printf("%-13s %s after %d ms (%s); processes left in its group: %d%n", name + ":",
                stopped ? "stopped by the time limit" : "stopped by its limit", ms, status, left);
        out.println("    | " + said);
        return new Outcome(said, stopped, status.toString());
    }

    /** Processes still in group {@code pgid} once they had {@code 2 s} to die (0 = none left). */
    static int awaitGroupGone(int pgid) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        int n;
        while ((n = groupSize(pgid)) > 0 && System.nanoTime() < deadline) {
            Thread.sleep(20); // the killed processes are reaped by their new parent, soon
        }
        return n;
    }

    private static int groupSize(int pgid) {
        int n = 0;
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path p : (Iterable<Path>) procs::iterator) {
                if (!p.getFileName().toString().chars().allMatch(Character::isDigit)) {
                    continue;
                }
                try {
                    String stat = Files.readString(p.resolve("stat"));
                    // pid (comm) state ppid pgrp ...: comm may hold spaces, so split after its ')'
                    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                    if (Integer.parseInt(f[2]) == pgid) {
                        n++;
                    }
                } catch (IOException | RuntimeException gone) {
                    // it exited while we looked
                }
            }
        } catch (IOException e) {
            return -1;
        }
        return n;
    }

    static Outcome evaluate(PrintStream out, String name, String code) throws IOException {
        Path dir = Files.createTempDirectory("sandbox-");
        try {
            DualPipe child = DualPipe.spawn(ChildProcess.builder("sh", "-c", code)
                    .clearEnvironment().environment("PATH", "/usr/bin:/bin")
                    .directory(dir)
                    .newProcessGroup(true)
                    .stderr(StderrMode.MERGE_WITH_STDOUT));
            boolean stopped = false;
            ByteArrayOutputStream output = new ByteArrayOutputStream();
            try {
                child.process().stdin().shutdownOutput(); // the snippet gets no input at all
                long deadline = System.nanoTime() + TIME_LIMIT.toNanos();
                while (true) {
                    Duration left = Duration.ofNanos(Math.max(0, deadline - System.nanoTime()));
                    byte[] b = child.read(OUTPUT_LIMIT, left);
                    if (b.length == 0) {
                        break; // it finished
                    }
                    output.write(b, 0, Math.min(b.length, OUTPUT_LIMIT - output.size()));
                    if (output.size() >= OUTPUT_LIMIT) {
                        stopped = true;
                        break;
                    }
                }
            } catch (WaitTimeoutException e) {
                stopped = true;
            }
            if (stopped) {
                child.process().terminate(GRACE); // SIGTERM to the group, SIGKILL after the grace
            }
            String status = child.close().status().toString();
            String text = output.toString(StandardCharsets.UTF_8);
            out.printf("%-13s %s%n", name + ":", stopped ? "stopped (" + status + ")" : status);
            text.lines().limit(3).forEach(l -> out.println("    | " + l));
            if (text.lines().count() > 3) {
                out.println("    | ... (" + output.size() + " bytes kept of the output)");
            }
            return new Outcome(text, stopped, status);
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
