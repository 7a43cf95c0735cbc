package io.dualpipe.examples;

import io.dualpipe.DualPipe;
import io.dualpipe.WaitTimeoutException;
import io.dualpipe.process.ChildProcess;
import io.dualpipe.process.StderrMode;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The buffering deadlock of docs/buffering.md, live: a filter such as {@code tr} block-buffers its
 * output when it goes to a pipe, so a reply the parent waits for sits in the child's buffer. Naive
 * blocking code hangs; DualPipe times out instead, and each fix makes the reply come at once.
 *
 * <pre>mvn -q -pl examples -am -DskipTests package exec:exec -Dmain=io.dualpipe.examples.BufferingDeadlock</pre>
 */
public final class BufferingDeadlock {
    /** How long the naive cases are given; they would never answer. */
    static final Duration PATIENCE = Duration.ofSeconds(1);
    /** The fixed children answer at once; this only has to cover a slow start on a loaded machine. */
    private static final Duration FIXED_PATIENCE = Duration.ofSeconds(10);
    private static final String PY = "import sys\nfor line in sys.stdin:\n    sys.stdout.write(line.upper())";

    private BufferingDeadlock() {
    }

    public static void main(String[] args) throws Exception {
        run(System.out);
    }

    /** Returns, per case, the reply or "timeout". */
    static Map<String, String> run(PrintStream out) throws Exception {
        Map<String, String> results = new LinkedHashMap<>();
        out.println("Each child gets one line and should answer it at once.");
        out.println();
        out.println("java.lang.Process + BufferedReader.readLine(), child `tr a-z A-Z`:");
        out.println("  " + naive());
        out.println();
        out.println("DualPipe.readline(" + PATIENCE.toMillis() + " ms):");
        results.put("tr", ask(out, "tr a-z A-Z", List.of("tr", "a-z", "A-Z"), PATIENCE));
        if (Programs.onPath("python3")) {
            results.put("python3", ask(out, "python3 -c ...", List.of("python3", "-c", PY), PATIENCE));
        }
        out.println();
        out.println("Fixes:");
        if (Programs.onPath("stdbuf")) {
            results.put("stdbuf", ask(out, "stdbuf -oL tr a-z A-Z", List.of("stdbuf", "-oL", "tr", "a-z", "A-Z"), FIXED_PATIENCE));
        }
        if (Programs.onPath("python3")) {
            results.put("python3 -u", ask(out, "python3 -u -c ...", List.of("python3", "-u", "-c", PY), FIXED_PATIENCE));
        }
        results.put("grep", ask(out, "grep --line-buffered ''", List.of("grep", "--line-buffered", ""), FIXED_PATIENCE));
        results.put("eof", askThenCloseStdin(out));
        return results;
    }

    /** The classic: a blocking readLine with no timeout. Run on a helper thread so we can give up. */
    private static String naive() throws Exception {
        Process p = new ProcessBuilder("tr", "a-z", "A-Z").redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try {
            p.getOutputStream().write("hello\n".getBytes(StandardCharsets.UTF_8));
            p.getOutputStream().flush();
            BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            CompletableFuture<String> line = CompletableFuture.supplyAsync(() -> {
                try {
                    return r.readLine();
                } catch (java.io.IOException e) {
                    return "failed: " + e;
                }
            });
            try {
                return "got " + line.get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                return "still blocked after " + PATIENCE.toMillis() + " ms; without a timeout it would hang forever";
            }
        } finally {
            p.destroyForcibly().waitFor(5, TimeUnit.SECONDS); // also ends the blocked readLine (EOF)
        }
    }

    private static String ask(PrintStream out, String label, List<String> command, Duration patience) {
        // PYTHONUNBUFFERED=1 in our own environment would fix Python silently; show the default.
        DualPipe child = DualPipe.spawn(ChildProcess.builder(command).removeEnvironment("PYTHONUNBUFFERED")
                .stderr(StderrMode.INHERIT));
        String result;
        try {
            child.writeLine("hello");
            result = child.readline(patience);
            out.printf("  %-26s  reply: %s%n", label, result);
        } catch (WaitTimeoutException e) {
            result = "timeout";
            out.printf("  %-26s  no reply within %d ms: it sits in the child's stdio buffer%n", label, patience.toMillis());
        } finally {
            child.close();
        }
        return result;
    }

    /** A one-shot filter needs no fix: end of input makes it flush (and exit). */
    private static String askThenCloseStdin(PrintStream out) {
        DualPipe tr = DualPipe.spawn("tr", "a-z", "A-Z");
        try {
            tr.writeLine("hello");
            tr.process().stdin().shutdownOutput(); // EOF on its stdin; its buffer is flushed at exit
            String reply = tr.readline(FIXED_PATIENCE);
            out.printf("  %-26s  reply: %s%n", "tr, then close its stdin", reply);
            return reply;
        } finally {
            tr.close();
        }
    }
}
