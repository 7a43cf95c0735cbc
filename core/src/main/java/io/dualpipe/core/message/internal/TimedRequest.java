package io.dualpipe.core.message.internal;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.Timeout;
import io.dualpipe.core.internal.Durations;
import io.dualpipe.core.message.RequestTimeoutException;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A request made with a timeout. Its timeout is mostly kept by a lane ({@link Deadlines}); only a
 * request whose timeout found no lane gets a loop timer of its own, held here, so the requests
 * without a timeout, the common case, do not carry the field.
 */
final class TimedRequest<R> extends PendingRequest<R> {
    private volatile Timeout timer;

    TimedRequest(DefaultMessageChannel channel, Class<R> replyClass) {
        super(channel, replyClass);
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

    @Override
    void cancelTimer() {
        Timeout t = timer;
        if (t != null) {
            t.cancel();
        }
    }
}
