package io.dualpipe.core.message.internal;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.Timeout;
import io.dualpipe.core.internal.Durations;
import io.dualpipe.core.message.ReplyTypeException;
import io.dualpipe.core.message.RequestTimeoutException;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A request waiting for its reply, and the future its caller holds: one object per request.
 * Cancelling it (or its timeout) forgets the request, so a late reply is dropped.
 */
final class PendingRequest<R> extends LoopFuture<R> {
    private final DefaultMessageChannel channel;
    private final Class<R> replyClass; // null: any
    int id; // set on the loop before the frame is queued
    private volatile Timeout timer;

    PendingRequest(DefaultMessageChannel channel, Class<R> replyClass) {
        this.channel = channel;
        this.replyClass = replyClass;
    }

    @SuppressWarnings("unchecked")
    void deliver(Object value, int type) {
        if (replyClass == null || replyClass.isInstance(value)) {
            complete((R) value);
        } else {
            completeExceptionally(new ReplyTypeException(String.format("%s: reply to request %d is %s (type 0x%02x), expected %s",
                    channel.name(), Integer.toUnsignedLong(id), value == null ? "null" : value.getClass().getName(), type,
                    replyClass.getName())));
        }
        cancelTimer();
    }

    void fail(Throwable cause) {
        completeExceptionally(cause);
        cancelTimer();
    }

    /** A timeout too long for nanoseconds waits ~146 years, i.e. has no practical limit. */
    void startTimer(EventLoop loop, Duration timeout) {
        Timeout t = loop.schedule(() -> {
            if (!isDone()) {
                channel.forget(this);
                completeExceptionally(new RequestTimeoutException(channel.name() + ": no reply to request "
                        + Integer.toUnsignedLong(id) + " within " + timeout));
            }
        }, Durations.saturatedNanos(timeout), TimeUnit.NANOSECONDS);
        timer = t;
        if (isDone()) {
            t.cancel(); // the reply beat the assignment
        }
    }

    private void cancelTimer() {
        Timeout t = timer;
        if (t != null) {
            t.cancel();
        }
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
