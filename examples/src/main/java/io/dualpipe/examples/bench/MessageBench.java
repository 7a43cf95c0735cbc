package io.dualpipe.examples.bench;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.codec.CodecRegistry;
import io.dualpipe.core.codec.Codecs;
import io.dualpipe.core.message.MessageChannel;
import io.dualpipe.net.MessageClient;
import io.dualpipe.net.MessageServer;
import io.dualpipe.net.MessageServerBuilder;
import org.slf4j.LoggerFactory;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Message round trips through {@link MessageServer} and {@link MessageClient} over a Unix socket
 * (or TCP with {@code transport=tcp}).
 *
 * <pre>
 * MessageBench W5L warmup=20000 iters=100000      ping-pong latency, one client, both ends on one loop
 * MessageBench W5T clients=16 msgs=50000 window=32 throughput: each client keeps `window` requests in flight
 * </pre>
 *
 * A frame is 64 bytes on the wire: the 10-byte header and a 54-byte {@code bytes} body that carries a
 * sequence number, so every reply is checked against its request. {@code W5T} counts completed
 * request/reply pairs per second. Keys: {@code transport=unix|tcp}, {@code size} (frame bytes, at
 * least 18), {@code loops=1|2} (W5T: clients on the server's loop, or on a second one), {@code rounds}
 * (W5T: measured rounds after a warm-up round of the same size; each is printed as an INFO line, the
 * best is the RESULT). Unknown keys are ignored. A reply that does not match its request makes the
 * run exit with status 1.
 *
 * <p>Pin for stable latency: {@code taskset -c 0 java -cp ... MessageBench W5L}.
 */
public final class MessageBench {
    private static final int HEADER = 10;

    private MessageBench() {
    }

    public static void main(String[] args) throws Exception {
        quietLogging();
        if (args.length == 0) {
            System.err.println("usage: MessageBench W5L|W5T [key=value ...]");
            System.exit(2);
        }
        Map<String, String> opts = new HashMap<>();
        for (int i = 1; i < args.length; i++) {
            int eq = args[i].indexOf('=');
            if (eq > 0) {
                opts.put(args[i].substring(0, eq), args[i].substring(eq + 1));
            }
        }
        boolean ok;
        switch (args[0]) {
            case "W5L" -> ok = latency(opts);
            case "W5T" -> ok = throughput(opts);
            default -> {
                System.err.println("unknown workload " + args[0] + ": W5L or W5T");
                System.exit(2);
                return;
            }
        }
        System.exit(ok ? 0 : 1);
    }

    private static int intOpt(Map<String, String> opts, String key, int dflt) {
        return Integer.parseInt(opts.getOrDefault(key, String.valueOf(dflt)));
    }

    private static CodecRegistry codecs() {
        return CodecRegistry.builder().registerAll(Codecs.builtins()).build();
    }

    /** Echoes bytes; the reply is the request's body, re-encoded as a real server would. */
    private static MessageServer server(EventLoop loop, Map<String, String> opts, Path sock) {
        MessageServerBuilder b = MessageServer.builder(codecs()).loop(loop)
                .handle(Codecs.BYTES, byte[].class, (ctx, body) -> ctx.reply(Codecs.BYTES, body));
        return "tcp".equals(opts.get("transport")) ? b.bindTcp(0) : b.bind(sock);
    }

    private static MessageClient client(EventLoop loop, Map<String, String> opts, MessageServer server) throws Exception {
        return "tcp".equals(opts.get("transport"))
                ? MessageClient.builder(codecs()).loop(loop).connectTcp(((java.net.InetSocketAddress) server.localAddress()).getPort()).get(10, TimeUnit.SECONDS)
                : MessageClient.builder(codecs()).loop(loop).connect(((java.net.UnixDomainSocketAddress) server.localAddress()).getPath()).get(10, TimeUnit.SECONDS);
    }

    private static Path socketPath() throws Exception {
        Path dir = Files.createTempDirectory("dualpipe-bench");
        dir.toFile().deleteOnExit();
        return dir.resolve("bench.sock");
    }

    private static byte[] body(int size, long seq) {
        byte[] b = new byte[size - HEADER];
        ByteBuffer.wrap(b).putLong(0, seq).putLong(b.length - 8, ~seq);
        return b;
    }

    private static boolean matches(byte[] reply, long seq, int size) {
        ByteBuffer b = ByteBuffer.wrap(reply);
        return reply.length == size - HEADER && b.getLong(0) == seq && b.getLong(reply.length - 8) == ~seq;
    }

    // =========================================================================================
    // W5L: ping-pong latency
    // =========================================================================================

    private static boolean latency(Map<String, String> opts) throws Exception {
        int warmup = intOpt(opts, "warmup", 20_000);
        int iters = intOpt(opts, "iters", 100_000);
        int size = Math.max(18, intOpt(opts, "size", 64));
        Path sock = socketPath();
        try (EventLoop loop = EventLoop.create("bench")) {
            MessageServer server = server(loop, opts, sock);
            MessageClient client = client(loop, opts, server);
            MessageChannel ch = client.channel();
            PingPong warm = new PingPong(ch, warmup, size);
            warm.start(loop).get(120, TimeUnit.SECONDS);
            long allocBefore = loopAllocated(loop);
            PingPong run = new PingPong(ch, iters, size);
            run.start(loop).get(600, TimeUnit.SECONDS);
            long alloc = loopAllocated(loop) - allocBefore;
            client.close();
            server.close();
            long[] lat = run.latencies.clone();
            Arrays.sort(lat);
            double median = lat[lat.length / 2] / 1000.0;
            double p99 = lat[(int) Math.min(lat.length - 1, Math.ceil(lat.length * 0.99) - 1)] / 1000.0;
            System.out.printf("INFO workload=W5L transport=%s frame_bytes=%d iters=%d mismatches=%d loop_alloc_bytes_per_round_trip=%d%n",
                    opts.getOrDefault("transport", "unix"), size, iters, run.mismatches, alloc / iters);
            System.out.printf("RESULT impl=dualpipe workload=W5L median_us=%.2f p99_us=%.2f%n", median, p99);
            return run.mismatches == 0 && warm.mismatches == 0;
        } finally {
            Files.deleteIfExists(sock);
            Files.deleteIfExists(sock.getParent());
        }
    }

    /** One request at a time, the next sent from the previous reply's callback on the loop. */
    private static final class PingPong {
        final MessageChannel ch;
        final int iters;
        final int size;
        final long[] latencies;
        final CompletableFuture<Void> done = new CompletableFuture<>();
        int i;
        long sentAt;
        long mismatches;

        PingPong(MessageChannel ch, int iters, int size) {
            this.ch = ch;
            this.iters = iters;
            this.size = size;
            this.latencies = new long[iters];
        }

        CompletableFuture<Void> start(EventLoop loop) {
            loop.execute(this::next);
            return done;
        }

        private void next() {
            if (i == iters) {
                done.complete(null);
                return;
            }
            long seq = i;
            byte[] body = body(size, seq);
            sentAt = System.nanoTime();
            ch.request(Codecs.BYTES, body, byte[].class, null).whenComplete((reply, e) -> {
                latencies[i] = System.nanoTime() - sentAt;
                if (e != null) {
                    done.completeExceptionally(e);
                    return;
                }
                if (!matches(reply, seq, size)) {
                    mismatches++;
                }
                i++;
                next();
            });
        }
    }

    // =========================================================================================
    // W5T: throughput with a window of requests in flight per client
    // =========================================================================================

    private static boolean throughput(Map<String, String> opts) throws Exception {
        int clients = intOpt(opts, "clients", 16);
        int msgs = intOpt(opts, "msgs", 50_000);
        int window = intOpt(opts, "window", 32);
        int size = Math.max(18, intOpt(opts, "size", 64));
        int loops = intOpt(opts, "loops", 1);
        int rounds = intOpt(opts, "rounds", 3);
        int warmup = intOpt(opts, "warmup", msgs); // a full round: C2 is still compiling after less
        Path sock = socketPath();
        EventLoop serverLoop = EventLoop.create("bench-server");
        EventLoop clientLoop = loops >= 2 ? EventLoop.create("bench-clients") : serverLoop;
        try {
            MessageServer server = server(serverLoop, opts, sock);
            List<MessageClient> cs = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                cs.add(client(clientLoop, opts, server));
            }
            long mismatches = round(cs, warmup, window, size).mismatches;
            double best = 0;
            long allocPerMsg = 0;
            for (int r = 0; r < rounds; r++) {
                long allocBefore = loopAllocated(serverLoop) + (clientLoop != serverLoop ? loopAllocated(clientLoop) : 0);
                Round result = round(cs, msgs, window, size);
                long alloc = loopAllocated(serverLoop) + (clientLoop != serverLoop ? loopAllocated(clientLoop) : 0) - allocBefore;
                mismatches += result.mismatches;
                double rate = (double) clients * msgs / (result.nanos / 1e9);
                System.out.printf("INFO workload=W5T round=%d msgs_per_s=%.0f%n", r + 1, rate);
                if (rate > best) {
                    best = rate;
                    allocPerMsg = alloc / ((long) clients * msgs);
                }
            }
            for (MessageClient c : cs) {
                c.close();
            }
            server.close();
            System.out.printf("INFO workload=W5T transport=%s loops=%d clients=%d msgs=%d window=%d frame_bytes=%d mismatches=%d loop_alloc_bytes_per_round_trip=%d%n",
                    opts.getOrDefault("transport", "unix"), loops, clients, msgs, window, size, mismatches, allocPerMsg);
            System.out.printf("RESULT impl=dualpipe workload=W5T msgs_per_s=%.0f%n", best);
            return mismatches == 0;
        } finally {
            if (clientLoop != serverLoop) {
                clientLoop.close();
            }
            serverLoop.close();
            Files.deleteIfExists(sock);
            Files.deleteIfExists(sock.getParent());
        }
    }

    private record Round(long nanos, long mismatches) {
    }

    private static Round round(List<MessageClient> clients, int msgs, int window, int size) throws Exception {
        AtomicLong mismatches = new AtomicLong();
        CompletableFuture<?>[] all = new CompletableFuture<?>[clients.size()];
        EventLoop loop = clients.get(0).channel().loop();
        CompletableFuture<Long> started = new CompletableFuture<>();
        List<Windowed> ws = new ArrayList<>();
        for (MessageClient c : clients) {
            ws.add(new Windowed(c.channel(), msgs, size, mismatches));
        }
        // Start every client from the loop, in one pass: their first windows go out as one burst each.
        loop.execute(() -> {
            started.complete(System.nanoTime());
            for (Windowed w : ws) {
                w.start(window);
            }
        });
        for (int i = 0; i < ws.size(); i++) {
            all[i] = ws.get(i).done;
        }
        CompletableFuture.allOf(all).get(600, TimeUnit.SECONDS);
        long end = ws.stream().mapToLong(w -> w.finishedAt).max().orElseThrow();
        return new Round(end - started.get(), mismatches.get());
    }

    /** One client: keeps `window` requests in flight, sending the next from each reply's callback. */
    private static final class Windowed {
        final MessageChannel ch;
        final int msgs;
        final int size;
        final AtomicLong mismatches;
        final CompletableFuture<Void> done = new CompletableFuture<>();
        int sent;
        int received;
        long finishedAt;

        Windowed(MessageChannel ch, int msgs, int size, AtomicLong mismatches) {
            this.ch = ch;
            this.msgs = msgs;
            this.size = size;
            this.mismatches = mismatches;
        }

        void start(int window) {
            for (int i = 0; i < window && sent < msgs; i++) {
                sendOne();
            }
        }

        private void sendOne() {
            long seq = sent++;
            LoopFuture<byte[]> f = ch.request(Codecs.BYTES, body(size, seq), byte[].class, null);
            f.whenComplete((reply, e) -> {
                if (e != null) {
                    done.completeExceptionally(e);
                    return;
                }
                if (!matches(reply, seq, size)) {
                    mismatches.incrementAndGet();
                }
                if (++received == msgs) {
                    finishedAt = System.nanoTime();
                    done.complete(null);
                } else if (sent < msgs) {
                    sendOne();
                }
            });
        }
    }

    // =========================================================================================

    /** Bytes the loop thread has allocated so far (HotSpot's per-thread counter). */
    private static long loopAllocated(EventLoop loop) throws Exception {
        CompletableFuture<Long> id = new CompletableFuture<>();
        loop.execute(() -> id.complete(Thread.currentThread().getId()));
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        return threads.getThreadAllocatedBytes(id.get(10, TimeUnit.SECONDS));
    }

    /** Logback's default is DEBUG to the console; a benchmark wants warnings only. */
    private static void quietLogging() {
        if (LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME) instanceof ch.qos.logback.classic.Logger root) {
            root.setLevel(ch.qos.logback.classic.Level.WARN);
        }
    }
}
