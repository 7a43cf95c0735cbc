package io.dualpipe.core.message.internal;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;

import static io.dualpipe.core.codec.Frames.HEADER_SIZE;

/**
 * The peer's frames read but not dispatched yet, in the order the peer sent them: the requests that
 * came while our replies were backed up, and every frame after the first of them.
 *
 * <p><b>Cost.</b> Every held frame but a reply is charged its header and body plus
 * {@link #ITEM_OVERHEAD} (the holder object and its array), so that a flood of empty frames costs as
 * much as it weighs; the channel stops reading once the charge reaches its limit. A reply is not
 * charged: it was taken out of the request table when it was held, so there are never more held
 * replies than requests we sent, and holding them must never be what stops us reading.
 *
 * <p>Loop thread only. Bodies are copied: the decoder's buffer is the loop's and valid only during
 * the read callback.
 */
final class Backlog {
    /** What one held frame costs besides its bytes: the Held object, the array header, the deque slot. */
    static final int ITEM_OVERHEAD = 64;

    /** One held frame; {@code reply} is set for a reply (its request, already out of the table). */
    record Held(int type, int flags, int requestId, byte[] body, OpenRequest reply) {
        /** Read-only, as the decoder's view is: a raw handler or listener sees the same either way. */
        ByteBuffer bodyBuffer() {
            return ByteBuffer.wrap(body).asReadOnlyBuffer();
        }

        int cost() {
            return reply != null ? 0 : HEADER_SIZE + body.length + ITEM_OVERHEAD;
        }
    }

    private final ArrayDeque<Held> frames = new ArrayDeque<>();
    private final long limit;
    private long charged;

    Backlog(long limit) {
        this.limit = limit;
    }

    boolean isEmpty() {
        return frames.isEmpty();
    }

    /** True once the charged frames reach the limit: read no more until it halves. */
    boolean isFull() {
        return charged >= limit;
    }

    /** True once the charge is back at or below half the limit: reading may resume. */
    boolean hasRoom() {
        return charged <= limit / 2;
    }

    long limit() {
        return limit;
    }

    long chargedBytes() {
        return charged;
    }

    int size() {
        return frames.size();
    }

    void add(int type, int flags, int requestId, ByteBuffer body, OpenRequest reply) {
        byte[] copy = new byte[body.remaining()];
        body.get(copy);
        Held h = new Held(type, flags, requestId, copy, reply);
        frames.addLast(h);
        charged += h.cost();
    }

    Held peek() {
        return frames.peekFirst();
    }

    Held poll() {
        Held h = frames.pollFirst();
        if (h != null) {
            charged -= h.cost();
        }
        return h;
    }

    /** Drops everything held; the requests of held replies fail with {@code cause}. */
    void clear(Throwable cause) {
        Held h;
        while ((h = frames.pollFirst()) != null) {
            if (h.reply() != null) {
                h.reply().fail(cause);
            }
        }
        charged = 0;
    }
}
