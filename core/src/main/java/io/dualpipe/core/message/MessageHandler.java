package io.dualpipe.core.message;

/**
 * Handles the messages of one type byte arriving on a {@link MessageChannel}.
 *
 * <p><b>Threading.</b> Called on the channel's loop thread, one message at a time per channel, in
 * arrival order. It must not block: every other channel of the loop waits meanwhile. Work that takes
 * long goes to an executor of the application's, with {@link MessageContext#defer()} to answer later.
 *
 * <p><b>Requests.</b> When {@link MessageContext#isRequest()} is true the peer waits for exactly one
 * reply: answer with {@link MessageContext#reply}/{@link MessageContext#replyError} before returning,
 * or take a {@link DeferredReply} with {@link MessageContext#defer()}. A handler that returns without
 * doing either, or throws, makes the channel answer with an error reply saying so, so the peer is
 * never left waiting.
 *
 * <p><b>Ownership.</b> {@code message} is the decoded object and belongs to the handler; the context
 * is borrowed and valid only until this method returns. A handler registered for
 * {@link java.nio.ByteBuffer} gets the body undecoded: a read-only buffer of exactly the body (index
 * 0 is its first byte), lent by the channel, which reuses it, so borrowed only until it returns
 * (reply with it, parse it, or copy it; never keep it).
 *
 * @param <T> the class of the decoded messages
 */
@FunctionalInterface
public interface MessageHandler<T> {

    /**
     * One message. Anything thrown is reported to the channel's {@link MessageErrorListener} as a
     * {@link HandlerException} (and answered with an error reply if this was an unanswered request);
     * the channel stays open.
     *
     * @param ctx     the message's context, borrowed until this method returns
     * @param message the decoded message, the handler's to keep (a {@link java.nio.ByteBuffer} body is borrowed)
     * @throws Exception anything; reported as a {@link HandlerException}
     */
    void onMessage(MessageContext ctx, T message) throws Exception;
}
