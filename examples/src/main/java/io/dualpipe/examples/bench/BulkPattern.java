package io.dualpipe.examples.bench;

import java.nio.ByteBuffer;
import java.util.Random;

import static io.dualpipe.examples.bench.ProcessBench.check;

/**
 * W2's byte stream: what every implementation sends ({@link #pattern()}) and how what comes back is
 * checked ({@link #verify}), so each does the same work per byte. Static and set once per run by
 * {@link BulkBench} before any implementation starts; the checks then run on whichever thread reads.
 */
final class BulkPattern {
    /** Pattern period: a prime, so consecutive chunks differ and a dropped or repeated chunk shows. */
    static final int PERIOD = 1_048_573;
    static final int MAX_READ = 1 << 20;
    /**
     * verify=full (default): every byte, as the workload's rules ask (a vectorized mismatch against
     * the pattern); verify=sample: byte count plus 48 sampled bytes per read, for measuring the
     * transport alone; verify=count: byte count only.
     */
    private static int verifyMode = 2;

    private BulkPattern() {
    }

    /** {@code full}, {@code sample} or {@code count}; see {@link #verifyMode}. */
    static void mode(String v) {
        verifyMode = v.equals("count") ? 0 : v.equals("full") ? 2 : 1;
    }

    /** The stream is pattern[i % PERIOD]; the array holds PERIOD + MAX_READ bytes so any window fits. */
    static byte[] pattern() {
        byte[] p = new byte[PERIOD + MAX_READ];
        new Random(42).nextBytes(p);
        for (int i = PERIOD; i < p.length; i++) {
            p[i] = p[i - PERIOD];
        }
        return p;
    }

    /** Checks received bytes against the stream at {@code offset}; same cost for both impls. */
    static void verify(ByteBuffer got, byte[] src, long offset) {
        if (verifyMode == 0) {
            return;
        }
        int off = (int) (offset % PERIOD);
        int n = got.remaining();
        check(n <= MAX_READ, "read larger than the verification window: " + n);
        if (verifyMode == 2) {
            if (got.mismatch(ByteBuffer.wrap(src, off, n)) >= 0) {
                throw new ProcessBench.VerificationError("byte mismatch near stream offset " + offset);
            }
            return;
        }
        // Sampled: 16 bytes at the start, middle and end of every read. The period is prime, so a
        // dropped, repeated or reordered piece of the stream lands on different pattern bytes.
        int p = got.position();
        for (int at : new int[] {0, n / 2, n - 16}) {
            int from = Math.max(0, at);
            int len = Math.min(16, n - from);
            for (int i = 0; i < len; i++) {
                if (got.get(p + from + i) != src[off + from + i]) {
                    throw new ProcessBench.VerificationError("byte mismatch at stream offset " + (offset + from + i));
                }
            }
        }
    }
}
