package io.dualpipe.core.message;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.codec.Codecs;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.function.Predicate;

import static io.dualpipe.core.message.Review18Support.spinUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Review 19 of the bounded warnings (0f9fe28): the default error listener's 20 WARN lines a minute
 * are one budget for the whole JVM and every kind of error it reports. A peer that sends messages
 * nobody handles spends it; after that, a handler that throws, a bug in this process and on another
 * channel entirely, is logged only at DEBUG: invisible at the usual WARN/INFO level for up to a
 * minute, and the later note ("N more like it") counts it as like the flood.
 */
class Review19WarnBudgetTest {
    private static final String CHANNEL_LOGGER = "io.dualpipe.core.message.internal.DefaultMessageChannel";

    /** Captures every level of one logger for the test's duration. */
    static final class Capture implements AutoCloseable {
        final Logger logger;
        final Level oldLevel;
        final ListAppender<ILoggingEvent> appender = new ListAppender<>();

        Capture(String source) {
            logger = (Logger) LoggerFactory.getLogger(source);
            oldLevel = logger.getLevel();
            logger.setLevel(Level.DEBUG);
            appender.start();
            logger.addAppender(appender);
        }

        List<ILoggingEvent> matching(Predicate<String> message) {
            synchronized (appender) {
                return appender.list.stream().filter(e -> message.test(e.getFormattedMessage())).toList();
            }
        }

        @Override
        public void close() {
            logger.detachAppender(appender);
            appender.stop();
            logger.setLevel(oldLevel);
        }
    }

    @Test
    @Timeout(60)
    void aFloodOfUnhandledMessagesOnOneChannelHidesNoHandlerThatThrowsOnAnother() throws Exception {
        try (EventLoop loop = EventLoop.create("review19-warn");
             Capture log = new Capture(CHANNEL_LOGGER)) {
            // The flooding peer: sends one-way messages of a type its peer has no handler for.
            Pipes flood = new Pipes(loop, MessageChannel.builder(Pipes.codecs()), MessageChannel.builder(Pipes.codecs()));
            // Another connection, whose handler has a bug.
            Pipes victim = new Pipes(loop, MessageChannel.builder(Pipes.codecs()), MessageChannel.builder(Pipes.codecs())
                    .handle(Codecs.UTF8, String.class, (ctx, s) -> {
                        throw new IllegalStateException("bug in our handler for '" + s + "'");
                    }));
            Predicate<String> unhandled = m -> m.contains("no handler for message type");
            Predicate<String> threw = m -> m.contains("threw") && m.contains("bug in our handler");
            for (int i = 0; i < 25; i++) {
                flood.a.send(Codecs.UTF8, "unhandled " + i);
            }
            spinUntil(() -> log.matching(unhandled).size() >= 25, "the flood was not reported");
            victim.a.send(Codecs.UTF8, "boom");
            spinUntil(() -> log.matching(threw).size() >= 1, "the handler's failure was not reported");
            flood.a.send(Codecs.UTF8, "probe");
            spinUntil(() -> log.matching(unhandled).size() >= 26, "the probe was not reported");
            List<ILoggingEvent> floodEvents = log.matching(unhandled);
            // The budget is per JVM: if its minute rolled over between the flood and the probe, this run proves nothing.
            Assumptions.assumeTrue(floodEvents.get(floodEvents.size() - 1).getLevel() == Level.DEBUG,
                    "the limiter's window rolled over during the test");
            ILoggingEvent handlerFailure = log.matching(threw).get(0);
            assertEquals(Level.WARN, handlerFailure.getLevel(),
                    "a handler that threw (our own bug, on another channel) was logged at " + handlerFailure.getLevel()
                            + " because a peer's unhandled messages had spent the shared budget: " + handlerFailure.getFormattedMessage());
            flood.a.close();
            flood.b.close();
            victim.a.close();
            victim.b.close();
        }
    }
}
