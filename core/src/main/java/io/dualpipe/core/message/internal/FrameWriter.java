package io.dualpipe.core.message.internal;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopClosedException;
import io.dualpipe.core.LoopFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;

import static io.dualpipe.core.codec.Frames.HEADER_SIZE;

/**
 * The channel's write side: takes frames from any thread onto the loop, queues them in the
 * {@link Outbound}, and decides when the queue is written. A frame queued while the channel
 * dispatches a chunk of input waits for the end of the chunk (a burst of replies is one write); any
 * other frame is written by a task at the end of the loop's pass; a chunk that fills up is written
 * at once.
 *
 * <p><b>Bound.</b> A frame handed over by another thread is charged its header and body
 * ({@link #handedOverBytes()}) from the moment it is handed over until it is queued, where the
 * outbound queue charges it the same; writability counts both.
 *
 * <p>Loop thread only, but for {@link #sendFrame} and {@link #handedOverBytes()}.
 */
final class FrameWriter {
    private static final Logger LOG = LoggerFactory.getLogger(FrameWriter.class);
    private static final byte[] TRUNCATED = "...(truncated)".getBytes(StandardCharsets.UTF_8);

    private final DefaultMessageChannel channel;
    private final EventLoop loop;
    private final int maxFrameSize;
    private final AtomicLong handedOver = new AtomicLong(); // bytes of frames other threads passed to the loop, not queued yet
    final Outbound outbound;
    private final Runnable flushTask = this::scheduledFlush;
    private boolean dispatching;
    private boolean flushAfterDispatch;
    private boolean flushScheduled;

    FrameWriter(DefaultMessageChannel channel, Outbound outbound, int maxFrameSize) {
        this.channel = channel;
        this.loop = channel.loop();
        this.outbound = outbound;
        this.maxFrameSize = maxFrameSize;
    }

    /** Any thread. */
    long handedOverBytes() {
        return handedOver.get();
    }

    /** Loop: frames queued from now on wait for {@link #endDispatch()}. */
    void beginDispatch() {
        dispatching = true;
    }

    /** Loop: writes what the dispatched input made us queue, in one go. */
    void endDispatch() {
        dispatching = false;
        if (flushAfterDispatch) {
            flushAfterDispatch = false;
            outbound.flush();
        }
    }

    /** Queues a frame; a refusal (closed channel) goes to {@code f} when there is one. Any thread. */
    void sendFrame(int type, int flags, int requestId, ByteBuffer body, LoopFuture<Void> f, boolean onLoop) {
        if (channel.isClosed()) {
            refuse(f, type, channel.refusal());
        } else if (onLoop) {
            queueFrame(type, flags, requestId, body, null, f);
        } else {
            LoopClosedException refused = handOver(HEADER_SIZE + body.remaining(), () -> queueFrame(type, flags, requestId, body, null, f));
            if (refused != null && f != null) {
                f.completeExceptionally(refused);
            }
        }
    }

    /** Loop: queues a frame whose body is {@code body}, or a borrowed small array. */
    void queueFrame(int type, int flags, int requestId, ByteBuffer body, byte[] borrowed, LoopFuture<Void> f) {
        Throwable refused = channel.isTerminated() ? channel.refusal()
                : borrowed != null ? outbound.appendArray(type, flags, requestId, borrowed, f)
                : outbound.append(type, flags, requestId, body, f);
        if (refused != null) {
            refuse(f, type, refused);
            return;
        }
        afterAppend();
    }

    /**
     * Another thread's frame, passed to the loop; its bytes count against writability meanwhile.
     *
     * @return null, or why the loop refused it (it is closing): the caller fails the frame's future
     */
    LoopClosedException handOver(int bytes, Runnable onLoop) {
        handedOver.addAndGet(bytes);
        try {
            loop.execute(() -> {
                handedOver.addAndGet(-bytes);
                onLoop.run();
            });
            return null;
        } catch (LoopClosedException e) {
            handedOver.addAndGet(-bytes);
            return e;
        }
    }

    void refuse(LoopFuture<Void> f, int type, Throwable why) {
        if (f != null) {
            f.completeExceptionally(why);
        } else {
            LOG.debug("{}: frame type 0x{} dropped: {}", channel.name(), Integer.toHexString(type), why.getMessage());
        }
    }

    /** Loop: when the frame just queued gets written. */
    void afterAppend() {
        if (outbound.hasSealed()) {
            outbound.flush(); // a chunk filled up
        } else if (dispatching) {
            flushAfterDispatch = true;
        } else if (!flushScheduled) {
            flushScheduled = true;
            try {
                loop.execute(flushTask);
            } catch (LoopClosedException e) {
                flushScheduled = false;
                outbound.flush();
            }
        }
    }

    private void scheduledFlush() {
        flushScheduled = false;
        outbound.flush();
    }

    /**
     * The body of an error reply: {@code text} in UTF-8, cut to fit maxFrameSize. Error texts come
     * from exceptions and callers, not from us, and the peer (same limit) would take an oversized
     * frame as a protocol error and drop the connection with every request on it; a cut text, marked
     * as such, still says what went wrong.
     */
    ByteBuffer errorBody(String text) {
        byte[] b = String.valueOf(text).getBytes(StandardCharsets.UTF_8);
        if (b.length <= maxFrameSize) {
            return ByteBuffer.wrap(b);
        }
        if (TRUNCATED.length > maxFrameSize) {
            return ByteBuffer.wrap(b, 0, utf8Boundary(b, maxFrameSize)); // no room even for the marker
        }
        int keep = utf8Boundary(b, maxFrameSize - TRUNCATED.length);
        byte[] cut = Arrays.copyOf(b, keep + TRUNCATED.length);
        System.arraycopy(TRUNCATED, 0, cut, keep, TRUNCATED.length);
        return ByteBuffer.wrap(cut);
    }

    /**
     * The largest length up to {@code limit} (< b.length) that ends between characters of the valid
     * UTF-8 in {@code b}, so the peer decodes no half character: the byte after it is not a
     * continuation byte (10xxxxxx).
     */
    private static int utf8Boundary(byte[] b, int limit) {
        int n = limit;
        while (n > 0 && (b[n] & 0xC0) == 0x80) {
            n--;
        }
        return n;
    }
}
