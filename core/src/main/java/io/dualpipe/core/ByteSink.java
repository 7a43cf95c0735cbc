package io.dualpipe.core;

import java.nio.ByteBuffer;

/**
 * The writable end of a pipe, FIFO or socket, served by an {@link EventLoop}.
 *
 * <p><b>Completion.</b> A write's future completes when the kernel has all its bytes (they are in the
 * pipe or socket buffer, not necessarily read by the peer). Writes from any thread keep their order
 * and are never interleaved with each other.
 *
 * <p><b>Backpressure.</b> Bytes the kernel has not taken yet are queued without copying. Once more
 * than the high water mark is queued, {@link #isWritable()} turns false; {@link #whenWritable()}
 * completes when the queue falls to the low water mark. Producers that pace themselves on these keep
 * memory bounded; the sink never refuses a write for being over the mark.
 *
 * <p><b>Buffer ownership.</b> A {@link ByteBuffer} or {@code byte[]} passed to {@code write} is
 * borrowed until its future completes: do not change it before then. The sink never modifies it
 * (a ByteBuffer's position is left as it was).
 *
 * <p><b>Threading.</b> Every method is thread-safe. A write the kernel takes at once completes on the
 * caller's thread; one that had to wait completes on the loop thread.
 */
public interface ByteSink extends AutoCloseable {

    /** {@return the loop serving this sink} */
    EventLoop loop();

    /**
     * Queues the remaining bytes of {@code data}.
     *
     * @param data the bytes, borrowed until the future completes
     * @return completes when the kernel has every byte; fails with {@link BrokenPipeException} when the
     *         reading end is gone, {@link ChannelClosedException} after {@link #close()} or
     *         {@link #shutdownOutput()}
     */
    LoopFuture<Void> write(ByteBuffer data);

    /**
     * Queues all of {@code data}.
     *
     * @param data the bytes, borrowed until the future completes
     * @return completes as {@link #write(ByteBuffer)}'s
     */
    LoopFuture<Void> write(byte[] data);

    /**
     * Queues {@code text} encoded as UTF-8.
     *
     * @param text the text to write
     * @return completes as {@link #write(ByteBuffer)}'s
     */
    LoopFuture<Void> write(String text);

    /**
     * For hot paths that own their buffer: writes what the kernel takes now and queues the rest
     * without copying, like {@link #write(ByteBuffer)}, but advances {@code data}'s position as bytes
     * are written and returns {@code null} — allocating no future — when every byte went at once.
     * Otherwise returns the future of the rest (or a failed one). Writes keep their order with all
     * other writes.
     *
     * @param data the bytes, borrowed until the future (if any) completes; its position advances
     * @return null when every byte went at once, otherwise the future of the rest
     */
    default LoopFuture<Void> writeOrQueue(ByteBuffer data) {
        LoopFuture<Void> f = write(data.duplicate());
        if (f.isDone() && !f.isCompletedExceptionally()) {
            data.position(data.limit());
            return null;
        }
        return f;
    }

    /** {@return true while no more than the high water mark is queued} */
    boolean isWritable();

    /** {@return the bytes accepted by {@code write} that the kernel has not taken yet} */
    long queuedBytes();

    /**
     * {@return a future that completes (on the loop, or at once) when the queue is at or below the
     * low water mark}
     */
    LoopFuture<Void> whenWritable();

    /**
     * Half-closes: the bytes already queued are written, then the write side is closed so the peer
     * reads end of stream (a child's stdin is closed; a socket is shut down for writing). Further
     * writes fail with {@link ChannelClosedException}.
     *
     * @return completes when the write side is closed
     */
    LoopFuture<Void> shutdownOutput();

    /** Closes now: queued writes fail with {@link ChannelClosedException}. */
    @Override
    void close();
}
