package io.dualpipe.core.message.internal;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.Timeout;
import io.dualpipe.core.codec.CodecException;
import io.dualpipe.core.codec.CodecRegistry;
import io.dualpipe.core.internal.CallbackFailureLog;
import io.dualpipe.core.message.ReplyListener;
import io.dualpipe.core.message.ReplyTypeException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.time.Duration;

/**
 * A request whose caller waits with a {@link ReplyListener} rather than a future: nothing to chain
 * or cancel, so the only state is whether its outcome was told. Told once: a reply that races its
 * timeout, or a failure after the reply, finds it done and is dropped.
 *
 * <p>Loop thread only, but for a failure before the request was handed to the loop, which the
 * caller's thread tells; the loop's task queue orders that before anything the loop does with it.
 */
final class ListenerRequest<R> implements OpenRequest {
    private static final Logger LOG = LoggerFactory.getLogger(ListenerRequest.class);
    private static final CallbackFailureLog FAILURES = new CallbackFailureLog();

    private final DefaultMessageChannel channel;
    private final Class<R> replyClass; // null: any
    private final ReplyListener<? super R> listener;
    private int id;
    private boolean done;
    private Timeout timer; // only when its timeout found no lane

    ListenerRequest(DefaultMessageChannel channel, Class<R> replyClass, ReplyListener<? super R> listener) {
        this.channel = channel;
        this.replyClass = replyClass;
        this.listener = listener;
    }

    @Override
    public int id() {
        return id;
    }

    @Override
    public void id(int id) {
        this.id = id;
    }

    @Override
    public boolean isDone() {
        return done;
    }

    @Override
    @SuppressWarnings("unchecked")
    public void deliver(CodecRegistry codecs, BodyLender lender, int type, ByteBuffer body) {
        if (done) {
            return;
        }
        R value;
        try {
            value = (R) ReplyValues.of(codecs, type, body, replyClass, lender, channel.name(), id);
        } catch (CodecException | ReplyTypeException e) {
            fail(e);
            return;
        }
        finish();
        try {
            listener.onReply(value, null);
        } catch (Throwable t) {
            thrown(t);
        }
    }

    @Override
    public void fail(Throwable cause) {
        if (done) {
            return;
        }
        finish();
        try {
            listener.onReply(null, cause);
        } catch (Throwable t) {
            thrown(t);
        }
    }

    @Override
    public void startTimer(EventLoop loop, Duration timeout) {
        timer = Deadlines.ownTimer(loop, channel, this, timeout);
    }

    private void finish() {
        done = true;
        Timeout t = timer;
        if (t != null) {
            timer = null;
            t.cancel();
        }
    }

    // The listener runs inside the loop's read path: what it throws must not reach the channel or the loop.
    private void thrown(Throwable t) {
        FAILURES.threw(LOG, listener, t, "{}: reply listener {} of request {} threw", channel.name(), listener, Integer.toUnsignedLong(id));
    }
}
