package io.dualpipe.process.internal;

import io.dualpipe.core.ByteSource;
import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.LoopFuture;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Reads a child's stderr continuously and keeps only its last {@code capacity} bytes, so a child
 * that writes a lot to stderr never stalls on a full pipe and the failures it causes can say what
 * it said last. A ring buffer: memory is bounded whatever the child writes.
 *
 * <p>The ring is sized on demand: nothing until the child writes to stderr, then twice what it
 * has written so far (at least {@link #FIRST_BYTES}), up to {@code capacity}, so a thousand quiet
 * children cost no 64 KiB apiece. Until the ring reaches its capacity it has never wrapped and
 * holds every byte written, in order; from then on it is the fixed ring it always was.
 *
 * <p>Fed on the loop thread; {@link #text()}, {@link #bytes(int)} and {@link #total()} may be
 * called from any thread (they copy under a lock). Serves {@link io.dualpipe.process.StderrMode#TAIL}
 * children and the pools' own members.
 */
public final class StderrTail implements ByteSource.Listener {
    /** The first ring a child's first stderr bytes get (a short message fits it). */
    static final int FIRST_BYTES = 256;
    private static final byte[] NONE = new byte[0];

    /** Guarded by this; null for a view. Shorter than {@link #capacity} only while total <= its length. */
    private byte[] ring;
    private final int capacity;
    private long total; // guarded by this
    private final LoopFuture<Void> ended;
    /** Set for a {@link #view}: the tail it reads, at most {@link #limit} bytes of it; never fed itself. */
    private final StderrTail source;
    private final int limit;

    public StderrTail(int capacity) {
        this.capacity = InvalidArgumentException.requirePositive("stderr tail capacity", capacity);
        this.ring = NONE;
        this.ended = new LoopFuture<>();
        this.source = null;
        this.limit = capacity;
    }

    private StderrTail(StderrTail source, int limit) {
        this.ring = null;
        this.capacity = 0;
        this.ended = source.ended;
        this.source = source;
        this.limit = Math.min(source.limit, InvalidArgumentException.requirePositive("stderr tail capacity", limit));
    }

    /** This tail seen through at most its last {@code limit} bytes, for a reader with a smaller bound (a pool's). */
    public StderrTail view(int limit) {
        return new StderrTail(this, limit);
    }

    /** A tail that reads {@code stderr}, or an empty one that has already ended when it is null. */
    public static StderrTail reading(ByteSource stderr, int capacity) {
        StderrTail t = new StderrTail(capacity);
        if (stderr == null) {
            t.ended.complete(null);
        } else {
            stderr.listen(t);
        }
        return t;
    }

    @Override
    public synchronized void onData(ByteBuffer data) {
        if (source != null) {
            throw new IllegalStateException("a view of a stderr tail is not fed");
        }
        int n = data.remaining();
        if (n == 0) {
            return;
        }
        if (total + n > ring.length && ring.length < capacity) {
            grow(total + n);
        }
        // Byte number k of the stream lives at ring[k % ring.length]; of a chunk longer than the
        // ring only its last ring.length bytes are kept, but every byte counts in total.
        int keep = Math.min(n, ring.length);
        data.position(data.position() + n - keep);
        int at = (int) ((total + n - keep) % ring.length);
        int first = Math.min(keep, ring.length - at);
        data.get(ring, at, first);
        data.get(ring, 0, keep - first);
        total += n;
    }

    /**
     * Caller holds the lock; the ring has not wrapped (total <= ring.length), so its bytes are
     * [0, total) in order and stay where they are in the larger ring.
     */
    private void grow(long needed) {
        long size = Math.max(Math.max(needed, 2L * ring.length), FIRST_BYTES);
        byte[] larger = new byte[(int) Math.min(size, capacity)];
        System.arraycopy(ring, 0, larger, 0, (int) total);
        ring = larger;
    }

    /** The ring's current size, which grows up to the capacity: for tests. */
    synchronized int ringSize() {
        return ring.length;
    }

    @Override
    public void onEnd() {
        ended.complete(null);
    }

    @Override
    public void onError(Throwable error) {
        ended.complete(null);
    }

    /** Completes when stderr has ended (or failed): nothing more will be added. */
    public LoopFuture<Void> ended() {
        return ended;
    }

    /** The last bytes of stderr, decoded as UTF-8 (a character cut at the start is replaced). */
    public String text() {
        return new String(bytes(limit), StandardCharsets.UTF_8);
    }

    /** A copy of the last {@code max} bytes kept (fewer when fewer were written). */
    public byte[] bytes(int max) {
        if (source != null) {
            return source.bytes(Math.min(max, limit));
        }
        synchronized (this) {
            return ringBytes(max);
        }
    }

    private byte[] ringBytes(int max) {
        int n = (int) Math.min(Math.min(total, ring.length), max);
        byte[] out = new byte[n];
        if (n == 0) {
            return out; // nothing written yet: an empty ring, whose length must not be divided by
        }
        int start = (int) ((total - n) % ring.length);
        int first = Math.min(n, ring.length - start);
        System.arraycopy(ring, start, out, 0, first);
        System.arraycopy(ring, 0, out, first, n - first);
        return out;
    }

    /** Bytes written to stderr so far, including those that fell out of the tail. */
    public long total() {
        if (source != null) {
            return source.total();
        }
        synchronized (this) {
            return total;
        }
    }

    /** For messages: " stderr (last N bytes): ..." or "" when the child wrote nothing. */
    public String describe() {
        String t = text().strip();
        if (t.isEmpty()) {
            return "";
        }
        if (t.length() > 2000) {
            t = "..." + t.substring(t.length() - 2000);
        }
        return "; its stderr ends: " + t.replace("\n", " | ");
    }
}
