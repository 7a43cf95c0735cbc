package io.dualpipe.core;

import io.dualpipe.core.internal.EpollSelectorProvider;
import io.dualpipe.core.internal.Native;
import io.dualpipe.core.internal.Selectors;
import jnr.enxio.channels.NativeSocketChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.IllegalSelectorException;
import java.nio.channels.Pipe;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static io.dualpipe.core.TestSupport.millisSince;
import static java.nio.channels.SelectionKey.OP_READ;
import static java.nio.channels.SelectionKey.OP_WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The epoll selector against the java.nio.channels.Selector contract, on real pipes. */
class EpollSelectorTest {
    private Selector selector;
    private final List<FdChannel> channels = new ArrayList<>();

    @BeforeEach
    void open() throws IOException {
        selector = EpollSelectorProvider.INSTANCE.openSelector();
    }

    @AfterEach
    void closeAll() throws IOException {
        selector.close();
        for (FdChannel ch : channels) {
            ch.close();
        }
    }

    private FdChannel[] pipe() {
        FdChannel[] p = FdChannel.pipe();
        channels.add(p[0]);
        channels.add(p[1]);
        return p;
    }

    private static void write(FdChannel ch, int bytes) throws IOException {
        assertEquals(bytes, ch.write(ByteBuffer.allocate(bytes)));
    }

    @Test
    @Timeout(10)
    void selectorsOpenGivesEpollOnLinux() throws IOException {
        try (Selector s = Selectors.open()) {
            assertSame(EpollSelectorProvider.INSTANCE, s.provider());
        }
        assertSame(EpollSelectorProvider.INSTANCE, selector.provider());
    }

    @Test
    @Timeout(10)
    void readReadinessThroughSelectAndSelectedKeys() throws IOException {
        FdChannel[] p = pipe();
        SelectionKey key = p[0].register(selector, OP_READ, "att");
        assertEquals(0, selector.selectNow());
        assertTrue(selector.selectedKeys().isEmpty());

        write(p[1], 3);
        assertEquals(1, selector.select());
        assertEquals(Set.of(key), selector.selectedKeys());
        assertEquals(OP_READ, key.readyOps());
        assertTrue(key.isReadable());
        assertEquals("att", key.attachment());

        // still readable, key still selected: no new ops, so the count is 0
        assertEquals(0, selector.selectNow());
        assertEquals(1, selector.selectedKeys().size());

        assertEquals(3, p[0].read(ByteBuffer.allocate(10)));
        selector.selectedKeys().clear();
        assertEquals(0, selector.selectNow());
        assertTrue(selector.selectedKeys().isEmpty());
    }

    @Test
    @Timeout(10)
    void writeReadinessFollowsThePipeBuffer() throws IOException {
        FdChannel[] p = pipe();
        SelectionKey key = p[1].register(selector, OP_WRITE);
        assertEquals(1, selector.select(1000));
        assertEquals(OP_WRITE, key.readyOps());
        selector.selectedKeys().clear();

        ByteBuffer chunk = ByteBuffer.allocateDirect(65536);
        long total = 0;
        int n;
        while ((n = p[1].write(chunk.clear())) > 0) {
            total += n;
        }
        assertTrue(total > 0);
        assertEquals(0, selector.selectNow(), "a full pipe is not writable");

        ByteBuffer sink = ByteBuffer.allocateDirect(65536);
        while (p[0].read(sink.clear()) > 0) {
            // drain it all
        }
        assertEquals(1, selector.select(1000));
        assertTrue(key.isWritable());
    }

    @Test
    @Timeout(10)
    void selectWithActionBypassesTheSelectedKeySet() throws IOException {
        FdChannel[] a = pipe();
        FdChannel[] b = pipe();
        SelectionKey ka = a[0].register(selector, OP_READ);
        SelectionKey kb = b[0].register(selector, OP_READ);
        write(a[1], 1);
        write(b[1], 1);
        List<SelectionKey> seen = new ArrayList<>();
        assertEquals(2, selector.select(k -> {
            assertEquals(OP_READ, k.readyOps());
            seen.add(k);
        }, 1000));
        assertEquals(Set.of(ka, kb), Set.copyOf(seen));
        assertTrue(selector.selectedKeys().isEmpty());

        seen.clear();
        assertEquals(2, selector.selectNow(seen::add));
        assertEquals(2, seen.size());

        // an action that cancels the other key: that key is not dispatched afterwards
        seen.clear();
        int n = selector.selectNow(k -> {
            seen.add(k);
            (k == ka ? kb : ka).cancel();
        });
        assertEquals(1, n);
        assertEquals(1, seen.size());
    }

    @Test
    @Timeout(10)
    void selectWithTimeoutReturnsZeroWhenNothingIsReady() throws IOException {
        FdChannel[] p = pipe();
        p[0].register(selector, OP_READ);
        long t0 = System.nanoTime();
        assertEquals(0, selector.select(100));
        assertTrue(millisSince(t0) >= 90, "select(100) returned after " + millisSince(t0) + " ms");
        t0 = System.nanoTime();
        assertEquals(0, selector.select(k -> { }, 100));
        assertTrue(millisSince(t0) >= 90, "select(action, 100) returned after " + millisSince(t0) + " ms");
        assertThrows(IllegalArgumentException.class, () -> selector.select(-1));
    }

    @Test
    @Timeout(10)
    void interestChangesTakeEffectAtTheNextSelect() throws IOException {
        FdChannel[] p = pipe();
        SelectionKey key = p[0].register(selector, 0);
        write(p[1], 1);
        assertEquals(0, selector.selectNow(), "interest 0");
        key.interestOps(OP_READ);
        assertEquals(1, selector.selectNow());
        selector.selectedKeys().clear();
        key.interestOps(0);
        assertEquals(0, selector.selectNow());
        assertEquals(0, key.interestOps());
        assertThrows(IllegalArgumentException.class, () -> key.interestOps(OP_WRITE), "OP_WRITE is not valid on a read end");
        key.interestOpsOr(OP_READ);
        assertEquals(1, selector.selectNow());
    }

    @Test
    @Timeout(10)
    void cancelledKeyCanBeReRegisteredAfterTheNextSelect() throws IOException {
        FdChannel[] p = pipe();
        SelectionKey key = p[0].register(selector, OP_READ);
        key.cancel();
        assertFalse(key.isValid());
        assertTrue(selector.keys().contains(key), "a cancelled key stays in keys() until the next selection");
        assertThrows(CancelledKeyException.class, () -> p[0].register(selector, OP_READ));
        assertTrue(p[0].isRegistered());

        assertEquals(0, selector.selectNow());
        assertFalse(selector.keys().contains(key));
        assertFalse(p[0].isRegistered());

        SelectionKey again = p[0].register(selector, OP_READ);
        assertNotSame(key, again);
        assertTrue(again.isValid());
        write(p[1], 1);
        assertEquals(1, selector.select(1000));
        assertEquals(Set.of(again), selector.selectedKeys());
    }

    @Test
    @Timeout(10)
    void keySetIsImmutableSelectedKeySetIsRemoveOnly() throws IOException {
        FdChannel[] p = pipe();
        SelectionKey key = p[0].register(selector, OP_READ);
        Set<SelectionKey> keys = selector.keys();
        assertThrows(UnsupportedOperationException.class, () -> keys.add(key));
        assertThrows(UnsupportedOperationException.class, () -> keys.remove(key));
        assertThrows(UnsupportedOperationException.class, keys::clear);
        assertThrows(UnsupportedOperationException.class, () -> removeViaIterator(keys));

        write(p[1], 1);
        assertEquals(1, selector.selectNow());
        Set<SelectionKey> selected = selector.selectedKeys();
        assertThrows(UnsupportedOperationException.class, () -> selected.add(key));
        assertThrows(UnsupportedOperationException.class, () -> selected.addAll(List.of(key)));
        var it = selected.iterator();
        assertSame(key, it.next());
        it.remove();
        assertTrue(selected.isEmpty());
        assertEquals(1, selector.selectNow());
        assertTrue(selected.remove(key));
        assertSame(selected, selector.selectedKeys(), "the same set object every time");
    }

    private static int removeViaIterator(Set<SelectionKey> keys) {
        var it = keys.iterator();
        it.next();
        it.remove();
        return 0;
    }

    @Test
    @Timeout(10)
    void wakeupsBeforeASelectWakeExactlyTheNextOne() throws IOException {
        FdChannel[] p = pipe();
        p[0].register(selector, OP_READ);
        for (int i = 0; i < 5; i++) {
            selector.wakeup();
        }
        assertEquals(0, selector.select()); // no timeout: that it returns at all is the wakeup
        long t0 = System.nanoTime();
        assertEquals(0, selector.select(200));
        long waited = millisSince(t0);
        assertTrue(waited >= 150, "the second select must block for its timeout, returned after " + waited + " ms");
    }

    @Test
    @Timeout(10)
    void wakeupFromAnotherThreadEndsABlockedSelect() throws Exception {
        String name = "sel-blocked";
        CompletableFuture<Integer> result = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                result.complete(selector.select());
            } catch (Throwable e) {
                result.completeExceptionally(e);
            }
        }, name);
        t.start();
        TestSupport.awaitInSyscall(name, TestSupport.EPOLL_WAIT_SYSCALLS, -1);
        assertFalse(result.isDone());
        selector.wakeup();
        assertEquals(0, result.get(5, TimeUnit.SECONDS));
        t.join(5000);
        // that wakeup was consumed by the blocked select
        long t0 = System.nanoTime();
        assertEquals(0, selector.select(150));
        assertTrue(millisSince(t0) >= 100);
    }

    @Test
    @Timeout(20)
    void hundredThousandWakeupsWithoutASelectNeverBlock() throws Exception {
        CompletableFuture<Long> took = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            long t0 = System.nanoTime();
            for (int i = 0; i < 100_000; i++) {
                selector.wakeup();
            }
            took.complete(millisSince(t0));
        }, "waker");
        t.start();
        assertTrue(took.get(10, TimeUnit.SECONDS) < 10_000);
        t.join();
        assertEquals(0, selector.select(), "one pending wakeup");
        long t0 = System.nanoTime();
        assertEquals(0, selector.select(150), "and only one");
        assertTrue(millisSince(t0) >= 100);
    }

    @Test
    @Timeout(10)
    void selectNowClearsAPendingWakeup() throws IOException {
        selector.wakeup();
        assertEquals(0, selector.selectNow());
        long t0 = System.nanoTime();
        assertEquals(0, selector.select(200));
        long waited = millisSince(t0);
        assertTrue(waited >= 150, "selectNow must have cleared the wakeup; select(200) returned after " + waited + " ms");
    }

    @Test
    @Timeout(10)
    void interruptedThreadsSelectReturnsAtOnce() throws IOException {
        Thread.currentThread().interrupt();
        try {
            // A timeout far past any stall of a busy machine: returning well before it is returning at once.
            long t0 = System.nanoTime();
            assertEquals(0, selector.select(30_000));
            assertTrue(millisSince(t0) < 20_000, "waited " + millisSince(t0) + " ms of its 30 s timeout");
            assertTrue(Thread.currentThread().isInterrupted(), "the interrupt status is kept");
        } finally {
            Thread.interrupted();
        }
    }

    @Test
    @Timeout(10)
    void closeWithKeysRegistered() throws IOException {
        FdChannel[] a = pipe();
        FdChannel[] b = pipe();
        SelectionKey ka = a[0].register(selector, OP_READ);
        SelectionKey kb = b[1].register(selector, OP_WRITE);
        int aFd = a[0].getFD();
        a[0].close();
        assertTrue(TestSupport.isOpen(aFd), "closed while registered: the fd waits for deregistration");

        selector.close();
        assertFalse(selector.isOpen());
        assertFalse(ka.isValid());
        assertFalse(kb.isValid());
        assertFalse(TestSupport.isOpen(aFd), "deregistered by the selector's close: the fd is released");
        assertFalse(b[1].isRegistered());
        assertTrue(b[1].isOpen(), "closing a selector does not close open channels");
        assertTrue(TestSupport.isOpen(b[1].getFD()));

        assertThrows(ClosedSelectorException.class, () -> selector.select());
        assertThrows(ClosedSelectorException.class, () -> selector.select(10));
        assertThrows(ClosedSelectorException.class, () -> selector.selectNow());
        assertThrows(ClosedSelectorException.class, () -> selector.select(k -> { }));
        assertThrows(ClosedSelectorException.class, () -> selector.keys());
        assertThrows(ClosedSelectorException.class, () -> selector.selectedKeys());
        assertThrows(ClosedSelectorException.class, () -> b[0].register(selector, OP_READ));
        selector.wakeup(); // no exception
        selector.close(); // idempotent
    }

    @Test
    @Timeout(10)
    void closeEndsABlockedSelect() throws Exception {
        CompletableFuture<Integer> result = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                result.complete(selector.select());
            } catch (Throwable e) {
                result.completeExceptionally(e);
            }
        }, "sel-closing");
        t.start();
        TestSupport.awaitInSyscall("sel-closing", TestSupport.EPOLL_WAIT_SYSCALLS, -1);
        selector.close();
        assertEquals(0, result.get(5, TimeUnit.SECONDS));
        t.join(5000);
    }

    @Test
    @Timeout(10)
    void cancelledKeyRejectsInterestAndReadyOps() throws IOException {
        FdChannel[] p = pipe();
        SelectionKey key = p[0].register(selector, OP_READ);
        key.cancel();
        key.cancel(); // idempotent
        assertThrows(CancelledKeyException.class, () -> key.interestOps(0));
        assertThrows(CancelledKeyException.class, key::interestOps);
        assertThrows(CancelledKeyException.class, key::readyOps);
        selector.selectNow();
        assertThrows(CancelledKeyException.class, () -> key.interestOps(OP_READ));
    }

    @Test
    @Timeout(10)
    void nonNativeChannelIsRejected() throws IOException {
        Pipe jdk = Pipe.open();
        try {
            jdk.source().configureBlocking(false);
            assertThrows(IllegalSelectorException.class, () -> jdk.source().register(selector, OP_READ));
            assertTrue(selector.keys().isEmpty());
        } finally {
            jdk.source().close();
            jdk.sink().close();
        }
    }

    @Test
    @Timeout(10)
    void hungUpPeerWithInterestZeroDoesNotSpin() throws IOException {
        FdChannel[] p = pipe();
        SelectionKey key = p[0].register(selector, OP_READ);
        p[1].close();
        assertEquals(1, selector.select(1000), "EOF is readable");
        assertEquals(-1, p[0].read(ByteBuffer.allocate(1)));
        selector.selectedKeys().clear();
        key.interestOps(0);
        long t0 = System.nanoTime();
        assertEquals(0, selector.select(200));
        long waited = millisSince(t0);
        assertTrue(waited >= 150, "EPOLLHUP with interest 0 made select return after " + waited + " ms");
        assertTrue(selector.selectedKeys().isEmpty());
        key.interestOps(OP_READ);
        assertEquals(1, selector.selectNow());
    }

    /**
     * A wakeup after close must not write into the selector's old eventfd number: the number is
     * free and may already name another file.
     */
    @Test
    @Timeout(10)
    void wakeupAfterCloseDoesNotWriteIntoAReusedFd() throws Exception {
        Set<Integer> before = eventFds();
        Selector s = EpollSelectorProvider.INSTANCE.openSelector();
        Set<Integer> added = new java.util.HashSet<>(eventFds());
        added.removeAll(before);
        assumeTrue(added.size() == 1, "could not tell the new selector's eventfd: " + added);
        int eventFd = added.iterator().next();
        // a select in progress consumes close()'s own wakeup
        CompletableFuture<Integer> blocked = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                blocked.complete(s.select());
            } catch (Throwable e) {
                blocked.completeExceptionally(e);
            }
        }, "sel-reuse");
        t.start();
        TestSupport.awaitInSyscall("sel-reuse", TestSupport.EPOLL_WAIT_SYSCALLS, -1);
        s.close();
        blocked.get(5, TimeUnit.SECONDS);
        t.join(5000);

        FdChannel[] p = pipe();
        assumeTrue(p[1].getFD() == eventFd, "the new pipe's write end did not get the old eventfd number "
                + eventFd + " (got " + p[0].getFD() + ", " + p[1].getFD() + ")");
        s.wakeup();
        assertEquals(0, p[0].read(ByteBuffer.allocate(64)), "wakeup() on a closed selector wrote into an unrelated pipe");
    }

    private static Set<Integer> eventFds() {
        Set<Integer> out = new java.util.HashSet<>();
        for (int fd = 0; fd < 4096; fd++) {
            if ("anon_inode:[eventfd]".equals(TestSupport.fdTarget(fd))) {
                out.add(fd);
            }
        }
        return out;
    }

    /**
     * jnr-enxio's own channels close their fd at once. When the number is reused by a new channel
     * before the next select, deregistering the old key must not take the new fd out of epoll.
     */
    @Test
    @Timeout(10)
    void deregisteringAForeignChannelDoesNotRemoveANewFdWithTheSameNumber() throws IOException {
        int[] fds = new int[2];
        assertEquals(0, Native.LIBC.pipe2(fds, Native.O_CLOEXEC | Native.O_NONBLOCK));
        NativeSocketChannel foreign = new NativeSocketChannel(fds[0]);
        foreign.configureBlocking(false);
        SelectionKey old = foreign.register(selector, OP_READ);
        foreign.close(); // closes fds[0] now, cancels the key
        Native.closeQuietly(fds[1]);
        assertFalse(old.isValid());

        FdChannel[] p = pipe();
        assumeTrue(p[0].getFD() == fds[0], "the new read end did not reuse fd " + fds[0]);
        SelectionKey key = p[0].register(selector, OP_READ);
        write(p[1], 1);
        assertEquals(1, selector.select(2000), "the new fd must still be in the epoll set");
        assertEquals(Set.of(key), selector.selectedKeys());
        assertNotEquals(old, key);
    }
}
