package io.dualpipe.core;

import io.dualpipe.core.internal.EpollSelectorProvider;
import io.dualpipe.core.internal.Native;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static java.nio.channels.SelectionKey.OP_READ;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FdChannelTest {
    private final List<FdChannel> channels = new ArrayList<>();

    @AfterEach
    void closeAll() throws IOException {
        for (FdChannel ch : channels) {
            ch.close();
        }
    }

    private FdChannel[] pipe() {
        FdChannel[] p = FdChannel.pipe();
        channels.addAll(Arrays.asList(p));
        return p;
    }

    @Test
    @Timeout(10)
    void pipeEndsAreNonBlockingCloseOnExecWithTheRightOps() {
        FdChannel[] p = pipe();
        assertFalse(p[0].isBlocking());
        assertEquals(OP_READ, p[0].validOps());
        assertEquals(SelectionKey.OP_WRITE, p[1].validOps());
        for (FdChannel ch : p) {
            int fl = Native.LIBC.fcntl(ch.getFD(), Native.F_GETFL, 0);
            assertTrue((fl & Native.O_NONBLOCK) != 0);
            assertEquals(Native.FD_CLOEXEC, Native.LIBC.fcntl(ch.getFD(), Native.F_GETFD, 0) & Native.FD_CLOEXEC);
        }
        assertThrows(InvalidArgumentException.class, () -> new FdChannel(-1, OP_READ));
        assertThrows(InvalidArgumentException.class, () -> new FdChannel(p[0].getFD(), 0));
        assertThrows(InvalidArgumentException.class, () -> new FdChannel(p[0].getFD(), SelectionKey.OP_CONNECT));
    }

    @Test
    @Timeout(10)
    void readReturnsZeroOnEagainAndMinusOneAtEof() throws IOException {
        FdChannel[] p = pipe();
        assertEquals(0, p[0].read(ByteBuffer.allocate(16)), "empty pipe: EAGAIN");
        assertEquals(0, p[0].read(ByteBuffer.allocateDirect(16)), "empty pipe: EAGAIN");
        assertEquals(2, p[1].write(ByteBuffer.wrap(new byte[] {1, 2})));
        p[1].close();
        ByteBuffer dst = ByteBuffer.allocate(16);
        assertEquals(2, p[0].read(dst));
        assertEquals(-1, p[0].read(dst), "writer gone, pipe empty: EOF");
        assertEquals(-1, p[0].read(ByteBuffer.allocateDirect(4)));
        assertEquals(0, p[0].read(ByteBuffer.allocate(0)), "no room: 0, not EOF");
    }

    @Test
    @Timeout(10)
    void zeroLengthReadAtAnAddressIsNotEndOfStream() {
        FdChannel[] p = pipe();
        ByteBuffer direct = ByteBuffer.allocateDirect(8);
        assertEquals(0, p[0].read(Native.address(direct), 0), "read(2) of 0 bytes returns 0, which is not EOF");
        assertEquals(0, p[1].write(Native.address(direct), 0));
    }

    @Test
    @Timeout(10)
    void writeReturnsZeroWhenThePipeIsFull() throws IOException {
        FdChannel[] p = pipe();
        ByteBuffer chunk = ByteBuffer.allocateDirect(1 << 20);
        long total = 0;
        int n;
        while ((n = p[1].write(chunk.clear())) > 0) {
            total += n;
        }
        assertEquals(0, n);
        assertTrue(total >= 4096, "wrote " + total);
        assertEquals(0, p[1].write(ByteBuffer.wrap(new byte[100])), "heap buffer, full pipe");
        ByteBuffer heap = ByteBuffer.wrap(new byte[100]);
        p[1].write(heap);
        assertEquals(0, heap.position(), "nothing consumed from the buffer");
    }

    @Test
    @Timeout(10)
    void writeToAPipeWhoseReaderClosedIsEpipe() throws IOException {
        FdChannel[] p = pipe();
        p[0].close();
        NativeIoException e = assertThrows(NativeIoException.class, () -> p[1].write(ByteBuffer.wrap(new byte[1])));
        assertEquals("EPIPE", e.errnoName());
        assertEquals(Native.EPIPE, e.errno());
        assertTrue(e.getMessage().contains("fd " + p[1].getFD()), e.getMessage());
        e = assertThrows(NativeIoException.class, () -> p[1].write(ByteBuffer.allocateDirect(1)));
        assertEquals("EPIPE", e.errnoName());
    }

    @Test
    @Timeout(10)
    void heapAndDirectBuffersKeepPositionsAndBytes() throws IOException {
        FdChannel[] p = pipe();
        byte[] data = new byte[1000];
        new Random(7).nextBytes(data);

        ByteBuffer heapSrc = ByteBuffer.wrap(data, 100, 300); // position 100, limit 400
        assertEquals(300, p[1].write(heapSrc));
        assertEquals(400, heapSrc.position());
        ByteBuffer directSrc = ByteBuffer.allocateDirect(1000).put(data).position(400).limit(1000);
        assertEquals(600, p[1].write(directSrc));
        assertEquals(1000, directSrc.position());

        ByteBuffer heapDst = ByteBuffer.allocate(500).position(50).limit(250); // room for 200
        assertEquals(200, p[0].read(heapDst));
        assertEquals(250, heapDst.position());
        ByteBuffer directDst = ByteBuffer.allocateDirect(1000).position(10);
        assertEquals(700, p[0].read(directDst));
        assertEquals(710, directDst.position());
        assertEquals(0, p[0].read(directDst));

        byte[] got = new byte[900];
        heapDst.flip().position(50);
        heapDst.get(got, 0, 200);
        directDst.flip().position(10);
        directDst.get(got, 200, 700);
        assertArrayEquals(Arrays.copyOfRange(data, 100, 1000), got);
    }

    @Test
    @Timeout(10)
    void heapWritesLargerThanTheScratchChunkArePartial() throws IOException {
        FdChannel[] p = pipe();
        ByteBuffer big = ByteBuffer.allocate(FdChannel.HEAP_CHUNK * 3);
        int n = p[1].write(big);
        assertTrue(n > 0 && n <= FdChannel.HEAP_CHUNK, "one call moves at most one chunk: " + n);
        assertEquals(n, big.position());
    }

    /** write(byte[], offset, length): as a wrapped heap buffer, a chunk at most, 0 on a full pipe, typed errors. */
    @Test
    @Timeout(10)
    void arrayWritesMatchWrappedBuffers() throws IOException {
        FdChannel[] p = pipe();
        byte[] data = new byte[1000];
        new Random(8).nextBytes(data);
        assertEquals(300, p[1].write(data, 100, 300));
        assertEquals(0, p[1].write(data, 1000, 0));
        ByteBuffer got = ByteBuffer.allocate(1000);
        assertEquals(300, p[0].read(got));
        assertArrayEquals(Arrays.copyOfRange(data, 100, 400), Arrays.copyOf(got.array(), 300));
        int n = p[1].write(new byte[FdChannel.HEAP_CHUNK * 3], 0, FdChannel.HEAP_CHUNK * 3);
        assertTrue(n > 0 && n <= FdChannel.HEAP_CHUNK, "one call moves at most one chunk: " + n);
        while (p[1].write(new byte[4096], 0, 4096) > 0) {
            // fill the pipe
        }
        assertEquals(0, p[1].write(data, 0, 10), "full pipe");
        for (int[] bad : new int[][] {{-1, 1}, {0, -1}, {999, 2}, {1001, 0}}) {
            InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> p[1].write(data, bad[0], bad[1]));
            assertTrue(e.getMessage().contains("offset " + bad[0] + " and length " + bad[1]), e.getMessage());
        }
        assertThrows(InvalidArgumentException.class, () -> p[1].write((byte[]) null, 0, 0));
        p[1].close();
        assertThrows(ChannelClosedException.class, () -> p[1].write(data, 0, 1));
    }

    @Test
    @Timeout(10)
    void readAndWriteAfterCloseThrow() throws IOException {
        FdChannel[] p = pipe();
        p[0].close();
        p[1].close();
        assertThrows(ClosedChannelException.class, () -> p[0].read(ByteBuffer.allocate(1)));
        assertThrows(ClosedChannelException.class, () -> p[1].write(ByteBuffer.allocate(1)));
        assertThrows(ChannelClosedException.class, () -> p[0].read(Native.address(ByteBuffer.allocateDirect(1)), 1));
        assertThrows(ChannelClosedException.class, () -> p[1].write(Native.address(ByteBuffer.allocateDirect(1)), 1));
    }

    @Test
    @Timeout(10)
    void closeWhenUnregisteredReleasesTheFdAtOnce() throws IOException {
        FdChannel[] p = pipe();
        int fd = p[0].getFD();
        p[0].close();
        assertFalse(TestSupport.isOpen(fd));
        p[0].close(); // idempotent
    }

    @Test
    @Timeout(10)
    void closeWhileRegisteredKeepsTheFdUntilTheNextSelect() throws IOException {
        FdChannel[] p = pipe();
        try (Selector selector = EpollSelectorProvider.INSTANCE.openSelector()) {
            SelectionKey key = p[0].register(selector, OP_READ);
            selector.selectNow(); // this thread is now the selecting thread
            int fd = p[0].getFD();
            p[0].close();
            assertFalse(p[0].isOpen());
            assertFalse(key.isValid());
            assertTrue(TestSupport.isOpen(fd), "the fd must stay open while epoll may still report it");
            selector.selectNow();
            assertFalse(TestSupport.isOpen(fd), "deregistered: the fd is closed");
            assertFalse(p[0].isRegistered());
        }
    }

    @Test
    @Timeout(10)
    void closeFromAnotherThreadWhileRegisteredWithALoopClosesTheFdPromptly() throws Exception {
        FdChannel[] p = pipe();
        try (EventLoop loop = EventLoop.create("fdch-close")) {
            loop.register(p[0], OP_READ, new IoHandler() {
                public void ready(int ops) {
                }

                public void loopClosed(LoopClosedException cause) {
                }
            }).get(5, TimeUnit.SECONDS);
            int fd = p[0].getFD();
            // the loop is blocked in select: close from here must wake it to deregister
            TestSupport.awaitInSyscall("fdch-close", TestSupport.EPOLL_WAIT_SYSCALLS, -1);
            p[0].close();
            TestSupport.await("fd " + fd + " closed by the loop", () -> !TestSupport.isOpen(fd));
        }
    }

    /**
     * Closing the channel while another thread is inside read(2) on it must not release the fd
     * number: a new file could take it and the in-flight call's successors would hit that file.
     */
    @Test
    @Timeout(10)
    void closeDuringAnInFlightReadKeepsTheFdUntilTheReadReturns() throws Exception {
        FdChannel[] p = pipe();
        p[0].configureBlocking(true); // so the read stays inside the syscall
        int fd = p[0].getFD();
        CompletableFuture<Integer> read = new CompletableFuture<>();
        ByteBuffer dst = ByteBuffer.allocateDirect(16);
        Thread reader = new Thread(() -> {
            try {
                read.complete(p[0].read(dst));
            } catch (Throwable e) {
                read.completeExceptionally(e);
            }
        }, "fdch-reader");
        reader.start();
        TestSupport.awaitInSyscall("fdch-reader", TestSupport.READ_SYSCALLS, fd);
        p[0].close();
        assertFalse(p[0].isOpen());
        assertTrue(TestSupport.isOpen(fd), "fd " + fd + " released while a read(2) on it was in flight");
        assertEquals(3, p[1].write(ByteBuffer.wrap(new byte[] {1, 2, 3})));
        assertEquals(3, read.get(5, TimeUnit.SECONDS));
        reader.join(5000);
        TestSupport.await("fd " + fd + " closed after the read returned", () -> !TestSupport.isOpen(fd));
    }
}
