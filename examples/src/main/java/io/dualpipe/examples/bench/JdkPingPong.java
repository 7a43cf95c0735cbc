package io.dualpipe.examples.bench;

import io.dualpipe.examples.bench.ProcessBench.VerificationError;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import static io.dualpipe.examples.bench.ProcessBench.TIMEOUT_S;
import static io.dualpipe.examples.bench.ProcessBench.await;
import static io.dualpipe.examples.bench.ProcessBench.check;
import static io.dualpipe.examples.bench.ProcessBench.drain;
import static io.dualpipe.examples.bench.ProcessBench.rethrow;

/**
 * The JDK side of {@link PingPongBench} (W1*): {@link ProcessBuilder} with blocking streams and one
 * reader thread per stream, as a competent JDK user would write each variant.
 */
final class JdkPingPong {
    private JdkPingPong() {
    }

    /** A JDK child with a stderr drain thread (one reader thread per stream). */
    private static final class JdkCat implements AutoCloseable {
        final Process p;
        final OutputStream out;
        final BufferedReader lines;
        final Thread errDrain;

        JdkCat() throws IOException {
            p = new ProcessBuilder("cat").start();
            out = p.getOutputStream();
            lines = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            errDrain = drain(p.getErrorStream(), "stderr-drain");
        }

        @Override
        public void close() throws Exception {
            out.close();
            check(p.waitFor(TIMEOUT_S, TimeUnit.SECONDS) && p.exitValue() == 0, "cat did not exit cleanly");
            errDrain.join();
            lines.close();
        }
    }


    /** JDK W1: the stdout reader thread reads each reply and writes the next line itself. */
    static long[] readerDriven(int warmup, int iters, String line, byte[] lineBytes) throws Exception {
        try (JdkCat c = new JdkCat()) {
            long[] lat = new long[iters];
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread reader = new Thread(() -> {
                try {
                    int total = warmup + iters;
                    long t0 = System.nanoTime();
                    c.out.write(lineBytes);
                    c.out.flush();
                    for (int i = 0; i < total; i++) {
                        String reply = c.lines.readLine();
                        long now = System.nanoTime();
                        check(line.equals(reply), "reply " + i + " differs: " + reply);
                        if (i >= warmup) {
                            lat[i - warmup] = now - t0;
                        }
                        if (i + 1 < total) {
                            t0 = System.nanoTime();
                            c.out.write(lineBytes);
                            c.out.flush();
                        }
                    }
                } catch (Throwable t) {
                    failure.set(t);
                }
            }, "stdout-reader");
            reader.start();
            reader.join();
            rethrow(failure.get());
            return lat;
        }
    }

    /**
     * What a JDK user writes for request/reply: futures queued in FIFO order, completed by the
     * stdout reader thread; the next request is chained from the completion (on that thread).
     */
    static long[] requests(int warmup, int iters, String line, int inflight, double[] perSec) throws Exception {
        try (JdkCat c = new JdkCat()) {
            ConcurrentLinkedQueue<CompletableFuture<String>> pending = new ConcurrentLinkedQueue<>();
            Object writeLock = new Object();
            Thread reader = new Thread(() -> {
                try {
                    String l;
                    while ((l = c.lines.readLine()) != null) {
                        CompletableFuture<String> f = pending.poll();
                        if (f != null) {
                            f.complete(l);
                        }
                    }
                } catch (IOException e) {
                    CompletableFuture<String> f;
                    while ((f = pending.poll()) != null) {
                        f.completeExceptionally(e);
                    }
                }
            }, "stdout-reader");
            reader.setDaemon(true);
            reader.start();
            java.util.function.Function<String, CompletableFuture<String>> request = req -> {
                CompletableFuture<String> f = new CompletableFuture<>();
                byte[] b = (req + "\n").getBytes(StandardCharsets.UTF_8);
                synchronized (writeLock) {
                    pending.add(f);
                    try {
                        c.out.write(b);
                        c.out.flush();
                    } catch (IOException e) {
                        f.completeExceptionally(e);
                    }
                }
                return f;
            };
            int total = warmup + iters;
            long[] lat = new long[iters];
            CompletableFuture<Void> done = new CompletableFuture<>();
            long[] marks = new long[2];
            int[] issued = {0};
            int[] completed = {0};
            Object state = new Object(); // issued/completed are touched by main (first batch) and the reader
            @SuppressWarnings("unchecked")
            Consumer<Integer>[] issue = new Consumer[1];
            issue[0] = idx -> {
                long t0 = System.nanoTime();
                request.apply(line).whenComplete((reply, e) -> {
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
                    int next = -1;
                    synchronized (state) {
                        int cnt = ++completed[0];
                        if (cnt == warmup) {
                            marks[0] = now;
                        }
                        if (cnt == total) {
                            marks[1] = now;
                        } else if (issued[0] < total) {
                            next = issued[0]++;
                        }
                    }
                    if (next >= 0) {
                        issue[0].accept(next);
                    } else if (marks[1] != 0) {
                        done.complete(null);
                    }
                });
            };
            List<Integer> first = new ArrayList<>();
            synchronized (state) {
                for (int k = 0; k < inflight && issued[0] < total; k++) {
                    first.add(issued[0]++);
                }
            }
            for (int idx : first) {
                issue[0].accept(idx);
            }
            await(done);
            perSec[0] = iters * 1e9 / (marks[1] - marks[0]);
            return lat;
        }
    }

    /** JDK W1F: the natural blocking loop, write + flush + readLine on the caller thread. */
    static long[] blocking(int warmup, int iters, String line, byte[] lineBytes) throws Exception {
        try (JdkCat c = new JdkCat()) {
            long[] lat = new long[iters];
            for (int i = 0; i < warmup + iters; i++) {
                long t0 = System.nanoTime();
                c.out.write(lineBytes);
                c.out.flush();
                String reply = c.lines.readLine();
                long now = System.nanoTime();
                check(line.equals(reply), "reply " + i + " differs: " + reply);
                if (i >= warmup) {
                    lat[i - warmup] = now - t0;
                }
            }
            return lat;
        }
    }
}
