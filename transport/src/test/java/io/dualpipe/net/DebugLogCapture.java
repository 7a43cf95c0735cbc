package io.dualpipe.net;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.dualpipe.core.internal.CallbackFailureLog;
import org.junit.jupiter.api.Assumptions;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Collects every level of one logger (DEBUG included) while a test runs, here only (a flood's DEBUG
 * lines would otherwise fill the console); restores the level after.
 */
final class DebugLogCapture implements AutoCloseable {
    /** WARN lines per callback class and minute (CallbackFailureLog). */
    static final int CALLBACK_BUDGET = CallbackFailureLog.PER_CLASS;

    private final Logger logger;
    private final Level oldLevel;
    private final boolean oldAdditive;
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

    DebugLogCapture(String source) {
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

    long count(Level level, Predicate<String> message) {
        return matching(message).stream().filter(e -> e.getLevel() == level).count();
    }

    /**
     * Asserts that {@code thrown} failures of one callback class were logged, each once, at most
     * {@link #CALLBACK_BUDGET} at WARN (the first with its stack trace), the rest at DEBUG. A flood
     * shorter than the limiter's minute spans at most two of its windows; a run in which the window
     * rolled over proves no more than twice the budget, so it is skipped rather than failed.
     */
    void assertCallbackFailuresBounded(Predicate<String> message, int thrown) throws InterruptedException {
        TestSupport.eventually(Duration.ofSeconds(30), thrown + " failures logged", () -> matching(message).size() >= thrown);
        List<ILoggingEvent> events = matching(message);
        assertEquals(thrown, events.size(), "each failure logged once, at WARN or DEBUG");
        List<ILoggingEvent> warned = events.stream().filter(e -> e.getLevel() == Level.WARN).toList();
        assertFalse(warned.isEmpty(), "no failure of " + thrown + " logged at WARN");
        assertNotNull(warned.get(0).getThrowableProxy(), "the first WARN line without its stack trace");
        assertTrue(events.stream().allMatch(e -> e.getLevel() == Level.WARN || e.getLevel() == Level.DEBUG),
                "a failure logged at another level");
        assertTrue(warned.size() <= 2 * CALLBACK_BUDGET, warned.size() + " WARN lines for " + thrown + " failures of one callback class");
        Assumptions.assumeTrue(warned.size() <= CALLBACK_BUDGET, "the limiter's minute rolled over during the flood");
    }

    /** Asserts that the first event passing {@code message} is at WARN, with its stack trace. */
    void assertFirstWarned(Predicate<String> message) throws InterruptedException {
        TestSupport.eventually(Duration.ofSeconds(30), "a log event", () -> !matching(message).isEmpty());
        ILoggingEvent first = matching(message).get(0);
        assertEquals(Level.WARN, first.getLevel(), "a different callback class's first failure: " + first.getFormattedMessage());
        assertNotNull(first.getThrowableProxy(), "its stack trace");
    }

    @Override
    public void close() {
        logger.detachAppender(appender);
        appender.stop();
        logger.setLevel(oldLevel);
        logger.setAdditive(oldAdditive);
    }
}
