package io.dualpipe.core.message;

import io.dualpipe.core.LoopFuture;

/**
 * The promise to answer one request later, from {@link MessageContext#defer()}.
 *
 * <p><b>Threading.</b> Thread-safe. Exactly one of the methods takes effect; later calls return a
 * future failed with a {@link ReplyStateException}. Each returns a future that completes when the
 * reply frame is in the kernel, and fails with an {@link io.dualpipe.core.codec.EncodeException}
 * (the request stays unanswered: call {@link #replyError} then) or a
 * {@link io.dualpipe.core.ChannelClosedException} when the channel closed first.
 */
public interface DeferredReply {

    /** {@return the request id as an unsigned 32-bit value} */
    long requestId();

    /**
     * Answers with {@code message}, encoded by the codec its class selects.
     *
     * @param message the reply
     * @return completes when the reply frame is in the kernel
     */
    LoopFuture<Void> reply(Object message);

    /**
     * Answers with {@code message}, encoded by the codec registered for {@code type}.
     *
     * @param type    the reply's type byte
     * @param message the reply
     * @return completes when the reply frame is in the kernel
     */
    LoopFuture<Void> reply(int type, Object message);

    /**
     * Answers with an error reply carrying {@code text}; the peer's request fails with a
     * {@link RemoteException} holding it.
     *
     * @param text the error text
     * @return completes when the reply frame is in the kernel
     */
    LoopFuture<Void> replyError(String text);
}
