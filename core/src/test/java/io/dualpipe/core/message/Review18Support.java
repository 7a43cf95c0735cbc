package io.dualpipe.core.message;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.FdChannel;
import io.dualpipe.core.codec.Codecs;
import io.dualpipe.core.codec.Frames;
import io.dualpipe.core.internal.FdStream;
import io.dualpipe.core.internal.LoopThread;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Helpers shared by the review-18 tests: outcomes, a raw peer, loop barriers, internals by reflection. */
final class Review18Support {
    private Review18Support() {
    }

    /** What a listener was told, how often, on which thread; a ByteBuffer reply is snapshotted during the call. */
    static final class Outcome<R> implements ReplyListener<R> {
        final CompletableFuture<Object> result = new CompletableFuture<>();
        final AtomicInteger calls = new AtomicInteger();
        volatile boolean onLoop;
        volatile boolean readOnly;
        volatile int position;

        @Override
        public void onReply(R reply, Throwable failure) {
            calls.incrementAndGet();
            onLoop = Thread.currentThread() instanceof LoopThread;
            if (failure != null) {
                result.completeExceptionally(failure);
            } else if (reply instanceof ByteBuffer b) {
                readOnly = b.isReadOnly();
                position = b.position();
                byte[] copy = new byte[b.remaining()];
                b.get(b.position(), copy);
                result.complete(copy);
            } else {
                result.complete(reply);
            }
        }

        Object get() throws Exception {
            return result.get(20, TimeUnit.SECONDS);
        }

        Throwable failure() {
            return assertThrows(ExecutionException.class, () -> result.get(20, TimeUnit.SECONDS)).getCause();
        }
    }

    /** Two channels over pipes; b echoes every request back as its reply, whatever the type. */
    static Pipes echoPair(EventLoop loop) {
        return new Pipes(loop, MessageChannel.builder(Pipes.codecs()),
                MessageChannel.builder(Pipes.codecs()).handleAny((ctx, msg) -> ctx.reply(ctx.type(), msg)));
    }

    /** Every listener was told, exactly once. */
    static void assertToldOnce(java.util.List<? extends Outcome<?>> all) {
        for (Outcome<?> o : all) {
            assertTrue(o.result.isDone(), "never told");
            org.junit.jupiter.api.Assertions.assertEquals(1, o.calls.get(), "told " + o.calls.get() + " times");
        }
    }

    /** Our channel {@code ch}; the peer reads {@code peerIn} (our output) and writes {@code peerOut} (our input). */
    static final class RawPeer {
        final MessageChannel ch;
        final FdStream peerIn;
        final FdStream peerOut;

        RawPeer(EventLoop loop, MessageChannelBuilder cfg) {
            FdChannel[] toPeer = FdChannel.pipe();
            FdChannel[] fromPeer = FdChannel.pipe();
            FdStream out = FdStream.sink(loop, toPeer[1], "ch.out", 64 * 1024, 32 * 1024);
            FdStream in = FdStream.source(loop, fromPeer[0], "ch.in", 64 * 1024);
            this.peerIn = FdStream.source(loop, toPeer[0], "peer.in", 64 * 1024);
            this.peerOut = FdStream.sink(loop, fromPeer[1], "peer.out", 64 * 1024, 32 * 1024);
            this.ch = cfg.name("ch").open(in, out);
        }

        void write(int type, int flags, int requestId, byte[] body) throws Exception {
            ByteBuffer b = ByteBuffer.allocate(Frames.HEADER_SIZE + body.length);
            b.put((byte) type).put((byte) flags).putInt(requestId).putInt(body.length).put(body).flip();
            peerOut.write(b).get(20, TimeUnit.SECONDS);
        }

        /** Makes {@code ch} unwritable: the peer reads nothing, and one large message cannot go out. */
        void backUp() {
            peerIn.pause();
            ch.send(Codecs.BYTES, new byte[1024 * 1024]);
            spinUntil(() -> !ch.isWritable(), "the channel never backed up");
        }

        /** The peer reads (and drops) everything from now on. */
        void readAll(EventLoop loop) {
            peerIn.resume();
            loop.execute(() -> fastRead(peerIn));
        }

        private static void fastRead(FdStream in) {
            in.read(64 * 1024).whenComplete((bytes, e) -> {
                if (e == null && bytes.length > 0) {
                    fastRead(in);
                }
            });
        }
    }

    interface Condition {
        boolean holds() throws Exception;
    }

    /** Spins (no sleep) until {@code c} holds; fails after 20 s. */
    static void spinUntil(Condition c, String what) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        try {
            while (!c.holds()) {
                assertTrue(System.nanoTime() < deadline, what);
                Thread.onSpinWait();
            }
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    static <T> T onLoop(EventLoop loop, Callable<T> task) throws Exception {
        CompletableFuture<T> f = new CompletableFuture<>();
        loop.execute(() -> {
            try {
                f.complete(task.call());
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        });
        return f.get(20, TimeUnit.SECONDS);
    }

    /** Returns once the loop has run everything queued before, twice over (tasks queued by tasks too). */
    static void barrier(EventLoop loop) throws Exception {
        for (int i = 0; i < 3; i++) {
            onLoop(loop, () -> null);
        }
    }

    /** Timers in the loop's heap (neither run nor cancelled). */
    static int loopTimers(EventLoop loop) throws Exception {
        return onLoop(loop, () -> {
            Field f = loop.getClass().getDeclaredField("timers");
            f.setAccessible(true);
            Object timers = f.get(loop);
            Method size = timers.getClass().getDeclaredMethod("size");
            size.setAccessible(true);
            return (Integer) size.invoke(timers);
        });
    }

    /** Entries the channel's timeout lanes keep, live or done. */
    static int timeoutEntries(MessageChannel ch) throws Exception {
        return onLoop(ch.loop(), () -> {
            Method requests = ch.getClass().getDeclaredMethod("requests");
            requests.setAccessible(true);
            Object r = requests.invoke(ch);
            Method entries = r.getClass().getDeclaredMethod("timeoutEntries");
            entries.setAccessible(true);
            return (Integer) entries.invoke(r);
        });
    }

    static byte[] pattern(int size, int seed) {
        byte[] b = new byte[size];
        for (int i = 0; i < size; i++) {
            b[i] = (byte) (i * 31 + seed * 7 + (i >>> 8));
        }
        return b;
    }
}
