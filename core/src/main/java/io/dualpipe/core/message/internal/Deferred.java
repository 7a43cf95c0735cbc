package io.dualpipe.core.message.internal;

import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.codec.Codecs;
import io.dualpipe.core.message.DeferredReply;
import io.dualpipe.core.message.ReplyStateException;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicBoolean;

import static io.dualpipe.core.codec.Frames.FLAG_ERROR;
import static io.dualpipe.core.codec.Frames.FLAG_REPLY;

/** A request answered later, possibly from another thread; the first call that sends a frame wins. */
final class Deferred implements DeferredReply {
    private final DefaultMessageChannel channel;
    private final int requestId;
    private final AtomicBoolean answered = new AtomicBoolean();

    Deferred(DefaultMessageChannel channel, int requestId) {
        this.channel = channel;
        this.requestId = requestId;
    }

    @Override
    public long requestId() {
        return Integer.toUnsignedLong(requestId);
    }

    @Override
    public LoopFuture<Void> reply(Object message) {
        int type;
        try {
            type = channel.sends().typeFor(message);
        } catch (RuntimeException e) {
            return LoopFuture.failed(e);
        }
        return reply(type, message);
    }

    @Override
    public LoopFuture<Void> reply(int type, Object message) {
        if (answered.get()) {
            return alreadyAnswered();
        }
        ByteBuffer body;
        try {
            body = channel.sends().encode(type, message);
        } catch (RuntimeException e) {
            return LoopFuture.failed(e); // still unanswered: replyError remains possible
        }
        return send(type, FLAG_REPLY, body);
    }

    @Override
    public LoopFuture<Void> replyError(String text) {
        return send(Codecs.UTF8, FLAG_REPLY | FLAG_ERROR, channel.sends().errorBody(text));
    }

    private LoopFuture<Void> send(int type, int flags, ByteBuffer body) {
        if (!answered.compareAndSet(false, true)) {
            return alreadyAnswered();
        }
        LoopFuture<Void> f = new LoopFuture<>();
        channel.sends().sendFrame(type, flags, requestId, body, f, channel.loop().inEventLoop());
        return f;
    }

    private LoopFuture<Void> alreadyAnswered() {
        return LoopFuture.failed(new ReplyStateException(channel.name() + ": request " + requestId() + " was already answered"));
    }
}
