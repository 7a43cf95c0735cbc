package io.dualpipe.examples.bench;

import io.dualpipe.core.ByteSink;
import io.dualpipe.core.ByteSource;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.codec.CodecRegistry;
import io.dualpipe.core.codec.Codecs;
import io.dualpipe.core.message.MessageChannel;
import io.dualpipe.core.message.ReplyListener;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The per-message cost of DualPipe's message path alone: W5T's workload (16 clients, 32 requests in
 * flight each, 64-byte frames echoed) through real {@link MessageChannel}s on one loop, over
 * in-memory links instead of sockets, so no system call is made and the figure is the Java path's
 * CPU per request/reply pair. The links hand bytes over in passes, as a selector's batch would:
 * everything one side wrote during a pass reaches the other in one {@code onData} in the next.
 *
 * <pre>
 * MessagePathBench [clients=16] [msgs=200000] [window=32] [rounds=5] [timeout_ms=0] [api=futures|listener]
 * </pre>
 *
 * {@code timeout_ms} > 0 gives every request that timeout (never reached), to price the timer.
 * {@code api=listener} runs the allocation-free forms instead of futures and decoded arrays: the
 * handler takes and replies with the borrowed {@link ByteBuffer} body, the clients use
 * {@link ReplyListener}s (as {@code MessageBench}'s {@code dualpipe-listener}). Not
 * a substitute for {@link MessageBench}, which measures the whole thing against a JDK NIO baseline.
 */
public final class MessagePathBench {
    private MessagePathBench() {
    }

    public static void main(String[] args) throws Exception {
        MessageBench.quietLogging();
        Map<String, String> opts = new HashMap<>();
        for (String a : args) {
            int eq = a.indexOf('=');
            if (eq > 0) {
                opts.put(a.substring(0, eq), a.substring(eq + 1));
            }
        }
        int clients = Integer.parseInt(opts.getOrDefault("clients", "16"));
        int msgs = Integer.parseInt(opts.getOrDefault("msgs", "200000"));
        int window = Integer.parseInt(opts.getOrDefault("window", "32"));
        int rounds = Integer.parseInt(opts.getOrDefault("rounds", "5"));
        long timeoutMs = Long.parseLong(opts.getOrDefault("timeout_ms", "0"));
        Duration timeout = timeoutMs > 0 ? Duration.ofMillis(timeoutMs) : null;
        boolean listener = "listener".equals(opts.getOrDefault("api", "futures"));
        CodecRegistry codecs = CodecRegistry.builder().registerAll(Codecs.builtins()).build();
        try (EventLoop loop = EventLoop.create("path")) {
            Pump pump = new Pump(loop);
            List<MessageChannel> cs = new ArrayList<>();
            CompletableFuture<Void> opened = new CompletableFuture<>();
            loop.execute(() -> {
                for (int i = 0; i < clients; i++) {
                    Link a = new Link(loop, pump);
                    Link b = new Link(loop, pump);
                    a.peer = b;
                    b.peer = a;
                    if (listener) {
                        MessageChannel.builder(codecs).handle(Codecs.BYTES, ByteBuffer.class, (ctx, body) -> ctx.reply(Codecs.BYTES, body))
                                .open(b, b);
                    } else {
                        MessageChannel.builder(codecs).handle(Codecs.BYTES, byte[].class, (ctx, body) -> ctx.reply(Codecs.BYTES, body))
                                .open(b, b);
                    }
                    cs.add(MessageChannel.builder(codecs).open(a, a));
                }
                opened.complete(null);
            });
            opened.get(10, TimeUnit.SECONDS);
            long tid = threadId(loop);
            com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            double[] ns = new double[rounds];
            for (int r = -1; r < rounds; r++) {
                long cpu0 = threads.getThreadCpuTime(tid);
                long alloc0 = threads.getThreadAllocatedBytes(tid);
                CompletableFuture<Void> done = new CompletableFuture<>();
                loop.execute(() -> run(cs, msgs, window, timeout, listener, done));
                done.get(600, TimeUnit.SECONDS);
                double n = (double) clients * msgs;
                double perMsg = (threads.getThreadCpuTime(tid) - cpu0) / n;
                if (r >= 0) {
                    ns[r] = perMsg;
                    System.out.printf(Locale.ROOT, "INFO round=%d cpu_ns_per_msg=%.1f alloc_bytes_per_msg=%.0f%n", r + 1, perMsg,
                            (threads.getThreadAllocatedBytes(tid) - alloc0) / n);
                }
            }
            Arrays.sort(ns);
            System.out.printf(Locale.ROOT, "RESULT impl=dualpipe workload=message-path api=%s clients=%d window=%d timeout_ms=%d cpu_ns_per_msg=%.1f (median of %d)%n",
                    listener ? "listener" : "futures", clients, window, timeoutMs, ns[rounds / 2], rounds);
        }
        System.exit(0);
    }

    private static void run(List<MessageChannel> cs, int msgs, int window, Duration timeout, boolean listener, CompletableFuture<Void> done) {
        int[] finished = {0};
        for (MessageChannel ch : cs) {
            Runnable onDone = () -> {
                if (++finished[0] == cs.size()) {
                    done.complete(null);
                }
            };
            if (listener) {
                new ListenerWindowed(ch, msgs, timeout, onDone).start(window);
            } else {
                new Windowed(ch, msgs, timeout, onDone).start(window);
            }
        }
    }

    /** As {@link Windowed}, through one {@link ReplyListener} per client; replies come in request order. */
    private static final class ListenerWindowed extends Windowed implements ReplyListener<ByteBuffer> {
        ListenerWindowed(MessageChannel ch, int msgs, Duration timeout, Runnable onDone) {
            super(ch, msgs, timeout, onDone);
        }

        @Override
        void sendOne() {
            ch.request(Codecs.BYTES, MessageBench.body(64, sent++), ByteBuffer.class, timeout, this);
        }

        @Override
        public void onReply(ByteBuffer reply, Throwable e) {
            replied(e, e == null && MessageBench.matches(reply, received, 64), received);
        }
    }

    private static long threadId(EventLoop loop) throws Exception {
        CompletableFuture<Long> id = new CompletableFuture<>();
        loop.execute(() -> id.complete(Thread.currentThread().getId()));
        return id.get(10, TimeUnit.SECONDS);
    }

    private static class Windowed {
        final MessageChannel ch;
        final int msgs;
        final Duration timeout;
        final Runnable onDone;
        int sent;
        int received;

        Windowed(MessageChannel ch, int msgs, Duration timeout, Runnable onDone) {
            this.ch = ch;
            this.msgs = msgs;
            this.timeout = timeout;
            this.onDone = onDone;
        }

        void start(int window) {
            for (int i = 0; i < window && sent < msgs; i++) {
                sendOne();
            }
        }

        void sendOne() {
            long seq = sent++;
            ch.request(Codecs.BYTES, MessageBench.body(64, seq), byte[].class, timeout)
                    .whenComplete((reply, e) -> replied(e, e == null && MessageBench.matches(reply, seq, 64), seq));
        }

        /** Both styles' reply handling: a bad reply stops the run; the next request goes out. */
        final void replied(Throwable e, boolean matched, long seq) {
            if (!matched) {
                throw new IllegalStateException("bad reply to " + seq, e);
            }
            if (++received == msgs) {
                onDone.run();
            } else if (sent < msgs) {
                sendOne();
            }
        }
    }

    /**
     * Hands what each link received to its listener: one pass per loop task, as a selector batch,
     * scheduled when the first link of the next pass gets bytes.
     */
    private static final class Pump {
        final EventLoop loop;
        List<Link> dirty = new ArrayList<>();
        List<Link> pass = new ArrayList<>();
        boolean scheduled;

        Pump(EventLoop loop) {
            this.loop = loop;
        }

        void mark(Link l) {
            dirty.add(l);
            if (!scheduled) {
                scheduled = true;
                loop.execute(this::pass);
            }
        }

        private void pass() {
            scheduled = false;
            List<Link> p = dirty;
            dirty = pass;
            pass = p;
            for (Link l : p) {
                l.deliver();
            }
            p.clear();
        }
    }

    /** One end of an in-memory duplex link: writes land in the peer's inbox, taken whole at once. */
    private static final class Link implements ByteSource, ByteSink {
        final EventLoop loop;
        final Pump pump;
        final ByteBuffer inbox = ByteBuffer.allocateDirect(1 << 20);
        final ByteBuffer handed = ByteBuffer.allocateDirect(1 << 20);
        Link peer;
        Listener listener;

        Link(EventLoop loop, Pump pump) {
            this.loop = loop;
            this.pump = pump;
        }

        void deliver() {
            inbox.flip();
            handed.clear();
            handed.put(inbox).flip();
            inbox.clear();
            listener.onData(handed);
        }

        @Override
        public EventLoop loop() {
            return loop;
        }

        @Override
        public LoopFuture<Void> write(ByteBuffer data) {
            if (peer.inbox.position() == 0) {
                pump.mark(peer);
            }
            peer.inbox.put(data);
            return LoopFuture.completed(null);
        }

        @Override
        public LoopFuture<Void> writeOrQueue(ByteBuffer data) {
            if (peer.inbox.position() == 0) {
                pump.mark(peer);
            }
            peer.inbox.put(data);
            return null;
        }

        @Override
        public LoopFuture<Void> write(byte[] data) {
            return write(ByteBuffer.wrap(data));
        }

        @Override
        public LoopFuture<Void> write(String text) {
            return write(text.getBytes(StandardCharsets.UTF_8));
        }

        @Override
        public boolean isWritable() {
            return true;
        }

        @Override
        public long queuedBytes() {
            return 0;
        }

        @Override
        public LoopFuture<Void> whenWritable() {
            return LoopFuture.completed(null);
        }

        @Override
        public LoopFuture<Void> shutdownOutput() {
            return LoopFuture.completed(null);
        }

        @Override
        public LoopFuture<byte[]> read(int maxBytes) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void listen(Listener l) {
            listener = l;
        }

        @Override
        public void pause() {
        }

        @Override
        public void resume() {
        }

        @Override
        public LoopFuture<Void> endOfStream() {
            return new LoopFuture<>();
        }

        @Override
        public void close() {
        }
    }
}
