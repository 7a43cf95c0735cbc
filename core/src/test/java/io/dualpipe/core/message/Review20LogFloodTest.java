package io.dualpipe.core.message;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.FdChannel;
import io.dualpipe.core.codec.Codecs;
import io.dualpipe.core.internal.FdStream;
import io.dualpipe.core.message.Review19WarnBudgetTest.Capture;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

import static io.dualpipe.core.message.Review18Support.barrier;
import static io.dualpipe.core.message.Review18Support.spinUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Review 20 of 94e0319 (peer-triggered warnings budgeted per source): what still reaches the log
 * unbounded, and whose flood still hides whose first warning. The project's rule: anything a peer
 * or a faulty callback can trigger repeatedly must not flood the log; the commit's claim: one
 * source's flood no longer hides another's first warning. Real pipes.
 */
class Review20LogFloodTest {
    private static final String CHANNEL_LOGGER = "io.dualpipe.core.message.internal.DefaultMessageChannel";
    private static final String DISPATCHER_LOGGER = "io.dualpipe.core.message.internal.Dispatcher";
    private static final String LISTENER_LOGGER = "io.dualpipe.core.message.internal.ListenerRequest";
    /** The most WARN lines a bounded site writes per minute (LogLimiter: 20 per key, five times that per site). */
    private static final int SITE_BUDGET = 100;
    private static final int FLOOD = 300;

    /** Two channels over pipes with names of our choosing: [0] sends, [1] receives with {@code receiver}'s handlers. */
    private static MessageChannel[] pair(EventLoop loop, String senderName, String receiverName, MessageChannelBuilder receiver) {
        FdChannel[] aToB = FdChannel.pipe();
        FdChannel[] bToA = FdChannel.pipe();
        FdStream aOut = FdStream.sink(loop, aToB[1], senderName + ".out", 64 * 1024, 32 * 1024);
        FdStream bIn = FdStream.source(loop, aToB[0], receiverName + ".in", 64 * 1024);
        FdStream bOut = FdStream.sink(loop, bToA[1], receiverName + ".out", 64 * 1024, 32 * 1024);
        FdStream aIn = FdStream.source(loop, bToA[0], senderName + ".in", 64 * 1024);
        MessageChannel a = MessageChannel.builder(Pipes.codecs()).name(senderName).open(aIn, aOut);
        MessageChannel b = receiver.name(receiverName).open(bIn, bOut);
        return new MessageChannel[] {a, b};
    }

    /**
     * An error listener that throws (a faulty callback) on a channel whose peer sends messages
     * nobody handles: the peer decides how often it throws, so Dispatcher.report's "error listener
     * threw" line, with its stack trace, must stay within the site's budget (CallbackFailureLog),
     * not come once per message. Found unbounded by review 20 (300 of 300).
     */
    @Test
    @Timeout(60)
    void aThrowingErrorListenerWarnsWithinTheSiteBudgetWhateverThePeerSends() throws Exception {
        try (EventLoop loop = EventLoop.create("review20-flood");
             Capture log = new Capture(DISPATCHER_LOGGER)) {
            AtomicInteger told = new AtomicInteger();
            MessageChannel[] p = pair(loop, "peer", "victim", MessageChannel.builder(Pipes.codecs()).onError((ch, e) -> {
                told.incrementAndGet();
                throw new IllegalStateException("the error listener has a bug");
            }));
            for (int i = 0; i < FLOOD; i++) {
                p[0].send(Codecs.UTF8, "nobody handles this " + i);
            }
            spinUntil(() -> told.get() == FLOOD, "not every message reached the error listener");
            barrier(loop);
            long warned = log.matching(m -> m.contains("error listener")).stream().filter(e -> e.getLevel() == Level.WARN).count();
            assertTrue(warned <= SITE_BUDGET, "a peer's " + FLOOD + " unhandled messages made " + warned
                    + " WARN lines (each with a stack trace) through a throwing error listener");
            p[0].close();
            p[1].close();
        }
    }

    /**
     * A ReplyListener that throws (a faulty callback), as fast as the peer answers: ListenerRequest's
     * "reply listener threw" line, with its stack trace, must stay within the site's budget
     * (CallbackFailureLog), not come once per reply. Found unbounded by review 20 (300 of 300).
     */
    @Test
    @Timeout(60)
    void aThrowingReplyListenerWarnsWithinTheSiteBudgetWhateverThePeerAnswers() throws Exception {
        try (EventLoop loop = EventLoop.create("review20-flood");
             Capture log = new Capture(LISTENER_LOGGER)) {
            MessageChannel[] p = pair(loop, "caller", "echo", MessageChannel.builder(Pipes.codecs())
                    .handle(Codecs.UTF8, String.class, (ctx, s) -> ctx.reply(s)));
            AtomicInteger told = new AtomicInteger();
            for (int i = 0; i < FLOOD; i++) {
                p[0].request(Codecs.UTF8, "q" + i, String.class, null, (r, e) -> {
                    told.incrementAndGet();
                    throw new IllegalStateException("the reply listener has a bug");
                });
            }
            spinUntil(() -> told.get() == FLOOD, "not every reply reached its listener");
            barrier(loop);
            long warned = log.matching(m -> m.contains("reply listener")).stream().filter(e -> e.getLevel() == Level.WARN).count();
            assertTrue(warned <= SITE_BUDGET, FLOOD + " replies to a throwing listener made " + warned
                    + " WARN lines (each with a stack trace)");
            p[0].close();
            p[1].close();
        }
    }

    /**
     * The default error listener's budget is keyed by kind of error and by source (server, uid), as
     * the protocol-error and rejection budgets are: one server's peer that sends messages nobody
     * handles must not hide, for the rest of the minute, another server's first "no handler" warning
     * (a misconfigured handler table there, say). Found keyed by the error's class only by review 20.
     */
    @Test
    @Timeout(60)
    void oneServersUnhandledFloodHidesNoOtherServersFirstNoHandlerWarning() throws Exception {
        long unique = System.nanoTime();
        String serverA = "unix:/tmp/review20-a-" + unique + ".sock";
        String serverB = "unix:/tmp/review20-b-" + unique + ".sock";
        try (EventLoop loop = EventLoop.create("review20-flood");
             Capture log = new Capture(CHANNEL_LOGGER)) {
            MessageChannel[] flood = pair(loop, "client-a", serverA + "#1", MessageChannel.builder(Pipes.codecs()));
            MessageChannel[] other = pair(loop, "client-b", serverB + "#1", MessageChannel.builder(Pipes.codecs()));
            Predicate<String> onA = m -> m.startsWith(serverA) && m.contains("no handler for message type");
            Predicate<String> onB = m -> m.startsWith(serverB) && m.contains("no handler for message type");
            for (int i = 0; i < 25; i++) {
                flood[0].send(Codecs.UTF8, "unhandled " + i);
            }
            spinUntil(() -> log.matching(onA).size() >= 25, "the flood was not reported");
            List<ILoggingEvent> floodEvents = log.matching(onA);
            Assumptions.assumeTrue(floodEvents.get(24).getLevel() == Level.DEBUG,
                    "the flood did not spend its budget (the limiter's window rolled over)");
            other[0].send(Codecs.UTF8, "the first unhandled message server B ever saw");
            spinUntil(() -> log.matching(onB).size() >= 1, "server B's unhandled message was not reported");
            ILoggingEvent first = log.matching(onB).get(0);
            assertEquals(Level.WARN, first.getLevel(), "server B's first unhandled message was logged at " + first.getLevel()
                    + " because server A's peer had spent the budget of its exception class: " + first.getFormattedMessage());
            flood[0].close();
            flood[1].close();
            other[0].close();
            other[1].close();
        }
    }
}
