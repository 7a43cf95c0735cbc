package io.dualpipe.core.internal;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import io.dualpipe.core.CallbackFloodLog;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The bound on "callback threw" lines, on a clock of the test's own. */
class CallbackFailureLogTest {
    private static final String LOGGER = "io.dualpipe.test.CallbackFailureLogTest";
    private static final int PER_CLASS = CallbackFailureLog.PER_CLASS;

    private final AtomicLong now = new AtomicLong();
    private final CallbackFailureLog failures = new CallbackFailureLog(
            new LogLimiter(PER_CLASS, CallbackFailureLog.PER_SITE, Duration.ofMinutes(1), now::get));

    private static final class BuggyListener {
    }

    private static final class OtherListener {
    }

    private void fail(Object callback, int i) {
        failures.threw(LoggerFactory.getLogger(LOGGER), callback, new IllegalStateException("bug " + i), "listener {} threw on event {}",
                callback == null ? "none" : callback.getClass().getSimpleName(), i);
    }

    @Test
    void eachClassLogsItsBudgetAtWarnWithTheStackTraceTheRestAtDebugAndTheNextWarnCountsThem() {
        try (CallbackFloodLog log = new CallbackFloodLog(LOGGER)) {
            for (int i = 0; i < 10_000; i++) {
                fail(new BuggyListener(), i);
            }
            fail(new OtherListener(), -1);
            List<ILoggingEvent> all = log.matching(m -> m.contains("threw"));
            assertEquals(10_001, all.size());
            List<ILoggingEvent> warned = all.stream().filter(e -> e.getLevel() == Level.WARN).toList();
            assertEquals(PER_CLASS + 1, warned.size(), "the buggy class's budget, and the other class's first failure");
            for (int i = 0; i < PER_CLASS; i++) {
                assertEquals("listener BuggyListener threw on event " + i, warned.get(i).getFormattedMessage());
                assertEquals("bug " + i, warned.get(i).getThrowableProxy().getMessage(), "the stack trace rides with the line");
            }
            assertTrue(warned.get(PER_CLASS).getFormattedMessage().startsWith("listener OtherListener threw on event -1 ("
                    + (10_000 - PER_CLASS) + " more warnings from here not logged at WARN"), warned.get(PER_CLASS).getFormattedMessage());
            ILoggingEvent quiet = all.get(PER_CLASS);
            assertEquals(Level.DEBUG, quiet.getLevel());
            assertEquals("listener BuggyListener threw on event " + PER_CLASS, quiet.getFormattedMessage());
            assertNotNull(quiet.getThrowableProxy(), "DEBUG keeps the stack trace");

            now.addAndGet(Duration.ofMinutes(1).toNanos()); // a new window: the buggy class is heard again
            fail(new BuggyListener(), 10_000);
            ILoggingEvent again = log.matching(m -> m.contains("event 10000")).get(0);
            assertEquals(Level.WARN, again.getLevel());
        }
    }

    @Test
    void aSiteLogsAtMostItsTotalAMinutePlusEachClasssFirstFailure() {
        try (CallbackFloodLog log = new CallbackFloodLog(LOGGER)) {
            // One class per lambda site is the usual case; many distinct classes are simulated by arrays of ranks.
            Object[] callbacks = {new int[0], new int[0][], new int[0][][], new long[0], new long[0][], new long[0][][],
                    new byte[0], new byte[0][], new byte[0][][], new char[0], new char[0][], new char[0][][]};
            for (Object c : callbacks) {
                for (int i = 0; i < 100; i++) {
                    fail(c, i);
                }
            }
            long warned = log.matching(m -> m.contains("threw")).stream().filter(e -> e.getLevel() == Level.WARN).count();
            // The total (10 classes' worth), plus the first failure of each class past it: the 11th and 12th.
            assertEquals(CallbackFailureLog.PER_SITE + 2, warned);
        }
    }

    @Test
    void theCallerDataNamesTheCatchSiteNotTheHelper() {
        ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(LOGGER);
        List<StackTraceElement[]> callers = new ArrayList<>();
        AppenderBase<ILoggingEvent> appender = new AppenderBase<>() {
            @Override
            protected void append(ILoggingEvent e) {
                callers.add(e.getCallerData()); // computed from the stack at hand: now, in the logging call
            }
        };
        appender.start();
        logger.addAppender(appender);
        try {
            fail(new BuggyListener(), 0);
        } finally {
            logger.detachAppender(appender);
            appender.stop();
        }
        assertEquals(1, callers.size());
        assertEquals(CallbackFailureLogTest.class.getName(), callers.get(0)[0].getClassName());
        assertEquals("fail", callers.get(0)[0].getMethodName());
    }

    @Test
    void aNullCallbackIsLoggedToo() {
        try (CallbackFloodLog log = new CallbackFloodLog(LOGGER)) {
            fail(null, 7);
            assertEquals(Level.WARN, log.matching(m -> m.contains("listener none threw on event 7")).get(0).getLevel());
        }
    }

    @Test
    void aLoggerWithoutLocationsGetsTheThrowableAsItsLastArgument() {
        List<Object[]> calls = new ArrayList<>();
        Logger plain = (Logger) Proxy.newProxyInstance(Logger.class.getClassLoader(), new Class<?>[] {Logger.class}, (p, m, args) -> {
            switch (m.getName()) {
                case "warn" -> {
                    calls.add(args);
                    return null;
                }
                case "isDebugEnabled" -> {
                    return true;
                }
                case "debug" -> {
                    calls.add(args);
                    return null;
                }
                default -> {
                    return m.getReturnType() == boolean.class ? false : null;
                }
            }
        });
        CallbackFailureLog site = new CallbackFailureLog(new LogLimiter(1, 1, Duration.ofMinutes(1), now::get));
        IllegalStateException bug = new IllegalStateException("bug");
        site.threw(plain, this, bug, "{} threw", "x");
        site.threw(plain, this, bug, "{} threw", "x");
        assertEquals(2, calls.size());
        assertEquals("{} threw{}", calls.get(0)[0]);
        Object[] warnArgs = (Object[]) calls.get(0)[1];
        assertEquals(List.of("x", ""), List.of(warnArgs[0], warnArgs[1]));
        assertSame(bug, warnArgs[2]);
        assertEquals("{} threw", calls.get(1)[0]);
        Object[] debugArgs = (Object[]) calls.get(1)[1];
        assertEquals("x", debugArgs[0]);
        assertSame(bug, debugArgs[1]);
    }
}
