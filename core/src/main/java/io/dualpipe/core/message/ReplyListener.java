package io.dualpipe.core.message;

/**
 * Receives the outcome of one request made with
 * {@link MessageChannel#request(int, Object, Class, java.time.Duration, ReplyListener)}: the
 * allocation-free alternative to the future a request otherwise returns, for a server that makes
 * millions of requests and only ever chains one step on each reply.
 *
 * <p><b>Called exactly once</b>, with either the reply ({@code failure} null) or the reason there is
 * none ({@code reply} null): a {@link RemoteException}, {@link RequestTimeoutException},
 * {@link ReplyTypeException}, a {@link io.dualpipe.core.codec.CodecException}, or a
 * {@link io.dualpipe.core.ChannelClosedException} when the channel closes first.
 *
 * <p><b>Threading.</b> Called on the channel's loop thread, with one exception: a request that fails
 * before it leaves the calling thread (its message cannot be encoded, the channel is already closed,
 * the loop is shutting down) is told so on the calling thread, before {@code request} returns. On the
 * loop it must not block, as a {@link MessageHandler} must not. It may make further requests. What it
 * throws is logged (bounded: 20 times a minute per listener class at WARN, the rest at DEBUG) and
 * dropped: the channel and the loop go on.
 *
 * <p><b>Ownership.</b> A decoded reply is the listener's to keep. A reply asked for as
 * {@link java.nio.ByteBuffer} is not decoded: it is a read-only buffer of exactly the frame's body
 * (index 0 is its first byte), lent by the channel, which reuses it, so <b>valid only until this
 * method returns</b>; copy what must outlive the call.
 *
 * @param <R> the class of the reply
 */
@FunctionalInterface
public interface ReplyListener<R> {

    /**
     * The request's outcome.
     *
     * @param reply   the reply, or null when {@code failure} is set (a reply may also be null itself,
     *                e.g. JSON {@code null})
     * @param failure why no reply came, or null
     */
    void onReply(R reply, Throwable failure);
}
