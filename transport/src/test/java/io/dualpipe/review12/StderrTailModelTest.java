package io.dualpipe.review12;

import io.dualpipe.process.internal.StderrTail;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * review12: the on-demand ring against a model (everything written, cut to the last capacity bytes),
 * for chunk sizes 1, the bound, bound + 1, huge and random, across many capacities (including ones
 * below, at and above the first ring's 256 bytes).
 */
class StderrTailModelTest {

    @Test
    @Timeout(60)
    void tailMatchesModelForEveryChunkPattern() {
        int[] caps = {1, 2, 3, 100, 255, 256, 257, 511, 512, 513, 1000, 4096, 65536};
        Random r = new Random(12);
        for (int cap : caps) {
            int[][] patterns = {{1}, {cap}, {cap + 1}, {cap * 3 + 7}, {cap - 1 > 0 ? cap - 1 : 1, 2}, {255, 1, 256, 257}};
            for (int[] pattern : patterns) {
                run(cap, pattern, 40, r);
            }
            for (int k = 0; k < 20; k++) {
                int[] pattern = new int[1 + r.nextInt(5)];
                for (int j = 0; j < pattern.length; j++) {
                    pattern[j] = r.nextInt(3 * cap + 2); // 0 included
                }
                run(cap, pattern, 30, r);
            }
        }
    }

    private static void run(int cap, int[] pattern, int rounds, Random r) {
        StderrTail t = new StderrTail(cap);
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        for (int i = 0; i < rounds; i++) {
            int n = pattern[i % pattern.length];
            byte[] b = new byte[n];
            r.nextBytes(b);
            // A chunk at an offset with a limit, as a read buffer would hand it.
            byte[] padded = new byte[n + 10];
            System.arraycopy(b, 0, padded, 5, n);
            ByteBuffer buf = ByteBuffer.wrap(padded, 5, n);
            t.onData(buf);
            assertEquals(5 + n, buf.position(), "the chunk is consumed");
            all.writeBytes(b);
            byte[] w = all.toByteArray();
            byte[] expected = Arrays.copyOfRange(w, Math.max(0, w.length - cap), w.length);
            byte[] got = t.bytes(Integer.MAX_VALUE);
            assertTrue(got.length <= cap, "never more than the bound");
            assertArrayEquals(expected, got, "cap " + cap + " pattern " + Arrays.toString(pattern) + " round " + i);
            assertEquals(w.length, t.total());
            int max = r.nextInt(cap + 2);
            byte[] some = t.bytes(max);
            assertArrayEquals(Arrays.copyOfRange(expected, Math.max(0, expected.length - max), expected.length), some);
            StderrTail v = t.view(Math.max(1, cap / 2));
            byte[] vb = v.bytes(Integer.MAX_VALUE);
            int vl = Math.max(1, cap / 2);
            assertArrayEquals(Arrays.copyOfRange(expected, Math.max(0, expected.length - vl), expected.length), vb);
        }
    }
}
