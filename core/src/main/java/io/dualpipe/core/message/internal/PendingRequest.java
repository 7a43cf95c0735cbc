package io.dualpipe.core.message.internal;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.codec.CodecException;
import io.dualpipe.core.codec.CodecRegistry;
import io.dualpipe.core.message.ReplyTypeException;

import java.nio.ByteBuffer;
import java.time.Duration;

/**
 * A request waiting for its reply, and the future its caller holds: one object per request, made
 * for that call, so a caller's cancel or complete touches only its own request. Cancelling it (or
 * its timeout) forgets the request, so a late reply is dropped.
 *
 * <p>Kept to four fields (32 bytes with compressed oops): it is allocated for every request. A
 * request with a timeout is a {@link TimedRequest}, which can also hold a loop timer of its own.
 */
class PendingRequest<R> extends LoopFuture<R> implements OpenRequest {
    final DefaultMessageChannel channel;
    private final Class<R> replyClass; // null: any
    private int id; // set on the loop before the frame is queued

    PendingRequest(DefaultMessageChannel channel, Class<R> replyClass) {
        this.channel = channel;
        this.replyClass = replyClass;
    }

    @Override
    public final int id() {
        return id;
    }

    @Override
    public final void id(int id) {
        this.id = id;
    }

    @Override
    @SuppressWarnings("unchecked")
    public final void deliver(CodecRegistry codecs, BodyLender lender, int type, ByteBuffer body) {
        try {
            complete((R) ReplyValues.of(codecs, type, body, replyClass, null, channel.name(), id));
        } catch (CodecException | ReplyTypeException e) {
            completeExceptionally(e);
        }
        cancelTimer();
    }

    @Override
    public final void fail(Throwable cause) {
        completeExceptionally(cause);
        cancelTimer();
    }

    @Override
    public void startTimer(EventLoop loop, Duration timeout) {
        throw new IllegalStateException("a request made without a timeout has no timer");
    }

    /** Stops the request's own loop timer, if it has one ({@link TimedRequest}). */
    void cancelTimer() {
    }

    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
        boolean cancelled = super.cancel(mayInterruptIfRunning);
        if (cancelled) {
            channel.forget(this);
            cancelTimer();
        }
        return cancelled;
    }
}
