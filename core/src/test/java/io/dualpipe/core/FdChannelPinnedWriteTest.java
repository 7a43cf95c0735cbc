package io.dualpipe.core;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Heap writes of {@link FdChannel#PIN_MIN} bytes or more go to write(2) from the array itself
 * (pinned, not copied): the right bytes from the right offset, partial writes, EAGAIN and EPIPE as
 * the copying path reports them.
 */
class FdChannelPinnedWriteTest {
    private static final int BIG = FdChannel.PIN_MIN * 4;
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

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    /** Reads everything the pipe's read end has until end of stream, on another thread. */
    private static CompletableFuture<byte[]> drainAll(FdChannel in) {
        return CompletableFuture.supplyAsync(() -> {
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            ByteBuffer buf = ByteBuffer.allocateDirect(64 * 1024);
            try {
                while (true) {
                    buf.clear();
                    int n = in.read(buf);
                    if (n < 0) {
                        return out.toByteArray();
                    }
                    if (n == 0) {
                        Thread.onSpinWait(); // non-blocking fd: nothing yet
                        continue;
                    }
                    byte[] b = new byte[n];
                    buf.flip().get(b);
                    out.write(b, 0, n);
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
    }

    /** A slice (array offset != 0) at a position != 0, larger than the pipe: every byte, in order, partial writes included. */
    @Test
    @Timeout(20)
    void sliceAtAPositionArrivesWhole() throws Exception {
        FdChannel[] p = pipe();
        byte[] all = random(1 << 20, 1);
        int sliceStart = 12_345;
        int position = 777;
        ByteBuffer src = ByteBuffer.wrap(all).position(sliceStart).slice();
        assertTrue(src.arrayOffset() == sliceStart && src.hasArray());
        src.position(position);
        CompletableFuture<byte[]> got = drainAll(p[0]);
        int writes = 0;
        while (src.hasRemaining()) {
            int before = src.position();
            int n = p[1].write(src);
            assertEquals(before + n, src.position(), "position advances by what was written");
            writes++;
        }
        p[1].close();
        byte[] want = Arrays.copyOfRange(all, sliceStart + position, all.length);
        assertArrayEquals(want, got.get(15, TimeUnit.SECONDS));
        assertTrue(writes > 1, "a 1 MiB buffer through a 64 KiB pipe takes several writes: " + writes);
    }

    /** write(byte[], offset, length) from PIN_MIN on: the window, not the array's start. */
    @Test
    @Timeout(20)
    void arrayWindowArrivesWhole() throws Exception {
        FdChannel[] p = pipe();
        byte[] all = random(BIG * 2, 2);
        int offset = 1001;
        int length = BIG;
        CompletableFuture<byte[]> got = drainAll(p[0]);
        int done = 0;
        while (done < length) {
            done += p[1].write(all, offset + done, length - done);
        }
        p[1].close();
        assertArrayEquals(Arrays.copyOfRange(all, offset, offset + length), got.get(15, TimeUnit.SECONDS));
    }

    /** A full pipe takes nothing (0, position unchanged); a read-only heap buffer, which has no array to pin, still works. */
    @Test
    @Timeout(10)
    void fullPipeReturnsZeroAndReadOnlyBuffersUseTheCopy() throws Exception {
        FdChannel[] p = pipe();
        ByteBuffer filler = ByteBuffer.wrap(new byte[BIG]);
        while (p[1].write(filler.clear()) > 0) {
            // fill the pipe
        }
        ByteBuffer src = ByteBuffer.wrap(random(BIG, 3)).position(5);
        assertEquals(0, p[1].write(src), "full pipe");
        assertEquals(5, src.position());
        assertEquals(0, p[1].write(src.array(), 5, BIG - 5), "full pipe");

        FdChannel[] q = pipe();
        byte[] data = random(BIG, 4);
        ByteBuffer ro = ByteBuffer.wrap(data).asReadOnlyBuffer();
        int n = q[1].write(ro);
        assertTrue(n > 0 && n == ro.position(), "wrote " + n);
        ByteBuffer back = ByteBuffer.allocate(n);
        while (back.hasRemaining() && q[0].read(back) > 0) {
            // what the pipe holds
        }
        assertArrayEquals(Arrays.copyOf(data, n), back.array());
    }

    /** A closed reading end: EPIPE, named, as from the copying path. */
    @Test
    @Timeout(10)
    void closedReaderIsEpipe() throws Exception {
        FdChannel[] p = pipe();
        p[0].close();
        NativeIoException e = assertThrows(NativeIoException.class, () -> p[1].write(ByteBuffer.wrap(new byte[BIG])));
        assertEquals("EPIPE", e.errnoName());
        NativeIoException e2 = assertThrows(NativeIoException.class, () -> p[1].write(new byte[BIG], 0, BIG));
        assertEquals("EPIPE", e2.errnoName());
        p[1].close();
        assertThrows(ChannelClosedException.class, () -> p[1].write(new byte[BIG], 0, BIG));
    }
}
