package io.dualpipe.examples.bench;

import io.dualpipe.core.EventLoop;
import io.dualpipe.examples.ChildPoolHttpService;
import io.dualpipe.pool.ChildPool;
import io.vertx.core.Context;
import io.vertx.core.Vertx;

import java.io.File;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The HTTP service of {@link ChildPoolHttpService} (Vert.x, a {@code ChildPool} of {@code bc -q})
 * under load from the JDK HttpClient in the same JVM: requests/s and latency percentiles at 1, 16
 * and 64 concurrent connections, each connection a chain of requests (send the next when the last
 * answer came), every answer checked. Prints descriptors, threads and children before and after.
 *
 * <pre>
 * java -cp "examples/target/classes:examples/target/lib/*" io.dualpipe.examples.bench.HttpPoolBench children=4 seconds=5
 * </pre>
 */
public final class HttpPoolBench {
    public static void main(String[] args) throws Exception {
        int children = intArg(args, "children", 4);
        int seconds = intArg(args, "seconds", 5);
        int[] concurrency = Arrays.stream(stringArg(args, "conns", "1,16,64").split(",")).mapToInt(Integer::parseInt).toArray();
        System.out.println("before: " + resources(null));
        Vertx vertx = Vertx.vertx();
        Context context = vertx.getOrCreateContext();
        try (EventLoop loop = EventLoop.create("children")) {
            ChildPool<String, String> pool = ChildPoolHttpService.poolOn(context, loop, children);
            try (ChildPoolHttpService service = ChildPoolHttpService.start(vertx, context, pool, 0).get(30, TimeUnit.SECONDS)) {
                HttpClient client = HttpClient.newBuilder().build();
                String base = "http://127.0.0.1:" + service.port() + "/calc?q=";
                run(client, base, 4, 1); // warm-up: JIT, connections, the children's warm-up
                System.out.println("serving: " + resources(pool));
                for (int c : concurrency) {
                    Result r = run(client, base, c, seconds);
                    System.out.printf("RESULT impl=dualpipe+vertx workload=HTTP conns=%d children=%d req_per_s=%.0f p50_us=%d p99_us=%d"
                                    + " errors=%d wrong=%d%n", c, children, r.perSecond, r.p50, r.p99, r.errors, r.wrong);
                }
                System.out.println("pool: " + pool.metrics());
            }
            pool.shutdown(Duration.ofSeconds(10)).get(30, TimeUnit.SECONDS);
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        }
        System.gc();
        System.out.println("after: " + resources(null));
        System.exit(0);
    }

    private record Result(double perSecond, long p50, long p99, int errors, int wrong) {
    }

    private static Result run(HttpClient client, String base, int conns, int seconds) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        List<long[]> latencies = new ArrayList<>();
        AtomicInteger errors = new AtomicInteger();
        AtomicInteger wrong = new AtomicInteger();
        AtomicInteger seq = new AtomicInteger();
        List<CompletableFuture<Void>> chains = new ArrayList<>();
        long t0 = System.nanoTime();
        for (int c = 0; c < conns; c++) {
            long[] mine = new long[1 << 20];
            latencies.add(mine);
            chains.add(chain(client, base, end, mine, new int[1], seq, errors, wrong));
        }
        CompletableFuture.allOf(chains.toArray(new CompletableFuture<?>[0])).get(seconds + 60L, TimeUnit.SECONDS);
        double elapsed = (System.nanoTime() - t0) / 1e9;
        long[] all = latencies.stream().flatMapToLong(a -> Arrays.stream(a).filter(x -> x > 0)).sorted().toArray();
        return new Result(all.length / elapsed, all[all.length / 2] / 1000, all[(int) (all.length * 0.99)] / 1000,
                errors.get(), wrong.get());
    }

    private static CompletableFuture<Void> chain(HttpClient client, String base, long end, long[] lat, int[] n,
                                                 AtomicInteger seq, AtomicInteger errors, AtomicInteger wrong) {
        if (System.nanoTime() - end > 0 || n[0] >= lat.length) {
            return CompletableFuture.completedFuture(null);
        }
        int i = seq.incrementAndGet();
        long a = 1000 + i;
        long b = 3 + i % 89;
        long start = System.nanoTime();
        HttpRequest req = HttpRequest.newBuilder(URI.create(base + a + "*" + b)).build();
        return client.sendAsync(req, HttpResponse.BodyHandlers.ofString()).thenCompose(r -> {
            lat[n[0]++] = System.nanoTime() - start;
            if (r.statusCode() != 200) {
                errors.incrementAndGet();
            } else if (!r.body().strip().equals(Long.toString(a * b))) {
                wrong.incrementAndGet();
            }
            return chain(client, base, end, lat, n, seq, errors, wrong);
        });
    }

    /** Descriptors by kind (pipes and anon inodes are what DualPipe creates; sockets are HTTP's), threads, children. */
    private static String resources(ChildPool<String, String> pool) {
        int pipes = 0;
        int sockets = 0;
        int anon = 0;
        int other = 0;
        File[] fds = new File("/proc/self/fd").listFiles();
        for (File f : fds == null ? new File[0] : fds) {
            try {
                String t = java.nio.file.Files.readSymbolicLink(f.toPath()).toString();
                if (t.startsWith("pipe:")) {
                    pipes++;
                } else if (t.startsWith("socket:")) {
                    sockets++;
                } else if (t.startsWith("anon_inode:")) {
                    anon++;
                } else {
                    other++;
                }
            } catch (java.io.IOException gone) {
                // the directory's own fd, closed by now
            }
        }
        long kids = ProcessHandle.current().children().filter(ProcessHandle::isAlive).count();
        return "fds: pipes=" + pipes + " anon_inodes=" + anon + " sockets=" + sockets + " other=" + other
                + "; threads=" + Thread.activeCount() + "; children=" + kids
                + (pool == null ? "" : " (pool: " + pool.metrics().children() + ")");
    }

    private static int intArg(String[] args, String key, int def) {
        return Integer.parseInt(stringArg(args, key, Integer.toString(def)));
    }

    private static String stringArg(String[] args, String key, String def) {
        for (String a : args) {
            if (a.startsWith(key + "=")) {
                return a.substring(key.length() + 1);
            }
        }
        return def;
    }
}
