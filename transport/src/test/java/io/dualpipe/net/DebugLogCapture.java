package io.dualpipe.net;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.function.Predicate;

/** Collects every level of one logger (DEBUG included) while a test runs; restores the level after. */
final class DebugLogCapture implements AutoCloseable {
    private final Logger logger;
    private final Level oldLevel;
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

    DebugLogCapture(String source) {
        logger = (Logger) LoggerFactory.getLogger(source);
        oldLevel = logger.getLevel();
        logger.setLevel(Level.DEBUG);
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

    @Override
    public void close() {
        logger.detachAppender(appender);
        appender.stop();
        logger.setLevel(oldLevel);
    }
}
