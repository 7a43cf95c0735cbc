package io.dualpipe.core.message.internal;

import io.dualpipe.core.message.DeferredReply;
import io.dualpipe.core.message.MessageChannel;
import io.dualpipe.core.message.MessageContext;
import io.dualpipe.core.message.ReplyStateException;

/**
 * The channel's one reusable {@link MessageContext}: re-armed for each dispatched message and
 * disarmed when its handler returns. Loop thread only.
 */
final class Context implements MessageContext {
    private static final int IDLE = 0;
    private static final int ACTIVE = 1;
    private static final int ANSWERED = 2;
    private static final int DEFERRED = 3;

    private final DefaultMessageChannel channel;
    private int type;
    private boolean request;
    private int requestId;
    private int state = IDLE;

    Context(DefaultMessageChannel channel) {
        this.channel = channel;
    }

    void begin(int type, boolean request, int requestId) {
        this.type = type;
        this.request = request;
        this.requestId = requestId;
        this.state = ACTIVE;
    }

    /** True while a request is being handled and has been neither answered nor deferred. */
    boolean unanswered() {
        return request && state == ACTIVE;
    }

    void end() {
        state = IDLE;
    }

    @Override
    public MessageChannel channel() {
        return channel;
    }

    @Override
    public int type() {
        return type;
    }

    @Override
    public boolean isRequest() {
        return request;
    }

    @Override
    public long requestId() {
        return Integer.toUnsignedLong(requestId);
    }

    @Override
    public void reply(Object message) {
        check("reply");
        reply(channel.sends().typeFor(message), message);
    }

    @Override
    public void reply(int type, Object message) {
        check("reply");
        // Encoding throws before the state changes: a rejected message leaves the request open for replyError.
        channel.sends().replyOnLoop(type, requestId, message);
        state = ANSWERED;
    }

    @Override
    public void replyError(String text) {
        check("replyError");
        state = ANSWERED;
        channel.sends().sendErrorReply(requestId, text);
    }

    @Override
    public DeferredReply defer() {
        check("defer");
        state = DEFERRED;
        return new Deferred(channel, requestId);
    }

    private void check(String op) {
        if (state == IDLE) {
            throw new ReplyStateException(channel.name() + ": MessageContext." + op
                    + "() after the handler returned; take a DeferredReply with defer() inside the handler to answer later");
        }
        if (!request) {
            throw new ReplyStateException(String.format("%s: message type 0x%02x was one-way: there is no request to %s",
                    channel.name(), type, op));
        }
        if (state == ANSWERED) {
            throw new ReplyStateException(channel.name() + ": request " + requestId() + " was already answered");
        }
        if (state == DEFERRED) {
            throw new ReplyStateException(channel.name() + ": request " + requestId()
                    + " was deferred: answer it through its DeferredReply");
        }
    }
}
