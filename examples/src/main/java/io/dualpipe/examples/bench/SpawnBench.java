package io.dualpipe.examples.bench;

import io.dualpipe.core.EventLoop;
import io.dualpipe.examples.bench.ProcessBench.VerificationError;
import io.dualpipe.process.ChildProcess;
import io.dualpipe.process.ChildProcessBuilder;
import io.dualpipe.process.ExitStatus;

import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static io.dualpipe.examples.bench.ProcessBench.TIMEOUT_S;
import static io.dualpipe.examples.bench.ProcessBench.check;
import static io.dualpipe.examples.bench.ProcessBench.result;

/** {@link ProcessBench} W4 and W4F: spawn rate of /bin/true with three pipes, DualPipe against ProcessBuilder. */
final class SpawnBench {
    private SpawnBench() {
    }

    /**
     * W4 chains each spawn on the previous child's exit, on the loop thread (as W1 issues its next
     * write there, and as an async server would); W4F has the caller thread block on each exit.
     * The warm-up is long because each spawn runs the spawn path once: C2 compiles it only after
     * several thousand spawns, and until then the figure measures the interpreter and C1.
     */
    static void w4(BenchRun run, String workload) throws Exception {
        int count = (int) run.num("count", 2000);
        int warmup = (int) run.num("warmup", 6000);
        boolean chained = workload.equals("W4");
        double dp = Double.NaN;
        double jdk = Double.NaN;
        if (run.runs("dualpipe")) {
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
        if (run.runs("jdk")) {
            ProcessBuilder pb = new ProcessBuilder("/bin/true"); // three pipes by default
            jdkSpawns(pb, warmup);
            long t0 = System.nanoTime();
            jdkSpawns(pb, count);
            jdk = count * 1e9 / (System.nanoTime() - t0);
            result("jdk", workload, String.format(Locale.ROOT, "spawns_per_s=%.0f count=%d", jdk, count));
        }
        run.row(workload, "spawns_per_s", dp, jdk);
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
