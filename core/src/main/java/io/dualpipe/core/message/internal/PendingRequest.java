package io.dualpipe.core.message.internal;

import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.message.ReplyTypeException;

/**
 * A request waiting for its reply, and the future its caller holds: one object per request, made
 * for that call, so a caller's cancel or complete touches only its own request. Cancelling it (or
 * its timeout) forgets the request, so a late reply is dropped.
 *
 * <p>Kept to four fields (32 bytes with compressed oops): it is allocated for every request. A
 * request with a timeout is a {@link TimedRequest}, which can also hold a loop timer of its own.
 */
class PendingRequest<R> extends LoopFuture<R> {
    final DefaultMessageChannel channel;
    private final Class<R> replyClass; // null: any
    int id; // set on the loop before the frame is queued

    PendingRequest(DefaultMessageChannel channel, Class<R> replyClass) {
        this.channel = channel;
        this.replyClass = replyClass;
    }

    @SuppressWarnings("unchecked")
    final void deliver(Object value, int type) {
        if (replyClass == null || replyClass.isInstance(value)) {
            complete((R) value);
        } else {
            completeExceptionally(new ReplyTypeException(String.format("%s: reply to request %d is %s (type 0x%02x), expected %s",
                    channel.name(), Integer.toUnsignedLong(id), value == null ? "null" : value.getClass().getName(), type,
                    replyClass.getName())));
        }
        cancelTimer();
    }

    final void fail(Throwable cause) {
        completeExceptionally(cause);
        cancelTimer();
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
