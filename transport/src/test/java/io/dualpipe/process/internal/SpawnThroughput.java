package io.dualpipe.process.internal;

/**
 * Hand-run throughput check, not a test: spawns /bin/true with three pipes N times (default 2000)
 * sequentially, closing the parent's ends and reaping each before the next, and prints spawns/s.
 * Run from the transport module with the test classpath, e.g.
 * {@code java -cp <classpath> io.dualpipe.process.internal.SpawnThroughput 2000}.
 */
public final class SpawnThroughput {
    private SpawnThroughput() {
    }

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
        SpawnSpec spec = SpawnSpec.builder("/bin/true").build();
        run(spec, 300); // warm-up: JIT and jnr stubs
        for (int round = 0; round < 3; round++) {
            long t0 = System.nanoTime();
            run(spec, n);
            double seconds = (System.nanoTime() - t0) / 1e9;
            System.out.printf("%d spawns in %.3f s = %.0f spawns/s%n", n, seconds, n / seconds);
        }
    }

    private static void run(SpawnSpec spec, int n) throws Exception {
        for (int i = 0; i < n; i++) {
            Spawned s = Spawner.spawn(spec);
            s.closeAll();
            if (!TestChildren.waitFor(s.pid()).isSuccess()) {
                throw new IllegalStateException("child failed");
            }
        }
    }
}
