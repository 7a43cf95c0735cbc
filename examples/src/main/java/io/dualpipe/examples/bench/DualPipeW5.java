package io.dualpipe.examples.bench;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.codec.CodecRegistry;
import io.dualpipe.core.codec.Codecs;
import io.dualpipe.core.message.MessageChannel;
import io.dualpipe.net.MessageClient;
import io.dualpipe.net.MessageServer;
import io.dualpipe.net.MessageServerBuilder;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The W5 workloads through {@link MessageServer} and {@link MessageClient}: the server echoes a
 * {@code bytes} request's body in its reply, re-encoded as a real server would; each client keeps
 * its window of {@code request}s in flight and sends the next from each reply's callback.
 */
final class DualPipeW5 implements MessageBench.W5 {
    private final EventLoop serverLoop;
    private final EventLoop clientLoop;
    private final MessageServer server;
    private final List<MessageClient> clients = new ArrayList<>();
    private final int size;

    DualPipeW5(Path sock, boolean tcp, int clientCount, int loops, int size) throws Exception {
        this.size = size;
        serverLoop = EventLoop.create("bench-server");
        clientLoop = loops >= 2 ? EventLoop.create("bench-clients") : serverLoop;
        MessageServerBuilder b = MessageServer.builder(codecs()).loop(serverLoop)
                .handle(Codecs.BYTES, byte[].class, (ctx, body) -> ctx.reply(Codecs.BYTES, body));
        server = tcp ? b.bindTcp(0) : b.bind(sock);
        for (int c = 0; c < clientCount; c++) {
            clients.add(tcp
                    ? MessageClient.builder(codecs()).loop(clientLoop).connectTcp(((java.net.InetSocketAddress) server.localAddress()).getPort()).get(10, TimeUnit.SECONDS)
                    : MessageClient.builder(codecs()).loop(clientLoop).connect(((java.net.UnixDomainSocketAddress) server.localAddress()).getPath()).get(10, TimeUnit.SECONDS));
        }
    }

    private static CodecRegistry codecs() {
        return CodecRegistry.builder().registerAll(Codecs.builtins()).build();
    }

    @Override
    public String name() {
        return "dualpipe";
    }

    @Override
    public MessageBench.Round round(int msgs, int window) throws Exception {
        CompletableFuture<?>[] all = new CompletableFuture<?>[clients.size()];
        CompletableFuture<Long> started = new CompletableFuture<>();
        List<Windowed> ws = new ArrayList<>();
        for (MessageClient c : clients) {
            ws.add(new Windowed(c.channel(), msgs, size));
        }
        // Start every client from the loop, in one pass: their first windows go out as one burst each.
        clientLoop.execute(() -> {
            started.complete(System.nanoTime());
            for (Windowed w : ws) {
                w.start(window);
            }
        });
        for (int i = 0; i < ws.size(); i++) {
            all[i] = ws.get(i).done;
        }
        CompletableFuture.allOf(all).get(600, TimeUnit.SECONDS);
        long end = 0;
        long mismatches = 0;
        for (Windowed w : ws) {
            end = Math.max(end, w.finishedAt);
            mismatches += w.mismatches;
        }
        return new MessageBench.Round(end - started.get(), mismatches);
    }

    @Override
    public long[] pingPong(int iters) throws Exception {
        PingPong run = new PingPong(clients.get(0).channel(), iters, size);
        clientLoop.execute(run::next);
        run.done.get(600, TimeUnit.SECONDS);
        if (run.mismatches != 0) {
            throw new IllegalStateException("dualpipe: " + run.mismatches + " replies did not match their requests");
        }
        return run.latencies;
    }

    @Override
    public long[] loopThreadIds() throws Exception {
        return clientLoop == serverLoop ? new long[] {threadId(serverLoop)} : new long[] {threadId(serverLoop), threadId(clientLoop)};
    }

    private static long threadId(EventLoop loop) throws Exception {
        CompletableFuture<Long> id = new CompletableFuture<>();
        loop.execute(() -> id.complete(Thread.currentThread().getId()));
        return id.get(10, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
        for (MessageClient c : clients) {
            c.close();
        }
        server.close();
        if (clientLoop != serverLoop) {
            clientLoop.close();
        }
        serverLoop.close();
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

        void next() {
            if (i == iters) {
                done.complete(null);
                return;
            }
            long seq = i;
            byte[] body = MessageBench.body(size, seq);
            sentAt = System.nanoTime();
            ch.request(Codecs.BYTES, body, byte[].class, null).whenComplete((reply, e) -> {
                latencies[i] = System.nanoTime() - sentAt;
                if (e != null) {
                    done.completeExceptionally(e);
                    return;
                }
                if (!MessageBench.matches(reply, seq, size)) {
                    mismatches++;
                }
                i++;
                next();
            });
        }
    }

    /** One client: keeps `window` requests in flight, sending the next from each reply's callback. */
    private static final class Windowed {
        final MessageChannel ch;
        final int msgs;
        final int size;
        final CompletableFuture<Void> done = new CompletableFuture<>();
        int sent;
        int received;
        long mismatches;
        long finishedAt;

        Windowed(MessageChannel ch, int msgs, int size) {
            this.ch = ch;
            this.msgs = msgs;
            this.size = size;
        }

        void start(int window) {
            for (int i = 0; i < window && sent < msgs; i++) {
                sendOne();
            }
        }

        private void sendOne() {
            long seq = sent++;
            LoopFuture<byte[]> f = ch.request(Codecs.BYTES, MessageBench.body(size, seq), byte[].class, null);
            f.whenComplete((reply, e) -> {
                if (e != null) {
                    done.completeExceptionally(e);
                    return;
                }
                if (!MessageBench.matches(reply, seq, size)) {
                    mismatches++;
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
}
