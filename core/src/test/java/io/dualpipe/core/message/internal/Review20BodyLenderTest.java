package io.dualpipe.core.message.internal;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.InvalidMarkException;
import java.nio.ReadOnlyBufferException;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Review 20 of 4d40192 (BodyLender), the lender on its own: whatever the source buffer looks like
 * (offset, direct, read-only, little-endian, a window of a larger buffer) and whatever the last
 * callee did to the last view (moved it, limited it, marked it, changed its order), each lend is
 * exactly the body, fresh, big-endian, read-only and not a window onto the source; the source is
 * left as it was. Sizes around 0, the copy limit and repeats.
 */
class Review20BodyLenderTest {
    private static final int LIMIT = BodyLender.COPY_LIMIT;

    private static byte[] pattern(int n, int seed) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 131 + seed * 17 + 1);
        }
        return b;
    }

    /** A source buffer holding {@code body} at an offset, with guard bytes either side, in one of several shapes. */
    private static ByteBuffer source(byte[] body, int shape) {
        int pad = 13;
        ByteBuffer whole = shape % 2 == 0 ? ByteBuffer.allocate(body.length + 2 * pad) : ByteBuffer.allocateDirect(body.length + 2 * pad);
        for (int i = 0; i < whole.capacity(); i++) {
            whole.put(i, (byte) 0x7E); // guard: never part of a body
        }
        whole.put(pad, body);
        whole.position(pad).limit(pad + body.length);
        ByteBuffer b = switch (shape % 4) {
            case 2 -> whole.asReadOnlyBuffer();
            case 3 -> whole.order(ByteOrder.LITTLE_ENDIAN);
            default -> whole;
        };
        return b;
    }

    @Test
    @Timeout(20)
    void everyLendIsExactlyTheBodyWhateverTheLastCalleeDid() {
        BodyLender lender = new BodyLender();
        int[] sizes = {0, 0, 1, 1, 54, 54, 54, 0, 54, LIMIT - 1, LIMIT, LIMIT, LIMIT + 1, LIMIT + 1, LIMIT, 7, 0, 7, 8000, 54};
        for (int k = 0; k < sizes.length; k++) {
            int n = sizes[k];
            byte[] body = pattern(n, k);
            ByteBuffer src = source(body, k);
            int pos = src.position();
            int lim = src.limit();
            ByteOrder order = src.order();
            ByteBuffer v = lender.lend(src);
            String at = "lend " + k + " (" + n + " bytes)";
            assertEquals(pos, src.position(), at + ": source position moved");
            assertEquals(lim, src.limit(), at + ": source limit moved");
            assertEquals(order, src.order(), at + ": source order changed");
            assertTrue(v.isReadOnly(), at);
            assertFalse(v.hasArray(), at + ": the lent view exposes its array");
            assertEquals(0, v.position(), at);
            assertEquals(n, v.limit(), at);
            assertEquals(n, v.capacity(), at);
            assertEquals(ByteOrder.BIG_ENDIAN, v.order(), at);
            assertThrows(InvalidMarkException.class, v::reset, at + ": a mark survived from the last callee");
            byte[] got = new byte[n];
            v.get(0, got);
            assertArrayEquals(body, got, at);
            assertThrows(ReadOnlyBufferException.class, () -> v.put(0, (byte) 1), at);
            // What a careless callee leaves behind for the next lend.
            if (n > 2) {
                v.position(1).mark();
                v.position(2).limit(n - 1);
            } else {
                v.position(n);
            }
            v.order(ByteOrder.LITTLE_ENDIAN);
        }
    }

    /**
     * Small bodies of one length share the one view, so a view kept past its call shows the next
     * body of that length: the documented contract ("valid only until ... returns"), nothing more.
     * A body of another length, or over the copy limit, leaves an older view as it was. A body over
     * the limit is a slice of the source: a kept one shows what the source later holds there.
     */
    @Test
    @Timeout(20)
    void whatAKeptViewShowsFollowsTheDocumentedReuse() {
        BodyLender lender = new BodyLender();
        ByteBuffer first = lender.lend(ByteBuffer.wrap(pattern(54, 1)));
        ByteBuffer second = lender.lend(ByteBuffer.wrap(pattern(54, 2)));
        assertSame(first, second, "same-length bodies reuse the view");
        byte[] now = new byte[54];
        first.get(0, now);
        assertArrayEquals(pattern(54, 2), now, "the kept view shows the later body");

        ByteBuffer other = lender.lend(ByteBuffer.wrap(pattern(55, 3)));
        assertNotSame(first, other);
        first.get(0, now);
        assertArrayEquals(pattern(54, 2), now, "another length leaves the old view alone");

        byte[] big = pattern(LIMIT + 10, 4);
        ByteBuffer bigSource = ByteBuffer.wrap(big.clone());
        ByteBuffer slice = lender.lend(bigSource);
        assertEquals(LIMIT + 10, slice.capacity());
        bigSource.put(0, (byte) ~big[0]);
        assertEquals((byte) ~big[0], slice.get(0), "over the copy limit the view is a slice of the source");
    }

    /** Random lengths (0..2*limit) and shapes, ten thousand lends: never a wrong byte, never a wrong bound. */
    @Test
    @Timeout(30)
    void randomSizesAndShapesNeverGiveAWrongByte() {
        BodyLender lender = new BodyLender();
        Random r = new Random(20);
        for (int k = 0; k < 10_000; k++) {
            int n = r.nextInt(4) == 0 ? r.nextInt(4) : r.nextInt(2 * LIMIT + 2);
            if (r.nextBoolean()) {
                n = 54; // a protocol's fixed size, often
            }
            byte[] body = pattern(n, k);
            ByteBuffer v = lender.lend(source(body, r.nextInt(4)));
            assertEquals(0, v.position());
            assertEquals(n, v.remaining());
            assertEquals(n, v.capacity());
            byte[] got = new byte[n];
            v.get(got);
            assertArrayEquals(body, got, "lend " + k + " (" + n + " bytes)");
            if (r.nextBoolean()) {
                v.position(Math.min(n, 1)).limit(Math.min(n, 1)).order(ByteOrder.LITTLE_ENDIAN);
            }
        }
    }
}
