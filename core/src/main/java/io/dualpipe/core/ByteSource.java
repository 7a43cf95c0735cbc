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

    /** The loop serving this source. */
    EventLoop loop();

    /**
     * The next bytes available, at most {@code maxBytes} and at least one; an empty array once the
     * stream has ended and everything before the end was taken. Reads complete in the order they
     * were issued. The array belongs to the caller.
     *
     * @throws InvalidArgumentException if {@code maxBytes <= 0}
     */
    LoopFuture<byte[]> read(int maxBytes);

    /**
     * Switches to push mode: {@code listener} gets every chunk on the loop thread, starting with
     * anything already buffered, until the end of the stream. Pass null to go back to pull mode.
     *
     * Reads still pending fail with a {@link ConsumerConflictException}: one stream has one consumer.
     */
    void listen(Listener listener);

    /** Stops calls to the listener; bytes are buffered up to the limit, then reading stops. */
    void pause();

    /** Undoes {@link #pause()}: buffered bytes are delivered (on the loop) and reading resumes. */
    void resume();

    /** Completes once the end of the stream was reached and every byte before it was taken. */
    LoopFuture<Void> endOfStream();

    /** Stops reading and closes the fd; pending reads fail with {@link ChannelClosedException}. */
    @Override
    void close();

    /**
     * Receives pushed bytes. Called on the loop thread only; must not block.
     */
    interface Listener {
        /**
         * Some bytes arrived. {@code data} is read-only and belongs to the loop: it is valid only
         * during this call, so copy what you keep. Every remaining byte counts as taken.
         */
        void onData(ByteBuffer data);

        /** The stream ended; no more calls follow. */
        default void onEnd() {
        }

        /** Reading failed (e.g. {@link NativeIoException} ECONNRESET, {@link LoopClosedException}); no more calls follow. */
        default void onError(Throwable error) {
        }
    }
}
