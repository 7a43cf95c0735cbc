package io.dualpipe.core.message;

/**
 * What a {@link MessageHandler} knows about the message it is handling, and how it answers.
 *
 * <p><b>Borrowed.</b> The channel reuses one context for every message it dispatches, so that
 * handling a message allocates nothing beyond the decoded object. A context is valid only during the
 * {@link MessageHandler#onMessage} call it was passed to; using it afterwards fails with a
 * {@link ReplyStateException}. To answer later, or from another thread, take a {@link DeferredReply}
 * with {@link #defer()} during the call.
 *
 * <p><b>Threading.</b> Loop thread only (the thread running the handler).
 */
public interface MessageContext {

    /** {@return the channel the message arrived on} */
    MessageChannel channel();

    /** {@return the frame's type byte, 0..255} */
    int type();

    /** {@return true when the peer sent a request and waits for a reply} */
    boolean isRequest();

    /** {@return the request id as an unsigned 32-bit value; 0 for a one-way message} */
    long requestId();

    /**
     * Answers the request with {@code message}, encoded by the codec its class selects in the
     * channel's registry (the reply's type byte is that codec's). Frames sent from a handler are
     * written together when the handler's batch of input is done.
     *
     * @param message the reply
     * @throws ReplyStateException if this is not a request, it was already answered or deferred, or
     *     the handler has returned
     * @throws io.dualpipe.core.codec.EncodeException if the codec cannot encode {@code message}; the
     *     request is still unanswered then, so the handler may {@link #replyError} instead
     * @throws io.dualpipe.core.InvalidArgumentException if no codec takes the message's class
     */
    void reply(Object message);

    /**
     * As {@link #reply(Object)}, with the codec registered for {@code type}.
     *
     * @param type    the reply's type byte
     * @param message the reply, of that codec's class
     * @throws ReplyStateException as {@link #reply(Object)} does
     * @throws io.dualpipe.core.codec.UnknownTypeException if no codec is registered for {@code type}
     * @throws io.dualpipe.core.codec.EncodeException if the codec cannot encode {@code message}
     */
    void reply(int type, Object message);

    /**
     * Answers the request with an error reply carrying {@code text}; the peer's request fails with
     * a {@link RemoteException} holding it.
     *
     * @param text the error text
     * @throws ReplyStateException as {@link #reply(Object)} does
     */
    void replyError(String text);

    /**
     * Takes the duty to answer this request later: returns a handle that any thread may use once to
     * reply. After this the channel no longer answers for the handler when it returns.
     *
     * @return the handle, usable once, from any thread
     * @throws ReplyStateException if this is not a request, or it was already answered or deferred
     */
    DeferredReply defer();
}
