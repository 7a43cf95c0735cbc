package io.dualpipe.examples.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@link MessageBench}'s W5L: one client, one 64-byte request at a time, the next sent as the reply
 * arrives; median and p99 round trips of DualPipe (both API styles) against JDK NIO and blocking JDK
 * sockets, in one invocation.
 */
final class MessageLatency {
    private MessageLatency() {
    }

    static boolean run(Map<String, String> opts) throws Exception {
        int warmup = MessageBench.intOpt(opts, "warmup", 20_000);
        int iters = MessageBench.intOpt(opts, "iters", 100_000);
        int size = Math.max(18, MessageBench.intOpt(opts, "size", 64));
        System.out.printf(Locale.ROOT, "INFO workload=W5L transport=%s frame_bytes=%d warmup=%d iters=%d cpus=%d%n",
                opts.getOrDefault("transport", "unix"), size, warmup, iters, Runtime.getRuntime().availableProcessors());
        Map<String, double[]> results = new LinkedHashMap<>();
        Path dir = Files.createTempDirectory("dualpipe-bench");
        try {
            String only = opts.getOrDefault("impl", "all");
            for (String impl : List.of("dualpipe", "dualpipe-listener", "nio")) {
                if (!only.equals("all") && !only.equals(impl)) {
                    continue;
                }
                try (MessageBench.W5 w = MessageBench.open(impl, opts, dir, 1, 1, size)) {
                    long[] ids = w.loopThreadIds();
                    w.pingPong(warmup);
                    long alloc0 = MessageBench.allocated(ids);
                    long[] lat = w.pingPong(iters);
                    results.put(impl, summary(lat, (double) (MessageBench.allocated(ids) - alloc0) / iters));
                }
            }
            if (only.equals("all") || only.equals("blocking")) {
                long[] lat = BlockingW5L.pingPong(dir.resolve("blocking.sock"), warmup, iters, size);
                results.put("blocking", summary(lat, Double.NaN));
            }
        } finally {
            try (var files = Files.list(dir)) {
                for (Path p : files.toList()) {
                    Files.deleteIfExists(p);
                }
            }
            Files.deleteIfExists(dir);
        }
        results.forEach((impl, s) -> System.out.printf(Locale.ROOT, "RESULT impl=%s workload=W5L median_us=%.2f p99_us=%.2f%s%n",
                impl, s[0], s[1], Double.isNaN(s[2]) ? "" : String.format(Locale.ROOT, " loop_alloc_bytes_per_round_trip=%.0f", s[2])));
        if (results.containsKey("blocking") && results.containsKey("nio")) {
            for (String impl : List.of("dualpipe", "dualpipe-listener")) {
                if (results.containsKey(impl)) {
                    double dp = results.get(impl)[0];
                    System.out.printf(Locale.ROOT, "RATIO workload=W5L median %s/blocking=%.2f %s/nio=%.2f%n",
                            impl, dp / results.get("blocking")[0], impl, dp / results.get("nio")[0]);
                }
            }
        }
        return true;
    }

    /** {median µs, p99 µs, alloc}. */
    private static double[] summary(long[] latencies, double alloc) {
        long[] lat = latencies.clone();
        Arrays.sort(lat);
        double median = lat[lat.length / 2] / 1000.0;
        double p99 = lat[(int) Math.min(lat.length - 1, Math.ceil(lat.length * 0.99) - 1)] / 1000.0;
        return new double[] {median, p99, alloc};
    }

}
