package io.dualpipe.core.message.internal;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.Timeout;

import java.time.Duration;

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

    @Override
    public void startTimer(EventLoop loop, Duration timeout) {
        Timeout t = Deadlines.ownTimer(loop, channel, this, timeout);
        timer = t;
        if (isDone()) {
            t.cancel(); // the reply (or a cancel from another thread) beat the assignment
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
