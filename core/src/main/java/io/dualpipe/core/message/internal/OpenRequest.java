package io.dualpipe.core.message.internal;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.codec.CodecRegistry;

import java.nio.ByteBuffer;
import java.time.Duration;

/**
 * A request we sent and the peer has not answered, as the request table, the timeouts and the backlog
 * see it, whatever its caller waits with: a future ({@link PendingRequest}) or a listener
 * ({@link ListenerRequest}). Loop thread only, but for {@link #isDone()}.
 */
interface OpenRequest {

    /** The id its frame went out with; 0 until then. */
    int id();

    /** Loop: set before the frame is queued. */
    void id(int id);

    /** True once its outcome is decided: answered, failed, timed out or (a future) cancelled. */
    boolean isDone();

    /**
     * Loop: the reply's body arrived ({@code type} not an error reply); decodes it and tells the
     * caller. {@code body} is the decoder's, valid only for this call; a caller that asked for the
     * body itself is lent it by {@code lender}.
     */
    void deliver(CodecRegistry codecs, BodyLender lender, int type, ByteBuffer body);

    /** Loop, or the caller's thread before the request was handed over: no reply; stops its timer. */
    void fail(Throwable cause);

    /**
     * Loop: gives it a loop timer of its own (its timeout found no lane in {@link Deadlines}).
     *
     * @throws io.dualpipe.core.LoopClosedException when the loop is closing
     */
    void startTimer(EventLoop loop, Duration timeout);
}
