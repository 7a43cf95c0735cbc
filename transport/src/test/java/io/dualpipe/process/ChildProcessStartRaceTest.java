package io.dualpipe.process;

import io.dualpipe.Leaks;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.read.ListAppender;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopClosedException;
import io.dualpipe.core.internal.Native;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.LoggerFactory;

import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * start() racing a loop close: when the loop closes after the spawn but while the child's streams
 * are being set up, start() kills and reaps the child and closes its fds, each exactly once. Closing
 * an fd that a stream still owns by number as well closed whatever file reused the number meanwhile
 * (here another thread's pipe), and made streams register closed fds (epoll_ctl EBADF).
 */
class ChildProcessStartRaceTest {

    @Test
    @Timeout(120)
    void startRacingALoopCloseClosesEachFdOnce() throws Exception {
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        log.start();
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.addAppender(log);
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger brokenPipes = new AtomicInteger();
        Thread churner = new Thread(() -> churnPipes(stop, brokenPipes), "pipe-churner");
        AtomicInteger started = new AtomicInteger();
        AtomicInteger refused = new AtomicInteger();
        race(20, started, refused); // the JVM opens a few files of its own on first use (/dev/random ...)
        Leaks.Baseline fdsBefore = Leaks.baseline();
        refused.set(0);
        try {
            churner.start();
            race(1000, started, refused);
        } finally {
            stop.set(true);
            churner.join();
            root.detachAppender(log);
        }
        List<String> badFds = new ArrayList<>();
        List<ILoggingEvent> events;
        synchronized (log) { // an append still in flight on a loop thread holds this monitor
            events = new ArrayList<>(log.list);
        }
        for (ILoggingEvent e : events) {
            for (IThrowableProxy t = e.getThrowableProxy(); t != null; t = t.getCause()) {
                if (t.getMessage() != null && t.getMessage().contains("EBADF")) {
                    badFds.add(e.getFormattedMessage() + ": " + t.getMessage());
                }
            }
        }
        assertEquals(List.of(), badFds, "streams registered fds that had been closed under them");
        assertEquals(0, brokenPipes.get(), "another thread's pipes were closed under it");
        assertEquals(1000, refused.get());
        assertTrue(started.get() > 0);
        Leaks.awaitNoFdsBeyond(fdsBefore);
        Leaks.assertNoZombies(fdsBefore);
    }

    /** Rounds of: a thread starts children on a loop until it is refused, while this one closes the loop. */
    private static void race(int rounds, AtomicInteger started, AtomicInteger refused) throws InterruptedException {
        for (int i = 0; i < rounds; i++) {
            EventLoop loop = EventLoop.create("start-race");
            Thread starter = new Thread(() -> {
                while (true) {
                    try {
                        ChildProcess.builder("true").loop(loop).start();
                        started.incrementAndGet();
                    } catch (LoopClosedException e) {
                        refused.incrementAndGet();
                        return;
                    }
                }
            }, "starter");
            starter.start();
            LockSupport.parkNanos((i % 20) * 200_000L); // spreads the close over the start's phases
            loop.close();
            starter.join();
        }
    }

    /** Keeps opening pipes and checks each carries bytes; counts the ones whose fds vanished under it. */
    private static void churnPipes(AtomicBoolean stop, AtomicInteger broken) {
        ByteBuffer buf = ByteBuffer.allocateDirect(1);
        long address = Native.address(buf);
        int[] p = new int[2];
        while (!stop.get()) {
            if (Native.LIBC.pipe2(p, Native.O_CLOEXEC) != 0) {
                continue;
            }
            for (int k = 0; k < 50; k++) {
                if (Native.LIBC.write(p[1], address, 1) != 1 || Native.LIBC.read(p[0], address, 1) != 1) {
                    broken.incrementAndGet();
                    break;
                }
            }
            Native.closeQuietly(p[0]);
            Native.closeQuietly(p[1]);
        }
        Reference.reachabilityFence(buf); // the address is used above; keep the buffer's memory alive
    }
}
