package io.dualpipe.core;

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
 * Captures one logger at every level, and only here (not on the console: a flood's DEBUG lines would
 * fill the test output), while a test makes a callback throw again and again; checks that its
 * failures were logged as {@link CallbackFailureLog} bounds them.
 */
public final class CallbackFloodLog implements AutoCloseable {
    /** WARN lines per callback class and minute. */
    public static final int BUDGET = CallbackFailureLog.PER_CLASS;

    private final Logger logger;
    private final Level oldLevel;
    private final boolean oldAdditive;
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

    public CallbackFloodLog(String loggerName) {
        logger = (Logger) LoggerFactory.getLogger(loggerName);
        oldLevel = logger.getLevel();
        oldAdditive = logger.isAdditive();
        logger.setLevel(Level.DEBUG);
        logger.setAdditive(false);
        appender.start();
        logger.addAppender(appender);
    }

    public CallbackFloodLog(Class<?> source) {
        this(source.getName());
    }

    /** The events so far whose formatted message passes {@code message}, in order. */
    public List<ILoggingEvent> matching(Predicate<String> message) {
        synchronized (appender) { // AppenderBase.doAppend holds the appender's monitor; the list is a plain ArrayList
            return appender.list.stream().filter(e -> message.test(e.getFormattedMessage())).toList();
        }
    }

    /** Waits (bounded) until {@code n} events pass {@code message}. */
    public void awaitCount(Predicate<String> message, int n) {
        TestSupport.await(n + " log events", Duration.ofSeconds(30), () -> matching(message).size() >= n);
    }

    /**
     * Asserts that {@code thrown} failures were logged, each once, at most {@link #BUDGET} of them at
     * WARN (the first with its stack trace) and the rest at DEBUG. The limiter counts per minute: a
     * flood shorter than that spans at most two of its windows, and a run in which the window rolled
     * over proves nothing more than twice the budget, so it is skipped rather than failed.
     */
    public void assertBounded(Predicate<String> message, int thrown) {
        awaitCount(message, thrown);
        List<ILoggingEvent> events = matching(message);
        assertEquals(thrown, events.size(), "each failure logged once, at WARN or DEBUG");
        List<ILoggingEvent> warned = events.stream().filter(e -> e.getLevel() == Level.WARN).toList();
        assertFalse(warned.isEmpty(), "no failure of " + thrown + " logged at WARN");
        assertNotNull(warned.get(0).getThrowableProxy(), "the first WARN line without its stack trace");
        assertTrue(events.stream().allMatch(e -> e.getLevel() == Level.WARN || e.getLevel() == Level.DEBUG),
                "a failure logged at another level");
        assertTrue(warned.size() <= 2 * BUDGET, warned.size() + " WARN lines for " + thrown + " failures of one callback class");
        Assumptions.assumeTrue(warned.size() <= BUDGET, "the limiter's minute rolled over during the flood");
    }

    /** Asserts that the first event passing {@code message} is at WARN, with its stack trace. */
    public void assertFirstWarned(Predicate<String> message) {
        awaitCount(message, 1);
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
