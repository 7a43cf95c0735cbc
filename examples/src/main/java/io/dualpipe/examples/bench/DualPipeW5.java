package io.dualpipe.examples.bench;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.codec.CodecRegistry;
import io.dualpipe.core.codec.Codecs;
import io.dualpipe.core.message.MessageChannel;
import io.dualpipe.core.message.ReplyListener;
import io.dualpipe.net.MessageClient;
import io.dualpipe.net.MessageServer;
import io.dualpipe.net.MessageServerBuilder;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The W5 workloads through {@link MessageServer} and {@link MessageClient}, in one of two styles:
 * <ul>
 * <li>{@code dualpipe}: the everyday API. The server's handler takes the request's body decoded as a
 *     {@code byte[]} and replies with it, re-encoded as a real server would; each client sends with
 *     {@code request(...)}, gets a future, and chains the next request on it with
 *     {@code whenComplete}.</li>
 * <li>{@code dualpipe-listener}: the allocation-free forms a hot path would use. The handler takes the
 *     body as a borrowed {@link ByteBuffer} and replies with it (copied into the outbound chunk, never
 *     decoded); each client sends with {@code request(..., ReplyListener)}, one listener per client,
 *     and checks the reply's borrowed body in place.</li>
 * </ul>
 * Either way each client keeps its window of requests in flight and sends the next as each reply
 * comes, and every reply is checked against its request's sequence number.
 */
final class DualPipeW5 implements MessageBench.W5 {
    private final EventLoop serverLoop;
    private final EventLoop clientLoop;
    private final MessageServer server;
    private final List<MessageClient> clients = new ArrayList<>();
    private final int size;
    private final boolean listener;

    DualPipeW5(Path sock, boolean tcp, int clientCount, int loops, int size, boolean listener) throws Exception {
        this.size = size;
        this.listener = listener;
        serverLoop = EventLoop.create("bench-server");
        clientLoop = loops >= 2 ? EventLoop.create("bench-clients") : serverLoop;
        MessageServerBuilder b = MessageServer.builder(codecs()).loop(serverLoop);
        if (listener) {
            b.handle(Codecs.BYTES, ByteBuffer.class, (ctx, body) -> ctx.reply(Codecs.BYTES, body));
        } else {
            b.handle(Codecs.BYTES, byte[].class, (ctx, body) -> ctx.reply(Codecs.BYTES, body));
        }
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
        return listener ? "dualpipe-listener" : "dualpipe";
    }

    @Override
    public MessageBench.Round round(int msgs, int window) throws Exception {
        CompletableFuture<?>[] all = new CompletableFuture<?>[clients.size()];
        CompletableFuture<Long> started = new CompletableFuture<>();
        List<Windowed> ws = new ArrayList<>();
        for (MessageClient c : clients) {
            ws.add(listener ? new ListenerWindowed(c.channel(), msgs, size) : new Windowed(c.channel(), msgs, size));
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
        PingPong run = listener ? new ListenerPingPong(clients.get(0).channel(), iters, size)
                : new PingPong(clients.get(0).channel(), iters, size);
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
    private static class PingPong {
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
            ch.request(Codecs.BYTES, body, byte[].class, null)
                    .whenComplete((reply, e) -> replied(e, e == null && MessageBench.matches(reply, seq, size)));
        }

        /** Both styles' reply handling: the latency, the check, the next request. */
        final void replied(Throwable e, boolean matched) {
            latencies[i] = System.nanoTime() - sentAt;
            if (e != null) {
                done.completeExceptionally(e);
                return;
            }
            if (!matched) {
                mismatches++;
            }
            i++;
            next();
        }
    }

    /** One client: keeps `window` requests in flight, sending the next from each reply's callback. */
    private static class Windowed {
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

        void sendOne() {
            long seq = sent++;
            LoopFuture<byte[]> f = ch.request(Codecs.BYTES, MessageBench.body(size, seq), byte[].class, null);
            f.whenComplete((reply, e) -> replied(e, e == null && MessageBench.matches(reply, seq, size)));
        }

        /** Both styles' reply handling: the check, the count, the next request. */
        final void replied(Throwable e, boolean matched) {
            if (e != null) {
                done.completeExceptionally(e);
                return;
            }
            if (!matched) {
                mismatches++;
            }
            if (++received == msgs) {
                finishedAt = System.nanoTime();
                done.complete(null);
            } else if (sent < msgs) {
                sendOne();
            }
        }
    }

    /** PingPong through a listener: the channel calls {@link #onReply} with the reply's body, borrowed. */
    private static final class ListenerPingPong extends PingPong implements ReplyListener<ByteBuffer> {
        ListenerPingPong(MessageChannel ch, int iters, int size) {
            super(ch, iters, size);
        }

        @Override
        void next() {
            if (i == iters) {
                done.complete(null);
                return;
            }
            byte[] body = MessageBench.body(size, i);
            sentAt = System.nanoTime();
            ch.request(Codecs.BYTES, body, ByteBuffer.class, null, this);
        }

        @Override
        public void onReply(ByteBuffer reply, Throwable e) {
            replied(e, e == null && MessageBench.matches(reply, i, size));
        }
    }

    /**
     * Windowed through one listener per client. A connection's replies come in the order of its
     * requests (one server loop answers them in turn), so the n-th reply must carry sequence number
     * n: the same check the NIO baseline makes, and the library has matched the reply to its request
     * by id before that.
     */
    private static final class ListenerWindowed extends Windowed implements ReplyListener<ByteBuffer> {
        ListenerWindowed(MessageChannel ch, int msgs, int size) {
            super(ch, msgs, size);
        }

        @Override
        void sendOne() {
            ch.request(Codecs.BYTES, MessageBench.body(size, sent++), ByteBuffer.class, null, this);
        }

        @Override
        public void onReply(ByteBuffer reply, Throwable e) {
            replied(e, e == null && MessageBench.matches(reply, received, size));
        }
    }
}
