package io.dualpipe.core.message;

import io.dualpipe.core.CallbackFloodLog;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.TestSupport;
import io.dualpipe.core.codec.CodecRegistry;
import io.dualpipe.core.codec.Codecs;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.SortedMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A reply listener or an error listener that throws on every call, for every message of a channel
 * kept for weeks, is logged within its class's budget; the channel goes on answering right, and a
 * different listener class's first failure still reaches WARN.
 */
class MessageCallbackFloodTest {
    private static final int FLOOD = 10_000;
    private static final int WINDOW = 500;
    private static final String REPLY_LOGGER = "io.dualpipe.core.message.internal.ListenerRequest";
    private static final String ERROR_LOGGER = "io.dualpipe.core.message.internal.Dispatcher";
    private static final String CHANNEL_LOGGER = "io.dualpipe.core.message.internal.DefaultMessageChannel";

    private static Pipes echoPair(EventLoop loop, MessageErrorListener bErrors) {
        MessageChannelBuilder b = MessageChannel.builder(Pipes.codecs()).handle(Codecs.UTF8, String.class, (ctx, s) -> ctx.reply(s));
        if (bErrors != null) {
            b.onError(bErrors);
        }
        return new Pipes(loop, MessageChannel.builder(Pipes.codecs()), b);
    }

    /** Checks its reply, then throws. */
    private static final class BuggyReplyListener implements ReplyListener<String> {
        private final String expected;
        private final AtomicInteger told;
        private final AtomicInteger wrong;

        BuggyReplyListener(String expected, AtomicInteger told, AtomicInteger wrong) {
            this.expected = expected;
            this.told = told;
            this.wrong = wrong;
        }

        @Override
        public void onReply(String reply, Throwable failure) {
            if (failure != null || !expected.equals(reply)) {
                wrong.incrementAndGet();
            }
            told.incrementAndGet();
            throw new IllegalStateException("reply listener bug on " + expected);
        }

        @Override
        public String toString() {
            return "buggy-reply-listener";
        }
    }

    @Test
    @Timeout(120)
    void aReplyListenerClassThatAlwaysThrowsStaysWithinItsBudget() throws Exception {
        SortedMap<Integer, String> fds = TestSupport.fdSnapshotWithoutSockets();
        try (CallbackFloodLog log = new CallbackFloodLog(REPLY_LOGGER);
             EventLoop loop = EventLoop.create("flood-replies")) {
            Pipes p = echoPair(loop, null);
            AtomicInteger told = new AtomicInteger();
            AtomicInteger wrong = new AtomicInteger();
            for (int i = 0; i < FLOOD; i++) {
                p.a.request(Codecs.UTF8, "m" + i, String.class, null, new BuggyReplyListener("m" + i, told, wrong));
                if ((i + 1) % WINDOW == 0) {
                    int sent = i + 1;
                    TestSupport.await(sent + " replies", Duration.ofSeconds(30), () -> told.get() == sent);
                }
            }
            assertEquals(0, wrong.get(), "every listener told its own reply");
            assertEquals("still fine", p.a.request(Codecs.UTF8, "still fine", String.class, Duration.ofSeconds(10))
                    .get(10, TimeUnit.SECONDS));
            p.a.request(Codecs.UTF8, "other", String.class, null, new ReplyListener<String>() {
                @Override
                public void onReply(String reply, Throwable failure) {
                    throw new IllegalStateException("other reply listener bug");
                }

                @Override
                public String toString() {
                    return "other-reply-listener";
                }
            });
            log.assertFirstWarned(m -> m.contains("reply listener other-reply-listener"));
            assertTrue(p.a.isOpen() && p.b.isOpen());
            p.a.close();
            p.b.close();
            log.assertBounded(m -> m.contains("reply listener buggy-reply-listener"), FLOOD);
        }
        assertEquals(fds, TestSupport.fdSnapshotWithoutSockets(), "fds back to the baseline");
    }

    /** Counts, then throws. */
    private static final class BuggyErrorListener implements MessageErrorListener {
        final AtomicInteger told = new AtomicInteger();

        @Override
        public void onError(MessageChannel channel, io.dualpipe.core.DualPipeException error) {
            told.incrementAndGet();
            throw new IllegalStateException("error listener bug");
        }

        @Override
        public String toString() {
            return "buggy-error-listener";
        }
    }

    @Test
    @Timeout(120)
    void anErrorListenerClassThatAlwaysThrowsStaysWithinItsBudget() throws Exception {
        SortedMap<Integer, String> fds = TestSupport.fdSnapshotWithoutSockets();
        try (CallbackFloodLog log = new CallbackFloodLog(ERROR_LOGGER);
             EventLoop loop = EventLoop.create("flood-errors")) {
            BuggyErrorListener buggy = new BuggyErrorListener();
            Pipes p = echoPair(loop, buggy);
            for (int i = 0; i < FLOOD; i++) {
                p.a.send(Pipes.ORDER, new Pipes.Order("nobody handles these", i)); // b has no handler for ORDER
                if ((i + 1) % WINDOW == 0) {
                    int sent = i + 1;
                    TestSupport.await(sent + " errors reported", Duration.ofSeconds(30), () -> buggy.told.get() == sent);
                }
            }
            assertEquals("still fine", p.a.request(Codecs.UTF8, "still fine", String.class, Duration.ofSeconds(10))
                    .get(10, TimeUnit.SECONDS));
            Pipes other = echoPair(loop, new MessageErrorListener() {
                @Override
                public void onError(MessageChannel channel, io.dualpipe.core.DualPipeException error) {
                    throw new IllegalStateException("other error listener bug");
                }

                @Override
                public String toString() {
                    return "other-error-listener";
                }
            });
            other.a.send(Pipes.ORDER, new Pipes.Order("nobody", 1));
            log.assertFirstWarned(m -> m.contains("error listener other-error-listener"));
            assertTrue(p.a.isOpen() && p.b.isOpen());
            p.a.close();
            p.b.close();
            other.a.close();
            other.b.close();
            log.assertBounded(m -> m.contains("error listener buggy-error-listener"), FLOOD);
        }
        assertEquals(fds, TestSupport.fdSnapshotWithoutSockets(), "fds back to the baseline");
    }

    // Types of this test's own: the default listener's budget is per JVM, and another test's handler of a shared type must not find it spent.
    private static final int FLOODED_TYPE = 0x7d;
    private static final int PROBE_TYPE = 0x7e;

    record Flooded(int n) {
    }

    record Probe(int n) {
    }

    /**
     * The default error listener bounds what handlers threw per message type (each type has one
     * handler): a handler that throws on every message hides no other handler's first failure.
     */
    @Test
    @Timeout(120)
    void aHandlerThatThrowsOnEveryMessageHidesNoOtherHandlersFirstFailure() throws Exception {
        SortedMap<Integer, String> fds = TestSupport.fdSnapshotWithoutSockets();
        CodecRegistry codecs = CodecRegistry.builder().registerAll(Codecs.builtins())
                .register(Codecs.json(FLOODED_TYPE, Flooded.class)).register(Codecs.json(PROBE_TYPE, Probe.class)).build();
        try (CallbackFloodLog log = new CallbackFloodLog(CHANNEL_LOGGER);
             EventLoop loop = EventLoop.create("flood-handlers")) {
            AtomicInteger handled = new AtomicInteger();
            Pipes p = new Pipes(loop, MessageChannel.builder(codecs), MessageChannel.builder(codecs)
                    .handle(Codecs.UTF8, String.class, (ctx, s) -> ctx.reply(s))
                    .handle(FLOODED_TYPE, Flooded.class, (ctx, f) -> {
                        handled.incrementAndGet();
                        throw new IllegalStateException("handler bug on " + f.n());
                    })
                    .handle(PROBE_TYPE, Probe.class, (ctx, o) -> {
                        throw new IllegalStateException("probe handler bug");
                    }));
            for (int i = 0; i < FLOOD; i++) {
                p.a.send(FLOODED_TYPE, new Flooded(i));
                if ((i + 1) % WINDOW == 0) {
                    int sent = i + 1;
                    TestSupport.await(sent + " messages handled", Duration.ofSeconds(30), () -> handled.get() == sent);
                }
            }
            assertEquals("still fine", p.a.request(Codecs.UTF8, "still fine", String.class, Duration.ofSeconds(10))
                    .get(10, TimeUnit.SECONDS));
            p.a.send(PROBE_TYPE, new Probe(1));
            log.assertFirstWarned(m -> m.contains("handler for message type 0x7e threw"));
            p.a.close();
            p.b.close();
            log.assertBounded(m -> m.contains("handler for message type 0x7d threw"), FLOOD);
        }
        assertEquals(fds, TestSupport.fdSnapshotWithoutSockets(), "fds back to the baseline");
    }
}
