package io.dualpipe.core.internal;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import io.dualpipe.core.CallbackFloodLog;
import io.dualpipe.core.EventLoop;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Review 21, adversarial: the bounded "callback threw" log (CallbackFailureLog, LogLimiter's site
 * total). Errors rather than exceptions, concurrent floods, the first failure of a class when others
 * flood, DEBUG off, and class loaders.
 */
class Review21CallbackFailureLogTest {
    private static final String LOGGER = "io.dualpipe.test.Review21CallbackFailureLogTest";

    private final AtomicLong now = new AtomicLong();

    private CallbackFailureLog fresh() {
        return new CallbackFailureLog(new LogLimiter(CallbackFailureLog.PER_CLASS, CallbackFailureLog.PER_SITE, Duration.ofMinutes(1), now::get));
    }

    private static void fail(CallbackFailureLog log, Object callback, int i) {
        log.threw(LoggerFactory.getLogger(LOGGER), callback, new IllegalStateException("bug " + i), "listener {} threw on {}",
                callback.getClass().getSimpleName(), i);
    }

    /** Callback classes of their own: each lambda expression below is a class of its own too. */
    private static List<Runnable> distinctLambdas() {
        return List.of(() -> { }, () -> { }, () -> { }, () -> { }, () -> { }, () -> { }, () -> { }, () -> { }, () -> { },
                () -> { }, () -> { }, () -> { });
    }

    /**
     * Ten buggy classes flooding one site (TaskQueue's log is one static for every loop of the JVM)
     * use up the site total of 200 WARN lines a minute; an eleventh class that throws once is then
     * logged at DEBUG only: its first failure never reaches WARN, for up to a minute.
     */
    @Test
    @Timeout(30)
    void theFirstFailureOfAClassReachesWarnWhileTenOthersFlood() {
        CallbackFailureLog failures = fresh();
        List<Runnable> classes = distinctLambdas();
        try (CallbackFloodLog log = new CallbackFloodLog(LOGGER)) {
            for (int round = 0; round < 1_000; round++) {
                for (int c = 0; c < 10; c++) {
                    fail(failures, classes.get(c), round);
                }
            }
            fail(failures, classes.get(10), -1);
            ILoggingEvent last = log.matching(m -> m.contains("threw on -1")).get(0);
            assertEquals(Level.WARN, last.getLevel(), "the first failure of an 11th class: " + last.getFormattedMessage());
        }
    }

    /** Control: with nine flooding, the tenth's first failure does reach WARN (the per-class bound works). */
    @Test
    @Timeout(30)
    void withNineFloodingTheFirstFailureOfAnotherReachesWarn() {
        CallbackFailureLog failures = fresh();
        List<Runnable> classes = distinctLambdas();
        try (CallbackFloodLog log = new CallbackFloodLog(LOGGER)) {
            for (int round = 0; round < 1_000; round++) {
                for (int c = 0; c < 9; c++) {
                    fail(failures, classes.get(c), round);
                }
            }
            fail(failures, classes.get(10), -1);
            ILoggingEvent last = log.matching(m -> m.contains("threw on -1")).get(0);
            assertEquals(Level.WARN, last.getLevel());
            assertTrue(last.getFormattedMessage().contains("(" + (9_000 - 9 * CallbackFailureLog.PER_CLASS) + " more warnings"),
                    last.getFormattedMessage());
        }
    }

    /** Eight threads flood at once, each with a class of its own: each class gets exactly its budget at WARN, nothing is lost. */
    @Test
    @Timeout(60)
    void concurrentFloodsKeepEachClassToItsBudgetAndLoseNothing() throws Exception {
        CallbackFailureLog failures = fresh();
        List<Runnable> classes = distinctLambdas();
        int threads = 8;
        int each = 3_000;
        try (CallbackFloodLog log = new CallbackFloodLog(LOGGER)) {
            CountDownLatch go = new CountDownLatch(1);
            List<Thread> ts = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                Runnable cls = classes.get(t);
                Thread th = new Thread(() -> {
                    try {
                        go.await();
                    } catch (InterruptedException e) {
                        return;
                    }
                    for (int i = 0; i < each; i++) {
                        fail(failures, cls, i);
                    }
                });
                th.start();
                ts.add(th);
            }
            go.countDown();
            for (Thread th : ts) {
                th.join(30_000);
            }
            List<ILoggingEvent> all = log.matching(m -> m.contains("threw on"));
            assertEquals(threads * each, all.size(), "every failure logged at WARN or DEBUG");
            Map<Object, Long> warnsPerClass = all.stream().filter(e -> e.getLevel() == Level.WARN)
                    .collect(Collectors.groupingBy(e -> e.getArgumentArray()[0], Collectors.counting()));
            assertEquals(threads, warnsPerClass.size(), String.valueOf(warnsPerClass));
            warnsPerClass.values().forEach(n -> assertEquals((long) CallbackFailureLog.PER_CLASS, n, String.valueOf(warnsPerClass)));
            long noted = all.stream().filter(e -> e.getLevel() == Level.WARN)
                    .map(ILoggingEvent::getFormattedMessage).filter(m -> m.contains(" more warnings"))
                    .mapToLong(m -> Long.parseLong(m.substring(m.lastIndexOf('(') + 1, m.indexOf(" more warnings")))).sum();
            long debug = all.stream().filter(e -> e.getLevel() == Level.DEBUG).count();
            assertTrue(noted <= debug, "notes count " + noted + " suppressed, only " + debug + " were");
        }
    }

    /** With DEBUG off the suppressed failures write nothing, and the next WARN still counts them. */
    @Test
    @Timeout(30)
    void withDebugOffTheRestWriteNothingAndAreCounted() {
        CallbackFailureLog failures = fresh();
        ch.qos.logback.classic.Logger lb = (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(LOGGER);
        try (CallbackFloodLog log = new CallbackFloodLog(LOGGER)) {
            lb.setLevel(Level.INFO);
            List<Runnable> classes = distinctLambdas();
            for (int i = 0; i < 100; i++) {
                fail(failures, classes.get(0), i);
            }
            fail(failures, classes.get(1), -1);
            List<ILoggingEvent> all = log.matching(m -> m.contains("threw on"));
            assertEquals(CallbackFailureLog.PER_CLASS + 1, all.size());
            assertTrue(all.stream().allMatch(e -> e.getLevel() == Level.WARN));
            assertTrue(all.get(all.size() - 1).getFormattedMessage().contains("(" + (100 - CallbackFailureLog.PER_CLASS) + " more warnings"),
                    all.get(all.size() - 1).getFormattedMessage());
        }
    }

    /**
     * Tasks that throw Errors (a real StackOverflowError, an AssertionError, an OutOfMemoryError
     * object, a LinkageError) are logged with their throwable and the loop goes on serving.
     */
    @Test
    @Timeout(30)
    void errorsFromTasksAreLoggedAndTheLoopSurvives() throws Exception {
        try (CallbackFloodLog log = new CallbackFloodLog(SingleThreadEventLoop.class);
             EventLoop loop = EventLoop.create("r21-errors")) {
            List<Supplier<Throwable>> errors = List.of(
                    () -> new AssertionError("r21 assert"),
                    () -> new OutOfMemoryError("r21 oom"),
                    () -> new NoClassDefFoundError("r21 ncdfe"));
            for (Supplier<Throwable> e : errors) {
                loop.execute(() -> sneaky(e.get()));
            }
            loop.execute(Review21CallbackFailureLogTest::recurse);
            CompletableFuture<Void> after = new CompletableFuture<>();
            loop.execute(() -> after.complete(null));
            after.get(10, TimeUnit.SECONDS);
            List<ILoggingEvent> threw = log.matching(m -> m.contains("r21-errors") && m.contains("threw"));
            assertEquals(4, threw.size(), threw.toString());
            List<String> kinds = threw.stream().map(e -> e.getThrowableProxy().getClassName()).toList();
            assertEquals(List.of(AssertionError.class.getName(), OutOfMemoryError.class.getName(), NoClassDefFoundError.class.getName(),
                    StackOverflowError.class.getName()), kinds);
            // and timers still run after a stack overflow
            CompletableFuture<Void> timer = new CompletableFuture<>();
            loop.schedule(() -> timer.complete(null), 1, TimeUnit.MILLISECONDS);
            timer.get(5, TimeUnit.SECONDS);
        }
    }

    private static int depth;

    private static void recurse() {
        depth++;
        recurse();
    }

    @SuppressWarnings("unchecked")
    private static <T extends Throwable> void sneaky(Throwable t) throws T {
        throw (T) t;
    }

    /** The limiter keys by class name: a callback class of a dropped class loader can be collected. */
    @Test
    @Timeout(60)
    void aCallbackOfAThrowawayClassLoaderIsNotKeptReachable() throws Exception {
        CallbackFailureLog failures = fresh();
        Logger quiet = LoggerFactory.getLogger(LOGGER + ".quiet");
        ((ch.qos.logback.classic.Logger) quiet).setLevel(Level.ERROR);
        WeakReference<ClassLoader> loaderRef;
        try {
            loaderRef = throwFromThrowawayLoader(failures, quiet);
            for (int i = 0; i < 200 && loaderRef.get() != null; i++) {
                System.gc();
                new CountDownLatch(1).await(10, TimeUnit.MILLISECONDS); // gives the reference handler a turn
            }
            assertNull(loaderRef.get(), "the throwaway class loader is still reachable");
        } finally {
            ((ch.qos.logback.classic.Logger) quiet).setLevel(null);
        }
    }

    private static WeakReference<ClassLoader> throwFromThrowawayLoader(CallbackFailureLog failures, Logger log) throws Exception {
        ClassLoader loader = new ThrowawayLoader(Review21CallbackFailureLogTest.class.getClassLoader());
        Class<?> cls = loader.loadClass(Thrower.class.getName());
        assertEquals(loader, cls.getClassLoader());
        Runnable r = (Runnable) cls.getDeclaredConstructor().newInstance();
        try {
            r.run();
        } catch (RuntimeException e) {
            failures.threw(log, r, e, "callback {} threw", "thrower");
        }
        return new WeakReference<>(loader);
    }

    /** Loaded again by {@link ThrowawayLoader}: a class of the same name in another loader. */
    public static final class Thrower implements Runnable {
        @Override
        public void run() {
            throw new IllegalStateException("thrower");
        }
    }

    private static final class ThrowawayLoader extends ClassLoader {
        ThrowawayLoader(ClassLoader parent) {
            super(parent);
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            if (!name.equals(Thrower.class.getName())) {
                return super.loadClass(name, resolve);
            }
            synchronized (getClassLoadingLock(name)) {
                Class<?> c = findLoadedClass(name);
                if (c != null) {
                    return c;
                }
                try (InputStream in = getParent().getResourceAsStream(name.replace('.', '/') + ".class")) {
                    assertNotNull(in);
                    byte[] b = in.readAllBytes();
                    return defineClass(name, b, 0, b.length);
                } catch (IOException e) {
                    throw new ClassNotFoundException(name, e);
                }
            }
        }
    }
}
