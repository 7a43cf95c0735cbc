package io.dualpipe.examples.bench;

import io.dualpipe.process.ChildProcess;
import io.dualpipe.process.ExitStatus;
import io.dualpipe.process.JavaChild;
import io.dualpipe.process.StderrMode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every benchmark workload still runs and verifies its own results, at a size that takes seconds.
 * Nothing here measures speed: the benchmarks' figures come from full runs (examples/bench).
 * Each runs in a child JVM, since the mains call System.exit and ProcessBench W3 reads VmHWM.
 */
class BenchSmokeTest {

    @Test
    @Timeout(120)
    void processBenchWorkloadsRunAndVerify() throws Exception {
        expectResults(ProcessBench.class, 2, "W1", "warmup=100", "iters=300");
        expectResults(ProcessBench.class, 2, "W1R", "warmup=100", "iters=300");
        expectResults(ProcessBench.class, 2, "W1P", "warmup=100", "iters=300", "inflight=8");
        expectResults(ProcessBench.class, 2, "W1F", "warmup=100", "iters=300");
        // jdk, dualpipe and dualpipe-spin (an idle-spinning loop, default pipes)
        expectResults(ProcessBench.class, 3, "W2", "bytes=1048576", "chunk=65536", "pipe=0", "warmup_bytes=0", "verify=full");
        expectResults(ProcessBench.class, 1, "W3", "n=5", "rounds=3", "impl=dualpipe");
        // BulkBench alone adds its C baseline (c-poll, c-threads) where a C compiler is at hand.
        boolean cc = java.util.stream.Stream.of(System.getenv("PATH").split(java.io.File.pathSeparator))
                .anyMatch(d -> java.nio.file.Files.isExecutable(java.nio.file.Path.of(d, "cc")));
        expectResults(BulkBench.class, cc ? 5 : 3, "bytes=1048576", "chunk=65536", "pipe=0", "warmup_bytes=0");
        expectResults(ProcessBench.class, 2, "W4", "count=20", "warmup=5");
        expectResults(ProcessBench.class, 2, "W4F", "count=20", "warmup=5");
    }

    @Test
    @Timeout(120)
    void selectorAndMessageBenchesRun() throws Exception {
        expectResults(SelectorBench.class, 2, "warmup=100", "iters=300", "idle=10", "impl=epoll,jnr");
        expectResults(MessageBench.class, 4, "W5L", "warmup=100", "iters=300");
        // dualpipe (futures), dualpipe-listener and nio, each cold and steady
        expectResults(MessageBench.class, 6, "W5T", "clients=2", "msgs=500", "window=4", "warmup=500", "cold_msgs=500", "rounds=1");
        expectResults(MessagePathBench.class, 1, "clients=2", "msgs=500", "window=4", "rounds=1");
        expectResults(MessagePathBench.class, 1, "clients=2", "msgs=500", "window=4", "rounds=1", "api=listener");
        expectResults(MessagePathBench.class, 1, "clients=2", "msgs=500", "window=4", "rounds=1", "timeout_ms=60000");
    }

    /** Runs {@code main} with {@code args}; it must exit 0 having printed {@code results} RESULT lines. */
    private static void expectResults(Class<?> main, int results, String... args) throws Exception {
        List<String> lines = new ArrayList<>();
        try (ChildProcess bench = JavaChild.builder(main, args).stderr(StderrMode.MERGE_WITH_STDOUT).start()) {
            for (String l = bench.readLine().get(60, TimeUnit.SECONDS); l != null; l = bench.readLine().get(60, TimeUnit.SECONDS)) {
                lines.add(l);
            }
            ExitStatus st = bench.onExit().get(60, TimeUnit.SECONDS);
            String all = main.getSimpleName() + " " + String.join(" ", args) + ":\n" + String.join("\n", lines);
            assertTrue(st.isSuccess(), "exited with " + st + "; output:\n" + all);
            assertEquals(results, lines.stream().filter(l -> l.startsWith("RESULT ")).count(), all);
        }
    }
}
