package io.dualpipe.core;

/**
 * What a channel registered with an {@link EventLoop} is served by. Both methods are called on the
 * loop thread only, and must not block.
 */
public interface IoHandler {

    /**
     * The channel is ready for {@code readyOps} ({@link java.nio.channels.SelectionKey#OP_READ} etc.).
     * Readiness is level-triggered: what is left unread or unwritten is reported again on the next
     * pass, unless the interest set is changed.
     *
     * @param readyOps the ready operations, a bit set of {@code SelectionKey.OP_*}
     */
    void ready(int readyOps);

    /**
     * The loop is closing: fail every pending future with {@code cause} and release resources. The
     * loop cancels the key and closes the channel afterwards.
     *
     * @param cause the exception to fail pending futures with
     */
    void loopClosed(LoopClosedException cause);
}
