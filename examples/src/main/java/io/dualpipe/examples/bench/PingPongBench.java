package io.dualpipe.examples.bench;

import io.dualpipe.core.ByteSink;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.line.LineReader;
import io.dualpipe.examples.bench.ProcessBench.VerificationError;
import io.dualpipe.process.ChildProcess;
import io.dualpipe.process.ExitStatus;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import static io.dualpipe.examples.bench.BenchRun.makeLine;
import static io.dualpipe.examples.bench.ProcessBench.TIMEOUT_S;
import static io.dualpipe.examples.bench.ProcessBench.await;
import static io.dualpipe.examples.bench.ProcessBench.check;
import static io.dualpipe.examples.bench.ProcessBench.result;

/**
 * {@link ProcessBench} W1, W1R, W1P, W1F: line ping-pong through cat, one line in flight (W1P:
 * {@code inflight}), latency per round trip. This class drives the workload and holds DualPipe's
 * side; the JDK's is {@link JdkPingPong}.
 */
final class PingPongBench {
    private PingPongBench() {
    }

    static void w1(BenchRun run, String w) throws Exception {
        int warmup = (int) run.num("warmup", 20_000);
        int iters = (int) run.num("iters", 100_000);
        int lineLen = (int) run.num("linelen", 64);
        int inflight = (int) run.num("inflight", 32);
        String line = makeLine(lineLen);
        byte[] lineBytes = (line + "\n").getBytes(StandardCharsets.UTF_8);
        double[] dp = null;
        double[] jdk = null;
        if (run.runs("dualpipe")) {
            long[] lat;
            double[] thr = new double[1];
            switch (w) {
                case "W1" -> lat = dpRawLines(warmup, iters, line, lineBytes);
                case "W1R" -> lat = dpRequests(warmup, iters, line, 1, thr);
                case "W1P" -> lat = dpRequests(warmup, iters, line, inflight, thr);
                default -> lat = dpBlocking(warmup, iters, line);
            }
            dp = report("dualpipe", w, lat, w.equals("W1P") ? thr[0] : Double.NaN);
        }
        if (run.runs("jdk")) {
            long[] lat;
            double[] thr = new double[1];
            switch (w) {
                case "W1" -> lat = JdkPingPong.readerDriven(warmup, iters, line, lineBytes);
                case "W1R" -> lat = JdkPingPong.requests(warmup, iters, line, 1, thr);
                case "W1P" -> lat = JdkPingPong.requests(warmup, iters, line, inflight, thr);
                default -> lat = JdkPingPong.blocking(warmup, iters, line, lineBytes);
            }
            jdk = report("jdk", w, lat, w.equals("W1P") ? thr[0] : Double.NaN);
        }
        double nan = Double.NaN;
        run.row(w, "median_us", dp == null ? nan : dp[0], jdk == null ? nan : jdk[0]);
        run.row(w, "p99_us", dp == null ? nan : dp[1], jdk == null ? nan : jdk[1]);
        if (w.equals("W1P")) {
            run.row(w, "req_per_s", dp == null ? nan : dp[2], jdk == null ? nan : jdk[2]);
        }
    }

    private static double[] report(String impl, String w, long[] lat, double perSec) {
        long[] s = lat.clone();
        Arrays.sort(s);
        double median = s[s.length / 2] / 1000.0;
        double p99 = s[(int) Math.ceil(s.length * 0.99) - 1] / 1000.0;
        double mean = Arrays.stream(s).average().orElse(0) / 1000.0;
        String extra = Double.isNaN(perSec) ? "" : String.format(Locale.ROOT, " req_per_s=%.0f", perSec);
        result(impl, w, String.format(Locale.ROOT, "median_us=%.2f p99_us=%.2f mean_us=%.2f n=%d%s", median, p99, mean, s.length, extra));
        return new double[] {median, p99, perSec};
    }

    private static ChildProcess startCat(EventLoop loop) {
        return ChildProcess.builder("cat").loop(loop).start();
    }

    private static void finish(ChildProcess child) throws Exception {
        child.stdin().shutdownOutput();
        ExitStatus st = child.onExit().get(TIMEOUT_S, TimeUnit.SECONDS);
        check(st.isSuccess(), "cat exited with " + st);
        child.close();
    }

    /** W1: raw line events; the listener (on the loop) timestamps the reply and writes the next line. */
    private static long[] dpRawLines(int warmup, int iters, String line, byte[] lineBytes) throws Exception {
        try (EventLoop loop = EventLoop.create("bench-loop")) {
            ChildProcess child = startCat(loop);
            ByteSink in = child.stdin();
            int total = warmup + iters;
            long[] lat = new long[iters];
            CompletableFuture<Void> done = new CompletableFuture<>();
            RawPingPong pp = new RawPingPong(in, line, lineBytes, warmup, total, lat, done);
            child.lines().listen(pp);
            loop.execute(pp::send); // after listen() in the loop's task order
            await(done);
            finish(child);
            return lat;
        }
    }

    /** The W1 listener: timestamps each reply and writes the next line, on the loop thread. */
    private static final class RawPingPong implements LineReader.Listener {
        private final ByteSink in;
        private final String line;
        private final byte[] lineBytes;
        private final int warmup;
        private final int total;
        private final long[] lat;
        private final CompletableFuture<Void> done;
        private int n;
        private long t0;

        RawPingPong(ByteSink in, String line, byte[] lineBytes, int warmup, int total, long[] lat, CompletableFuture<Void> done) {
            this.in = in;
            this.line = line;
            this.lineBytes = lineBytes;
            this.warmup = warmup;
            this.total = total;
            this.lat = lat;
            this.done = done;
        }

        void send() {
            t0 = System.nanoTime();
            in.write(lineBytes); // the same array every time: the kernel takes it at once or it is queued, never changed
        }

        @Override
        public void onLine(String reply) {
            long now = System.nanoTime();
            int i = n++;
            if (!reply.equals(line)) {
                done.completeExceptionally(new VerificationError("reply " + i + " differs: " + reply));
                return;
            }
            if (i >= warmup) {
                lat[i - warmup] = now - t0;
            }
            if (i + 1 == total) {
                done.complete(null);
            } else {
                send();
            }
        }

        @Override
        public void onEnd() {
            done.completeExceptionally(new VerificationError("stdout ended early"));
        }

        @Override
        public void onError(Throwable error) {
            done.completeExceptionally(error);
        }
    }

    /** W1R / W1P: request() chained from its own completion on the loop, {@code inflight} at a time. */
    private static long[] dpRequests(int warmup, int iters, String line, int inflight, double[] perSec) throws Exception {
        try (EventLoop loop = EventLoop.create("bench-loop")) {
            ChildProcess child = startCat(loop);
            int total = warmup + iters;
            long[] lat = new long[iters];
            CompletableFuture<Void> done = new CompletableFuture<>();
            long[] marks = new long[2];
            @SuppressWarnings("unchecked")
            Consumer<Integer>[] issue = new Consumer[1];
            int[] issued = {0};
            int[] completed = {0};
            issue[0] = idx -> {
                long t0 = System.nanoTime();
                child.request(line).whenComplete((reply, e) -> {
                    long now = System.nanoTime();
                    if (e != null) {
                        done.completeExceptionally(e);
                        return;
                    }
                    if (!line.equals(reply)) {
                        done.completeExceptionally(new VerificationError("reply " + idx + " differs: " + reply));
                        return;
                    }
                    if (idx >= warmup) {
                        lat[idx - warmup] = now - t0;
                    }
                    int c = ++completed[0];
                    if (c == warmup) {
                        marks[0] = now;
                    }
                    if (c == total) {
                        marks[1] = now;
                        done.complete(null);
                    } else if (issued[0] < total) {
                        issue[0].accept(issued[0]++);
                    }
                });
            };
            loop.execute(() -> {
                for (int k = 0; k < inflight && issued[0] < total; k++) {
                    issue[0].accept(issued[0]++);
                }
            });
            await(done);
            perSec[0] = iters * 1e9 / (marks[1] - marks[0]);
            finish(child);
            return lat;
        }
    }

    /** W1F: a caller thread blocks on every reply future. */
    private static long[] dpBlocking(int warmup, int iters, String line) throws Exception {
        try (EventLoop loop = EventLoop.create("bench-loop")) {
            ChildProcess child = startCat(loop);
            long[] lat = new long[iters];
            for (int i = 0; i < warmup + iters; i++) {
                long t0 = System.nanoTime();
                String reply = child.request(line).get();
                long now = System.nanoTime();
                check(line.equals(reply), "reply " + i + " differs: " + reply);
                if (i >= warmup) {
                    lat[i - warmup] = now - t0;
                }
            }
            finish(child);
            return lat;
        }
    }
}
