package io.dualpipe.examples;

import io.dualpipe.DualPipe;
import io.dualpipe.WaitTimeoutException;
import io.dualpipe.process.ChildProcess;
import io.dualpipe.process.StderrMode;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
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
 * <p>This controls the channels, not what the code may touch: real isolation also needs an
 * unprivileged user, namespaces or a container, and resource limits.
 *
 * <pre>mvn -q -pl examples -am -DskipTests package exec:exec -Dmain=io.dualpipe.examples.Sandbox</pre>
 */
public final class Sandbox {
    static final Duration TIME_LIMIT = Duration.ofSeconds(3);
    static final int OUTPUT_LIMIT = 4096;
    private static final Duration GRACE = Duration.ofMillis(500);

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
        return List.of(ok, forever, flood, fails);
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
