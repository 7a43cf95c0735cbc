package io.dualpipe.core.internal;

import io.dualpipe.core.ByteSource;
import io.dualpipe.core.CallbackFloodLog;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.FdChannel;
import io.dualpipe.core.IoHandler;
import io.dualpipe.core.LoopClosedException;
import io.dualpipe.core.TestSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.SortedMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import static java.nio.channels.SelectionKey.OP_READ;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * A task, handler, close hook or stream listener that throws on every call is logged within its
 * class's budget (CallbackFailureLog), not once per call with a stack trace each; the loop goes on
 * and answers right; and a different class's first failure still reaches WARN.
 */
class LoopCallbackFloodTest {
    private static final int FLOOD = 10_000;

    /** What the tests make throw; its class is the key the log is bounded by. */
    private static final class BuggyTask implements Runnable {
        private final int n;

        BuggyTask(int n) {
            this.n = n;
        }

        @Override
        public void run() {
            throw new IllegalStateException("task bug " + n);
        }

        @Override
        public String toString() {
            return "buggy-task";
        }
    }

    private static final class OtherBuggyTask implements Runnable {
        @Override
        public void run() {
            throw new IllegalStateException("other task bug");
        }

        @Override
        public String toString() {
            return "other-task";
        }
    }

    private static int answerOf(EventLoop loop) throws Exception {
        CompletableFuture<Integer> answer = new CompletableFuture<>();
        loop.execute(() -> answer.complete(6 * 7));
        return answer.get(10, TimeUnit.SECONDS);
    }

    @Test
    @Timeout(60)
    void aTaskClassThatThrowsTenThousandTimesStaysWithinItsBudget() throws Exception {
        try (CallbackFloodLog log = new CallbackFloodLog(SingleThreadEventLoop.class);
             EventLoop loop = EventLoop.create("flood-tasks")) {
            for (int i = 0; i < FLOOD; i++) {
                loop.execute(new BuggyTask(i));
            }
            log.awaitCount(m -> m.contains("task buggy-task threw"), FLOOD);
            loop.execute(new OtherBuggyTask());
            log.assertFirstWarned(m -> m.contains("task other-task threw"));
            assertEquals(42, answerOf(loop));
            log.assertBounded(m -> m.contains("task buggy-task threw"), FLOOD);
        }
        assertFalse(TestSupport.threadAlive("flood-tasks"));
    }

    /** Throws on each of its first {@code throwFor} calls; then drains the pipe (so it is not ready again) and says so. */
    private static final class BuggyHandler implements IoHandler {
        private final FdChannel in;
        private final int throwFor;
        final AtomicInteger calls = new AtomicInteger();
        final CompletableFuture<Void> drained = new CompletableFuture<>();

        BuggyHandler(FdChannel in, int throwFor) {
            this.in = in;
            this.throwFor = throwFor;
        }

        @Override
        public void ready(int readyOps) {
            int n = calls.incrementAndGet();
            if (n <= throwFor) {
                throw new IllegalStateException("handler bug " + n);
            }
            try {
                in.read(ByteBuffer.allocate(16));
            } catch (Exception e) {
                drained.completeExceptionally(e);
            }
            drained.complete(null);
        }

        @Override
        public void loopClosed(LoopClosedException cause) {
        }

        @Override
        public String toString() {
            return "buggy-handler";
        }
    }

    private static final class OtherBuggyHandler implements IoHandler {
        private final FdChannel in;

        OtherBuggyHandler(FdChannel in) {
            this.in = in;
        }

        @Override
        public void ready(int readyOps) {
            try {
                in.read(ByteBuffer.allocate(16));
            } catch (Exception e) {
                throw new AssertionError(e);
            }
            throw new IllegalStateException("other handler bug");
        }

        @Override
        public void loopClosed(LoopClosedException cause) {
        }

        @Override
        public String toString() {
            return "other-handler";
        }
    }

    @Test
    @Timeout(60)
    void aHandlerThatThrowsOnEveryEventStaysWithinItsBudget() throws Exception {
        SortedMap<Integer, String> fds = TestSupport.fdSnapshotWithoutSockets();
        FdChannel[] p = FdChannel.pipe();
        FdChannel[] q = FdChannel.pipe();
        try (CallbackFloodLog log = new CallbackFloodLog(SingleThreadEventLoop.class);
             EventLoop loop = EventLoop.create("flood-handler")) {
            // A byte left unread: level-triggered, the handler is called (and throws) on every pass.
            BuggyHandler buggy = new BuggyHandler(p[0], FLOOD);
            loop.register(p[0], OP_READ, buggy).get(5, TimeUnit.SECONDS);
            p[1].write(ByteBuffer.wrap(new byte[] {1}));
            buggy.drained.get(30, TimeUnit.SECONDS);
            assertEquals(FLOOD + 1, buggy.calls.get());
            loop.register(q[0], OP_READ, new OtherBuggyHandler(q[0])).get(5, TimeUnit.SECONDS);
            q[1].write(ByteBuffer.wrap(new byte[] {1}));
            log.assertFirstWarned(m -> m.contains("handler other-handler threw"));
            assertEquals(42, answerOf(loop));
            log.assertBounded(m -> m.contains("handler buggy-handler threw"), FLOOD);
        } finally {
            p[1].close();
            q[1].close();
        }
        assertEquals(fds, TestSupport.fdSnapshotWithoutSockets(), "fds back to the baseline");
    }

    @Test
    @Timeout(60)
    void closeHooksThatThrowStayWithinTheirBudget() throws Exception {
        try (CallbackFloodLog log = new CallbackFloodLog(SingleThreadEventLoop.class)) {
            SingleThreadEventLoop loop = (SingleThreadEventLoop) EventLoop.create("flood-hooks");
            AtomicInteger told = new AtomicInteger();
            class BuggyHook implements Consumer<LoopClosedException> {
                @Override
                public void accept(LoopClosedException e) {
                    told.incrementAndGet();
                    throw new IllegalStateException("hook bug");
                }

                @Override
                public String toString() {
                    return "buggy-hook";
                }
            }
            for (int i = 0; i < FLOOD; i++) {
                loop.onClose(new BuggyHook());
            }
            loop.onClose(new Consumer<>() {
                @Override
                public void accept(LoopClosedException e) {
                    told.incrementAndGet();
                    throw new IllegalStateException("other hook bug");
                }

                @Override
                public String toString() {
                    return "other-hook";
                }
            });
            loop.close();
            loop.terminationFuture().get(30, TimeUnit.SECONDS);
            assertEquals(FLOOD + 1, told.get(), "every hook told, though each threw");
            log.assertFirstWarned(m -> m.contains("close hook other-hook threw"));
            log.assertBounded(m -> m.contains("close hook buggy-hook threw"), FLOOD);
        }
        assertFalse(TestSupport.threadAlive("flood-hooks"));
    }

    /** Throws from every onData call after keeping the bytes; stops throwing once it has {@code quietAfter} of them. */
    private static final class BuggyListener implements ByteSource.Listener {
        final ByteArrayOutputStream got = new ByteArrayOutputStream();
        final AtomicInteger threw = new AtomicInteger();
        private final int quietAfter;

        BuggyListener(int quietAfter) {
            this.quietAfter = quietAfter;
        }

        @Override
        public void onData(ByteBuffer data) {
            while (data.hasRemaining()) {
                got.write(data.get());
            }
            if (got.size() <= quietAfter) {
                threw.incrementAndGet();
                throw new IllegalStateException("listener bug at " + got.size());
            }
        }

        @Override
        public String toString() {
            return "buggy-listener";
        }
    }

    @Test
    @Timeout(60)
    void aStreamListenerThatThrowsOnEveryChunkStaysWithinItsBudgetAndLosesNoByte() throws Exception {
        SortedMap<Integer, String> fds = TestSupport.fdSnapshotWithoutSockets();
        try (CallbackFloodLog log = new CallbackFloodLog(FdStream.class);
             EventLoop loop = EventLoop.create("flood-stream")) {
            FdChannel[] p = FdChannel.pipe();
            FdStream in = FdStream.source(loop, p[0], "flooded.in", 64 * 1024);
            FdStream out = FdStream.sink(loop, p[1], "flooded.out", 64 * 1024, 32 * 1024);
            BuggyListener buggy = new BuggyListener(FLOOD);
            in.listen(buggy);
            byte[] sent = new byte[FLOOD + 1];
            for (int i = 0; i < FLOOD; i++) {
                sent[i] = (byte) i;
                out.write(new byte[] {sent[i]}).get(10, TimeUnit.SECONDS);
                int have = i + 1;
                TestSupport.await("byte " + have + " delivered", Duration.ofSeconds(10), () -> buggy.got.size() >= have);
            }
            sent[FLOOD] = 42;
            out.write(new byte[] {42}).get(10, TimeUnit.SECONDS); // the listener has stopped throwing: the stream goes on
            TestSupport.await("the last byte delivered", Duration.ofSeconds(10), () -> buggy.got.size() == FLOOD + 1);
            assertArrayEquals(sent, buggy.got.toByteArray(), "every byte once, in order, though the listener threw");
            assertEquals(FLOOD, buggy.threw.get());

            FdChannel[] q = FdChannel.pipe();
            FdStream otherIn = FdStream.source(loop, q[0], "other.in", 64 * 1024);
            FdStream otherOut = FdStream.sink(loop, q[1], "other.out", 64 * 1024, 32 * 1024);
            otherIn.listen(new ByteSource.Listener() {
                @Override
                public void onData(ByteBuffer data) {
                    throw new IllegalStateException("other listener bug");
                }

                @Override
                public String toString() {
                    return "other-listener";
                }
            });
            otherOut.write(new byte[] {1}).get(10, TimeUnit.SECONDS);
            log.assertFirstWarned(m -> m.contains("listener other-listener threw"));
            out.close();
            in.close();
            otherOut.close();
            otherIn.close();
            log.assertBounded(m -> m.contains("listener buggy-listener threw"), FLOOD);
        }
        assertEquals(fds, TestSupport.fdSnapshotWithoutSockets(), "fds back to the baseline");
    }
}
