package io.dualpipe.process.internal;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The ring of a {@link StderrTail} is sized on demand and keeps exactly the last bytes, whatever the chunks. */
class StderrTailRingTest {

    @Test
    void aQuietChildsTailHoldsNoRing() {
        StderrTail t = new StderrTail(64 * 1024);
        assertEquals(0, t.ringSize(), "no bytes yet: no 64 KiB ring");
        assertEquals("", t.text());
        assertEquals(0, t.bytes(10).length);
        assertEquals(0, t.view(100).bytes(100).length);
        t.onData(ByteBuffer.allocate(0));
        assertEquals(0, t.ringSize());
    }

    @Test
    void theRingGrowsWithWhatWasWrittenAndNeverPastItsCapacity() {
        StderrTail t = new StderrTail(64 * 1024);
        t.onData(ByteBuffer.wrap("boom\n".getBytes()));
        assertEquals(StderrTail.FIRST_BYTES, t.ringSize());
        assertEquals("boom\n", t.text());
        t.onData(ByteBuffer.wrap(new byte[1000]));
        assertTrue(t.ringSize() >= 1005 && t.ringSize() <= 2 * 1005, "ring " + t.ringSize());
        t.onData(ByteBuffer.wrap(new byte[1 << 20]));
        assertEquals(64 * 1024, t.ringSize());
        assertEquals(1005 + (1 << 20), t.total());
    }

    /** Random chunk sizes against a model that keeps every byte: the tail is always the model's last bytes. */
    @Test
    void keepsTheLastBytesForAnyChunking() {
        Random r = new Random(12);
        for (int capacity : new int[] {1, 7, 255, 256, 257, 1000, 4096}) {
            for (int run = 0; run < 50; run++) {
                StderrTail t = new StderrTail(capacity);
                StderrTail view = t.view(Math.max(1, capacity / 3));
                ByteArrayOutputStream all = new ByteArrayOutputStream();
                int chunks = 1 + r.nextInt(40);
                for (int c = 0; c < chunks; c++) {
                    int n = r.nextInt(r.nextBoolean() ? 16 : 3 * capacity + 2);
                    byte[] chunk = new byte[n];
                    r.nextBytes(chunk);
                    int offset = r.nextInt(5);
                    ByteBuffer buf = ByteBuffer.allocate(n + offset + 3);
                    buf.position(offset);
                    buf.put(chunk);
                    buf.flip().position(offset); // bytes before and after the chunk are not the child's
                    t.onData(buf);
                    assertEquals(0, buf.remaining(), "the tail consumes what it is given");
                    all.writeBytes(chunk);
                    byte[] model = all.toByteArray();
                    assertEquals(model.length, t.total(), "every byte written counts, kept or not");
                    assertEquals(model.length, view.total());
                    assertTrue(t.ringSize() <= capacity);
                    for (int max : new int[] {1, capacity / 2 + 1, capacity, capacity + 5}) {
                        int k = Math.min(Math.min(max, capacity), model.length);
                        assertArrayEquals(Arrays.copyOfRange(model, model.length - k, model.length), t.bytes(max),
                                "capacity " + capacity + ", max " + max + ", after " + model.length + " bytes");
                    }
                    int v = Math.min(Math.max(1, capacity / 3), model.length);
                    assertArrayEquals(Arrays.copyOfRange(model, model.length - v, model.length), view.bytes(Integer.MAX_VALUE));
                }
            }
        }
    }
}
