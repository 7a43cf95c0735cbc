package io.dualpipe.examples.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static io.dualpipe.examples.bench.ProcessBench.TIMEOUT_S;
import static io.dualpipe.examples.bench.ProcessBench.check;

/**
 * {@link BulkBench}'s C baseline: {@code examples/bench/c/bulk_cat.c}, compiled with the machine's
 * {@code cc} once per run and run as a child per round ({@code mode=poll}: one thread, a poll loop
 * over non-blocking fds, what an event loop can do at best; {@code mode=threads}: a blocking writer
 * thread and a reading thread, the JDK baseline's shape at C speed).
 */
final class CBulk {
    private CBulk() {
    }

    /**
     * Compiles the C baseline into a temporary directory; null, after an INFO line, when there is no
     * source, no {@code cc} or it fails: the C rows are a reference, not a reason to fail the run.
     */
    static Path compile(String srcArg) throws Exception {
        Path src = null;
        // Run from the repository root or from examples/ (where the smoke test's child JVM starts).
        for (String s : srcArg != null ? new String[] {srcArg} : new String[] {"examples/bench/c/bulk_cat.c", "bench/c/bulk_cat.c"}) {
            if (Files.isRegularFile(Path.of(s))) {
                src = Path.of(s);
                break;
            }
        }
        if (src == null) {
            System.out.println("INFO no C baseline: bulk_cat.c not found (c_src=" + (srcArg != null ? srcArg : "examples/bench/c/bulk_cat.c") + ")");
            return null;
        }
        Path dir = Files.createTempDirectory("bulkbench-c");
        dir.toFile().deleteOnExit();
        Path bin = dir.resolve("bulk_cat");
        bin.toFile().deleteOnExit(); // registered after dir, so deleted before it
        Process cc;
        try {
            cc = new ProcessBuilder("cc", "-O2", "-o", bin.toString(), src.toString(), "-pthread").redirectErrorStream(true).start();
        } catch (java.io.IOException e) {
            System.out.println("INFO no C baseline: cannot run cc (" + e.getMessage() + ")");
            return null;
        }
        String out = new String(cc.getInputStream().readAllBytes()).strip();
        if (!cc.waitFor(TIMEOUT_S, TimeUnit.SECONDS) || cc.exitValue() != 0) {
            System.out.println("INFO no C baseline: cc -O2 " + src + " failed: " + out.replace('\n', ' '));
            return null;
        }
        return bin;
    }

    /** One C run: its single output line holds mbps, c_cpu and cat_cpu; exit 3 is its byte mismatch. */
    static BulkBench.Run run(Path bin, String mode, long bytes, int chunk, int pipeSize, String verify) throws Exception {
        Process p = new ProcessBuilder(bin.toString(), "mode=" + mode, "bytes=" + bytes, "chunk=" + chunk, "pipe=" + pipeSize,
                "verify=" + verify).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes()).strip();
        check(p.waitFor(TIMEOUT_S, TimeUnit.SECONDS), "bulk_cat mode=" + mode + " did not finish in " + TIMEOUT_S + " s");
        if (p.exitValue() == 3) {
            throw new ProcessBench.VerificationError("bulk_cat mode=" + mode + ": " + out);
        }
        if (p.exitValue() != 0) {
            throw new IllegalStateException("bulk_cat mode=" + mode + " exited with " + p.exitValue() + ": " + out);
        }
        Map<String, Double> kv = new LinkedHashMap<>();
        for (String f : out.split("\\s+")) {
            int eq = f.indexOf('=');
            if (eq > 0 && f.substring(eq + 1).replace("%", "").matches("[0-9.]+")) {
                kv.put(f.substring(0, eq), Double.parseDouble(f.substring(eq + 1).replace("%", "")));
            }
        }
        check(kv.containsKey("mbps") && kv.containsKey("c_cpu") && kv.containsKey("cat_cpu"), "bulk_cat printed no result: " + out);
        return new BulkBench.Run(kv.get("mbps"), kv.get("c_cpu"), kv.get("cat_cpu"));
    }

}
