package io.dualpipe.nats;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.junit.jupiter.api.Assumptions;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Collects every level of one logger (DEBUG included), here only (a flood's DEBUG lines would
 * otherwise fill the console), while a test runs; restores the logger after.
 */
final class LogCapture implements AutoCloseable {
    /** WARN lines per key and minute of a bounded log site (LogLimiter, CallbackFailureLog). */
    static final int BUDGET = 20;

    private final Logger logger;
    private final Level oldLevel;
    private final boolean oldAdditive;
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

    LogCapture(String source) {
        logger = (Logger) LoggerFactory.getLogger(source);
        oldLevel = logger.getLevel();
        oldAdditive = logger.isAdditive();
        logger.setLevel(Level.DEBUG);
        logger.setAdditive(false);
        appender.start();
        logger.addAppender(appender);
    }

    /** The events so far whose formatted message passes {@code message}, in order. */
    List<ILoggingEvent> matching(Predicate<String> message) {
        synchronized (appender) { // AppenderBase.doAppend holds the appender's monitor; the list is a plain ArrayList
            return appender.list.stream().filter(e -> message.test(e.getFormattedMessage())).toList();
        }
    }

    /**
     * Asserts that {@code events} events of one key were logged, each once, at most {@link #BUDGET}
     * at WARN, the rest at DEBUG. A flood shorter than the limiter's minute spans at most two of its
     * windows; a run in which the window rolled over proves no more than twice the budget, so it is
     * skipped rather than failed.
     */
    void assertBounded(Predicate<String> message, int events) {
        Fixtures.await(events + " log events", () -> matching(message).size() >= events);
        List<ILoggingEvent> logged = matching(message);
        assertEquals(events, logged.size(), "each event logged once, at WARN or DEBUG");
        long warned = logged.stream().filter(e -> e.getLevel() == Level.WARN).count();
        assertFalse(warned == 0, "none of " + events + " logged at WARN");
        assertTrue(logged.stream().allMatch(e -> e.getLevel() == Level.WARN || e.getLevel() == Level.DEBUG),
                "an event logged at another level");
        assertTrue(warned <= 2 * BUDGET, warned + " WARN lines for " + events + " events of one key");
        Assumptions.assumeTrue(warned <= BUDGET, "the limiter's minute rolled over during the flood");
    }

    /** Asserts that the first event passing {@code message} is at WARN. */
    void assertFirstWarned(Predicate<String> message) {
        Fixtures.await("a log event", () -> !matching(message).isEmpty());
        ILoggingEvent first = matching(message).get(0);
        assertEquals(Level.WARN, first.getLevel(), first.getFormattedMessage());
    }

    @Override
    public void close() {
        logger.detachAppender(appender);
        appender.stop();
        logger.setLevel(oldLevel);
        logger.setAdditive(oldAdditive);
    }
}
