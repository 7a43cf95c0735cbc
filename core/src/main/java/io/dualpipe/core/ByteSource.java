package io.dualpipe.core;

import java.nio.ByteBuffer;

/**
 * The readable end of a pipe, FIFO or socket, served by an {@link EventLoop}. Bytes are taken either
 * by pulling ({@link #read(int)} futures) or by a pushed {@link Listener}; not both at once.
 *
 * <p><b>Backpressure.</b> The loop buffers at most {@code readBufferLimit} bytes the consumer has not
 * taken (64 KiB by default). When the buffer is full the loop stops reading the fd, so the writer
 * (a child, a peer) blocks on its own write; reading resumes once the consumer takes data. Nothing is
 * dropped and memory stays bounded.
 *
 * <p><b>Threading.</b> All methods may be called from any thread. Futures complete and listeners are
 * called on the loop thread. End of stream completes pending reads with an empty array.
 */
public interface ByteSource extends AutoCloseable {

    /** {@return the loop serving this source} */
    EventLoop loop();

    /**
     * The next bytes available, at most {@code maxBytes} and at least one; an empty array once the
     * stream has ended and everything before the end was taken. Reads complete in the order they
     * were issued. The array belongs to the caller.
     *
     * @param maxBytes the most bytes to return
     * @return the bytes, or an empty array at end of stream
     * @throws InvalidArgumentException if {@code maxBytes <= 0}
     */
    LoopFuture<byte[]> read(int maxBytes);

    /**
     * Everything up to the end of the stream, as one array: what Python's {@code popen(cmd).read()}
     * or {@code communicate()} return. Built from {@link #read(int)} futures, one at a time, so it is
     * a pull consumer like them: it fails with a {@link ConsumerConflictException} while a listener
     * is set or when one is set before the end, and reads issued meanwhile by others take bytes from
     * under it. The array belongs to the caller.
     *
     * <p><b>Bounded.</b> It never takes more than {@code maxBytes + 1} bytes: as soon as the stream
     * proves longer than {@code maxBytes}, the future fails with a {@link ReadLimitExceededException}
     * naming the limit, the bytes taken so far are dropped, and reading stops; the rest stays in the
     * source (the writer then blocks once its pipe is full) until it is read on or closed.
     *
     * <p>It fails as {@link #read(int)} fails: {@link ChannelClosedException} when the source is closed
     * first, the read error otherwise. Cancelling the future stops it after the read in flight, whose
     * bytes are dropped. Completes on the loop thread (on the caller's if the end was already there).
     *
     * @param maxBytes the most bytes the stream may hold
     * @return every byte up to the end of the stream
     * @throws InvalidArgumentException if {@code maxBytes <= 0}
     */
    default LoopFuture<byte[]> readAll(int maxBytes) {
        return io.dualpipe.core.internal.ReadAll.start(this, maxBytes);
    }

    /**
     * Switches to push mode: {@code listener} gets every chunk on the loop thread, starting with
     * anything already buffered, until the end of the stream. Pass null to go back to pull mode.
     *
     * <p>Reads still pending fail with a {@link ConsumerConflictException}: one stream has one consumer.
     *
     * @param listener the listener, or null for pull mode
     */
    void listen(Listener listener);

    /** Stops calls to the listener; bytes are buffered up to the limit, then reading stops. */
    void pause();

    /** Undoes {@link #pause()}: buffered bytes are delivered (on the loop) and reading resumes. */
    void resume();

    /**
     * Completes once the end of the stream was reached and every byte before it was taken. Each call
     * returns a new future: what a caller does to its own (cancel, complete) affects no one else.
     *
     * @return a new future, completed with null at the end of the stream
     */
    LoopFuture<Void> endOfStream();

    /** Stops reading and closes the fd; pending reads fail with {@link ChannelClosedException}. */
    @Override
    void close();

    /**
     * Receives pushed bytes. Called on the loop thread only; must not block. What a method throws is
     * logged (WARN, at most 20 times a minute per listener class; the rest at DEBUG) and reading goes on.
     */
    interface Listener {
        /**
         * Some bytes arrived. {@code data} is read-only and belongs to the loop: it is valid only
         * during this call, so copy what you keep. Every remaining byte counts as taken.
         *
         * @param data the bytes, valid during this call only
         */
        void onData(ByteBuffer data);

        /** The stream ended; no more calls follow. */
        default void onEnd() {
        }

        /**
         * Reading failed; no more calls follow.
         *
         * @param error why, e.g. {@link NativeIoException} ECONNRESET, {@link LoopClosedException}
         */
        default void onError(Throwable error) {
        }
    }
}
