package io.dualpipe.core;

import io.dualpipe.core.internal.EpollSelectorProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static java.nio.channels.SelectionKey.OP_READ;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Many fds, many threads: nothing crashes, no key is lost, and every fd comes back. */
class FdLeakTest {

    @Test
    @Timeout(120)
    void registerCancelFromFourThreadsWhileAnotherSelects() throws Exception {
        var baseline = TestSupport.fdSnapshot();
        int threads = 4;
        int cyclesPerThread = 2_500; // 10,000 register/cancel cycles in all
        Selector selector = EpollSelectorProvider.INSTANCE.openSelector();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong selects = new AtomicLong();
        Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
        Thread selecting = new Thread(() -> {
            try {
                while (!stop.get()) {
                    selector.select(k -> {
                        // a registered read end with data: drain it so it does not stay ready
                        try {
                            ((FdChannel) k.channel()).read(ByteBuffer.allocate(64));
                        } catch (IOException | RuntimeException ignored) {
                            // closed by its owner meanwhile
                        }
                    }, 5);
                    selects.incrementAndGet();
                }
            } catch (Throwable t) {
                failures.add(t);
            }
        }, "stress-selector");
        selecting.start();

        List<Thread> workers = new ArrayList<>();
        AtomicInteger cycles = new AtomicInteger();
        for (int w = 0; w < threads; w++) {
            int id = w;
            Thread t = new Thread(() -> {
                try {
                    FdChannel[] reused = FdChannel.pipe();
                    for (int i = 0; i < cyclesPerThread; i++) {
                        // even cycles: a fresh pipe each time; odd: the same channel re-registered
                        boolean fresh = i % 2 == 0;
                        FdChannel[] p = fresh ? FdChannel.pipe() : reused;
                        if (!fresh) {
                            TestSupport.await("previous key of the reused channel deregistered", () -> !p[0].isRegistered());
                        }
                        SelectionKey key = p[0].register(selector, OP_READ, id);
                        if (i % 3 == 0) {
                            p[1].write(ByteBuffer.wrap(new byte[] {1}));
                        }
                        if (i % 5 == 0) {
                            selector.wakeup();
                        }
                        if (!key.isValid() || key.interestOps() != OP_READ || !selector.keys().contains(key)) {
                            throw new AssertionError("key lost before cancel: " + key);
                        }
                        key.interestOps(0);
                        key.interestOps(OP_READ);
                        key.cancel();
                        if (fresh) {
                            p[0].close();
                            p[1].close();
                        }
                        cycles.incrementAndGet();
                    }
                    reused[0].close();
                    reused[1].close();
                } catch (Throwable e) {
                    failures.add(e);
                }
            }, "stress-worker-" + w);
            workers.add(t);
            t.start();
        }
        for (Thread t : workers) {
            t.join(100_000);
            assertFalse(t.isAlive(), t.getName() + " hung");
        }
        stop.set(true);
        selector.wakeup();
        selecting.join(10_000);
        assertTrue(failures.isEmpty(), () -> "failures: " + failures);
        assertEquals(threads * cyclesPerThread, cycles.get());
        assertTrue(selects.get() > 0);

        selector.selectNow();
        assertTrue(selector.keys().isEmpty(), "keys left: " + selector.keys());
        selector.close();
        TestSupport.assertFdsBackTo(baseline);
    }

    /**
     * A channel closed by one thread while another registers it: the registration either wins (and
     * the close then deregisters it) or fails with ClosedChannelException; never a native error from
     * an epoll_ctl on an fd that close released under it.
     */
    @Test
    @Timeout(120)
    void registerRacingChannelClose() throws Exception {
        var baseline = TestSupport.fdSnapshot();
        Selector selector = EpollSelectorProvider.INSTANCE.openSelector();
        int rounds = 5_000;
        CyclicBarrier start = new CyclicBarrier(2);
        CyclicBarrier done = new CyclicBarrier(2);
        FdChannel[][] current = new FdChannel[1][];
        Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
        Thread closer = new Thread(() -> {
            try {
                for (int i = 0; i < rounds; i++) {
                    start.await();
                    spin(i * 7 % 97);
                    current[0][0].close();
                    done.await();
                }
            } catch (Throwable e) {
                failures.add(e);
            }
        }, "race-closer");
        closer.start();
        int registered = 0;
        int refused = 0;
        for (int i = 0; i < rounds && failures.isEmpty(); i++) {
            FdChannel[] p = FdChannel.pipe();
            current[0] = p;
            start.await(10, TimeUnit.SECONDS);
            spin(i * 13 % 89);
            try {
                p[0].register(selector, OP_READ);
                registered++;
            } catch (ClosedChannelException e) {
                refused++;
            } catch (CancelledKeyException e) {
                refused++; // the close cancelled the key between register's steps
            } catch (Throwable e) {
                failures.add(e);
            }
            done.await(10, TimeUnit.SECONDS);
            p[1].close();
            selector.selectNow();
            if (p[0].isRegistered()) {
                failures.add(new AssertionError("round " + i + ": closed channel still registered"));
            }
        }
        closer.join(10_000);
        assertTrue(failures.isEmpty(), () -> "failures: " + failures);
        assertEquals(rounds, registered + refused);
        selector.selectNow();
        assertTrue(selector.keys().isEmpty());
        selector.close();
        TestSupport.assertFdsBackTo(baseline);
    }

    /**
     * A selector closed by one thread while another registers channels with it: every key ends
     * cancelled and deregistered, and closing the channels afterwards releases every fd.
     */
    @Test
    @Timeout(120)
    void registerRacingSelectorClose() throws Exception {
        var baseline = TestSupport.fdSnapshot();
        int rounds = 2_000;
        int perRound = 4;
        CyclicBarrier start = new CyclicBarrier(2);
        CyclicBarrier done = new CyclicBarrier(2);
        Selector[] current = new Selector[1];
        Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
        Thread closer = new Thread(() -> {
            try {
                for (int i = 0; i < rounds; i++) {
                    start.await();
                    spin(i * 7 % 97);
                    current[0].close();
                    done.await();
                }
            } catch (Throwable e) {
                failures.add(e);
            }
        }, "race-selclose");
        closer.start();
        for (int i = 0; i < rounds && failures.isEmpty(); i++) {
            Selector selector = EpollSelectorProvider.INSTANCE.openSelector();
            current[0] = selector;
            List<FdChannel[]> pipes = new ArrayList<>();
            for (int j = 0; j < perRound; j++) {
                pipes.add(FdChannel.pipe());
            }
            start.await(10, TimeUnit.SECONDS);
            spin(i * 13 % 89);
            for (FdChannel[] p : pipes) {
                try {
                    p[0].register(selector, OP_READ);
                } catch (ClosedSelectorException e) {
                    // lost the race: fine
                } catch (Throwable e) {
                    failures.add(e);
                }
            }
            done.await(10, TimeUnit.SECONDS);
            for (FdChannel[] p : pipes) {
                if (p[0].isRegistered()) {
                    failures.add(new AssertionError("round " + i + ": " + p[0] + " still registered with a closed selector"));
                }
                p[0].close();
                p[1].close();
            }
        }
        closer.join(10_000);
        assertTrue(failures.isEmpty(), () -> "failures: " + failures.size() + " first: " + failures.peek());
        TestSupport.assertFdsBackTo(baseline);
    }

    /** Busy work of a varying length, so two racing threads meet at different points of their paths. */
    private static void spin(int n) {
        for (int i = 0; i < n * 10; i++) {
            Thread.onSpinWait();
        }
    }

    @Test
    @Timeout(120)
    void thousandPipesInOneLoopAllComeBack() throws Exception {
        manyPipesInOneLoop(1_000);
    }

    @Test
    @Timeout(300)
    void tenThousandPipesInOneLoopAllComeBack() throws Exception {
        int pipes = 10_000;
        long limit = TestSupport.softFdLimit();
        if (limit >= 2L * pipes + 1_000) {
            manyPipesInOneLoop(pipes);
        } else {
            // Anonymous pipes cost two fds each; named pipes (FIFOs) opened for reading cost one, so
            // 10,000 of them fit under this machine's limit while still being 10,000 registered pipes.
            manyFifosInOneLoop(pipes, limit);
        }
    }

    /** libc calls the FIFO variant needs; the core binds only what the library itself uses. */
    public interface FifoLibC {
        int mkfifo(String path, int mode);

        int open(String path, int flags);
    }

    private static final FifoLibC FIFO_LIBC = jnr.ffi.LibraryLoader.create(FifoLibC.class).load("c");

    private void manyFifosInOneLoop(int count, long limit) throws Exception {
        assumeTrue(limit >= count + 1_000, "RLIMIT_NOFILE soft limit is " + limit + "; " + count + " FIFOs need more");
        java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("dualpipe-fifos");
        var baseline = TestSupport.fdSnapshot();
        AtomicInteger closedSeen = new AtomicInteger();
        AtomicInteger readySeen = new AtomicInteger();
        String name = "many-fifos-" + count;
        EventLoop loop = EventLoop.create(name);
        try {
            List<LoopFuture<SelectionKey>> keys = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                String path = dir.resolve("f" + i).toString();
                assertEquals(0, FIFO_LIBC.mkfifo(path, 0600), "mkfifo " + path);
                int fd = FIFO_LIBC.open(path, io.dualpipe.core.internal.Native.O_CLOEXEC | io.dualpipe.core.internal.Native.O_NONBLOCK);
                assertTrue(fd >= 0, "open " + path);
                FdChannel reader = new FdChannel(fd, OP_READ);
                SelectionKey[] key = new SelectionKey[1];
                LoopFuture<SelectionKey> k = loop.register(reader, OP_READ, new IoHandler() {
                    final ByteBuffer buf = ByteBuffer.allocate(16);

                    public void ready(int ops) {
                        try {
                            int n = reader.read(buf.clear());
                            if (n > 0) {
                                readySeen.incrementAndGet();
                            } else if (n < 0) {
                                key[0].interestOps(0); // the one-shot writer left: stop watching
                            }
                        } catch (IOException e) {
                            throw new AssertionError(e);
                        }
                    }

                    public void loopClosed(LoopClosedException cause) {
                        closedSeen.incrementAndGet();
                    }
                });
                k.thenAccept(sk -> key[0] = sk);
                keys.add(k);
            }
            for (LoopFuture<SelectionKey> k : keys) {
                assertTrue(k.get(30, TimeUnit.SECONDS).isValid());
            }
            assertEquals(baseline.size() + count + 2 /* epoll fd + eventfd */, TestSupport.ipcFdCount());
            // every 100th FIFO gets a byte from a short-lived writer: exactly those are served
            for (int i = 0; i < count; i += 100) {
                int wfd = FIFO_LIBC.open(dir.resolve("f" + i).toString(), 1 /* O_WRONLY */ | io.dualpipe.core.internal.Native.O_CLOEXEC | io.dualpipe.core.internal.Native.O_NONBLOCK);
                assertTrue(wfd >= 0);
                try (FdChannel w = new FdChannel(wfd, SelectionKey.OP_WRITE)) {
                    assertEquals(1, w.write(ByteBuffer.wrap(new byte[] {1})));
                }
            }
            int expected = (count + 99) / 100;
            TestSupport.await(expected + " FIFOs served", () -> readySeen.get() == expected);
            CountDownLatch idle = new CountDownLatch(1);
            loop.execute(idle::countDown);
            assertTrue(idle.await(10, TimeUnit.SECONDS));
            assertEquals(expected, readySeen.get());
        } finally {
            loop.close();
            try (var files = java.nio.file.Files.list(dir)) {
                for (java.nio.file.Path f : (Iterable<java.nio.file.Path>) files::iterator) {
                    java.nio.file.Files.deleteIfExists(f);
                }
            }
            java.nio.file.Files.deleteIfExists(dir);
        }
        assertEquals(count, closedSeen.get(), "every handler is told the loop closed");
        assertFalse(TestSupport.threadAlive(name));
        TestSupport.assertFdsBackTo(baseline);
    }

    private void manyPipesInOneLoop(int count) throws Exception {
        var baseline = TestSupport.fdSnapshot();
        List<FdChannel> writeEnds = new ArrayList<>(count);
        AtomicInteger closedSeen = new AtomicInteger();
        AtomicInteger readySeen = new AtomicInteger();
        String name = "many-pipes-" + count;
        EventLoop loop = EventLoop.create(name);
        try {
            List<LoopFuture<SelectionKey>> keys = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                FdChannel[] p = FdChannel.pipe();
                writeEnds.add(p[1]);
                keys.add(loop.register(p[0], OP_READ, new IoHandler() {
                    final ByteBuffer buf = ByteBuffer.allocate(16);

                    public void ready(int ops) {
                        try {
                            if (p[0].read(buf.clear()) > 0) {
                                readySeen.incrementAndGet();
                            }
                        } catch (IOException e) {
                            throw new AssertionError(e);
                        }
                    }

                    public void loopClosed(LoopClosedException cause) {
                        closedSeen.incrementAndGet();
                    }
                }));
            }
            for (LoopFuture<SelectionKey> k : keys) {
                assertTrue(k.get(30, TimeUnit.SECONDS).isValid());
            }
            assertEquals(baseline.size() + 2 * count + 2 /* epoll fd + eventfd */, TestSupport.ipcFdCount());
            // every 100th pipe gets a byte: exactly those are served
            for (int i = 0; i < count; i += 100) {
                writeEnds.get(i).write(ByteBuffer.wrap(new byte[] {1}));
            }
            int expected = (count + 99) / 100;
            TestSupport.await(expected + " pipes served", () -> readySeen.get() == expected);
            CountDownLatch idle = new CountDownLatch(1);
            loop.execute(idle::countDown);
            assertTrue(idle.await(10, TimeUnit.SECONDS));
            assertEquals(expected, readySeen.get());
        } finally {
            loop.close();
        }
        assertEquals(count, closedSeen.get(), "every handler is told the loop closed");
        for (FdChannel w : writeEnds) {
            w.close();
        }
        assertFalse(TestSupport.threadAlive(name));
        TestSupport.assertFdsBackTo(baseline);
    }
}
