package io.dualpipe.core.message;

import io.dualpipe.core.ByteSink;
import io.dualpipe.core.ByteSource;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.codec.CodecRegistry;

import java.time.Duration;

/**
 * Typed messages over a byte stream: frames as {@code docs/wire-format.md} describes them, encoded
 * and decoded by a {@link CodecRegistry}, over any {@link ByteSource} and {@link ByteSink} pair on one
 * loop: a socket (one duplex stream for both), or a child's stdout and stdin.
 *
 * <pre>{@code
 * MessageChannel ch = MessageChannel.builder(codecs)
 *         .handle(Codecs.UTF8, String.class, (ctx, text) -> ctx.reply(text.toUpperCase()))
 *         .open(child.stdout(), child.stdin());
 * String pong = ch.request("ping", String.class).get();
 * }</pre>
 *
 * <p><b>Sending.</b> {@code send} writes a one-way message; {@code request} sends a request and
 * completes with the decoded reply, matched by request id (replies may come in any order). An error
 * reply fails the request with a {@link RemoteException}. Encoding happens on the caller's thread; a
 * message the codec rejects fails the returned future with an
 * {@link io.dualpipe.core.codec.EncodeException} and the channel stays usable. Frames from one thread
 * are sent in call order. A send's future completes when the frame is in the kernel.
 *
 * <p><b>Batching.</b> The channel's state belongs to its loop thread, so the per-message path takes
 * no lock. Frames sent on the loop thread while the channel is handling its input (replies from
 * handlers, requests chained on replies) are written together, in one system call, when the chunk of
 * input at hand is done; other frames at the end of the loop's pass. A call from another thread
 * encodes the message on that thread, then hands the frame to the loop, which writes it with
 * whatever else is queued: senders on many threads share system calls too, at the price of a hop
 * to the loop.
 *
 * <p><b>Backpressure.</b> The channel never refuses a frame for being over its high water mark
 * (64 KiB of frames the kernel has not taken, by default). Producers pace themselves with
 * {@link #isWritable()} and {@link #whenWritable()}. The channel always reads on, so replies to our
 * own requests are always read and delivered, whatever the peer sends. While the channel is not
 * writable it stops <i>dispatching</i> the peer's requests instead: it holds them, and the frames
 * after them, in the peer's order, and dispatches them once it is writable again, so a peer that
 * sends requests without reading the replies cannot make it queue replies without bound. Only when
 * the held frames reach the backlog limit (256 KiB by default, {@link MessageChannelBuilder#backlog})
 * does it stop reading until it has dispatched half of them; if the peer then takes none of its
 * bytes for the stall timeout (10 s by default), both sides are stuck for good, and the channel
 * closes with a {@link PeerStalledException} instead of hanging. One-way messages do not wait while
 * nothing is held: the protocol makes the channel produce nothing for them.
 *
 * <p><b>Receiving.</b> Handlers are registered per type byte ({@link #handle}); a message of a type
 * without one goes to the catch-all ({@link #handleAny}) if there is one. Messages that cannot be
 * delivered (undecodable body, unknown type, no handler, a handler that threw) are reported to the
 * {@link MessageErrorListener} and answered with an error reply if they were requests; the channel
 * stays open. A corrupt header (unknown flag bits, a length over {@code maxFrameSize}) or a stream
 * that ends inside a frame is a protocol error: the channel logs it and closes, failing
 * {@link #closeFuture()} with the {@link io.dualpipe.core.codec.ProtocolException}. Input is decoded
 * straight from the loop's read buffer; a body is copied only by its codec.
 *
 * <p><b>Closing.</b> When the peer ends its stream the channel's pending requests fail with a
 * {@link io.dualpipe.core.ChannelClosedException}, the peer's frames it holds are still dispatched
 * and queued frames still written, then it closes (within the stall timeout if the peer reads none
 * of them, see {@link #closeGracefully()}).
 * {@link #close()} closes at once: pending requests and unwritten sends fail with a
 * {@link io.dualpipe.core.ChannelClosedException}. When the loop closes they fail with a
 * {@link io.dualpipe.core.LoopClosedException}. The channel owns its source and sink and closes both.
 *
 * <p><b>Threading.</b> Every method is thread-safe, and calls from one thread take effect in call
 * order. Handlers, the error listener, and the completions of send and reply futures run on the loop
 * thread (a future already failed by a refused call completes on the caller's). Never block in them.
 *
 * <p><b>Buffers.</b> The channel owns the bodies codecs return; a message object may be reused by
 * the caller once {@code send}/{@code request} returns (its body is encoded, or copied, by then);
 * handlers own the decoded messages; the {@link MessageContext} passed to a handler is borrowed for
 * the call.
 *
 * <p><b>Raw bodies.</b> A {@link java.nio.ByteBuffer} is never run through a codec, for any type
 * byte: as a message (to {@code send}, {@code request}, a reply) its remaining bytes are the body,
 * copied before the call returns, its position left as it was; the type must still be one the
 * registry knows. As the class a handler takes ({@link #handle}) or a {@link ReplyListener} asks
 * for, it is the frame's body undecoded: a read-only buffer of exactly the body (index 0 is its
 * first byte, its capacity the body's length), lent by the channel, which reuses it, so it is
 * <b>valid only until the handler or listener returns</b>. Through a future
 * ({@code request(..., ByteBuffer.class, ...)}) it is a copy the caller owns. Servers that forward
 * or echo bodies, or parse them in place, so allocate nothing per message.
 *
 * <p><b>Listeners instead of futures.</b>
 * {@link #request(int, Object, Class, Duration, ReplyListener)} takes a {@link ReplyListener}
 * called once with the outcome; it allocates no future, so it suits a loop that makes a request
 * per reply it gets. Timeouts, ordering and failures are as with the future form.
 */
public interface MessageChannel extends AutoCloseable {

    /**
     * A channel over {@code in} and {@code out} with the default settings and no handlers yet.
     *
     * @param in     where frames are read from; the channel takes it over
     * @param out    where frames are written; the channel owns it (the same object as {@code in} for
     *               a socket)
     * @param codecs the codecs of both directions
     * @return the open channel
     * @throws io.dualpipe.core.InvalidArgumentException if {@code in} and {@code out} are served by
     *         different loops
     */
    static MessageChannel over(ByteSource in, ByteSink out, CodecRegistry codecs) {
        return builder(codecs).open(in, out);
    }

    /**
     * A builder, for handlers that must be in place before the first frame is read, and limits.
     *
     * @param codecs the codecs of both directions
     * @return a builder with the default settings
     */
    static MessageChannelBuilder builder(CodecRegistry codecs) {
        return new MessageChannelBuilder(codecs);
    }

    /** {@return a name for logs and error messages, e.g. {@code unix:/run/app.sock#3}} */
    String name();

    /** {@return the loop serving both directions} */
    EventLoop loop();

    /** {@return the codecs frames are encoded and decoded with} */
    CodecRegistry codecs();

    /** {@return who is at the other end, as far as the transport knows} */
    Peer peer();

    /**
     * Routes messages of {@code type} to {@code handler}, replacing an earlier handler for it. Takes
     * effect for frames read after this call.
     *
     * @param <T>          the class the handler takes
     * @param type         the type byte, 1..255
     * @param messageClass what the handler takes; a decoded message of another class is reported to
     *                     the error listener instead (useful with json's {@code Object});
     *                     {@link java.nio.ByteBuffer} for the body undecoded, borrowed for the call
     * @param handler      called on the loop thread for each such message
     * @return this channel
     * @throws io.dualpipe.core.InvalidArgumentException if the registry has no codec for {@code type},
     *     or its class and {@code messageClass} are unrelated
     */
    <T> MessageChannel handle(int type, Class<T> messageClass, MessageHandler<? super T> handler);

    /**
     * Takes every message whose type has no handler of its own ({@link MessageContext#type()} tells which).
     *
     * @param handler called on the loop thread for each such message
     * @return this channel
     */
    MessageChannel handleAny(MessageHandler<Object> handler);

    /**
     * Replaces the error listener (default: log at WARN).
     *
     * @param listener called on the loop thread, not null
     * @return this channel
     */
    MessageChannel onError(MessageErrorListener listener);

    /**
     * Sends a one-way message, encoded by the codec its class selects in the registry.
     *
     * @param message the message; reusable by the caller once this returns
     * @return completes when the frame is in the kernel
     */
    LoopFuture<Void> send(Object message);

    /**
     * Sends a one-way message, encoded by the codec registered for {@code type}.
     *
     * @param type    the type byte
     * @param message the message, of that codec's class; reusable by the caller once this returns
     * @return completes when the frame is in the kernel
     */
    LoopFuture<Void> send(int type, Object message);

    /**
     * Sends a request, encoded by the codec its class selects; no timeout.
     *
     * @param message the request; reusable by the caller once this returns
     * @return the decoded reply
     */
    LoopFuture<Object> request(Object message);

    /**
     * Sends a request; completes with the reply, which must be a {@code replyClass}
     * ({@link ReplyTypeException} otherwise); no timeout.
     *
     * @param <R>        the reply's class
     * @param message    the request; reusable by the caller once this returns
     * @param replyClass the class the reply must be of
     * @return the reply
     */
    <R> LoopFuture<R> request(Object message, Class<R> replyClass);

    /**
     * As {@link #request(Object, Class)}; with a non-null {@code timeout}, fails with a
     * {@link RequestTimeoutException} if no reply came in time, and the late reply is dropped.
     *
     * @param <R>        the reply's class
     * @param message    the request; reusable by the caller once this returns
     * @param replyClass the class the reply must be of
     * @param timeout    how long to wait for the reply, or null for no limit
     * @return the reply
     */
    <R> LoopFuture<R> request(Object message, Class<R> replyClass, Duration timeout);

    /**
     * The general form: the message encoded by the codec for {@code type}.
     *
     * @param <R>        the reply's class
     * @param type       the request's type byte
     * @param message    the request, of that codec's class; reusable by the caller once this returns
     * @param replyClass the class the reply must be of
     * @param timeout    how long to wait for the reply, or null for no limit
     * @return the reply
     */
    <R> LoopFuture<R> request(int type, Object message, Class<R> replyClass, Duration timeout);

    /**
     * As {@link #request(int, Object, Class, Duration)}, but the outcome goes to {@code listener}
     * instead of a future: no future is allocated, nothing can be chained or cancelled. The listener
     * is called exactly once: on the loop thread, or on the calling thread before this returns if
     * the request fails before it is handed to the loop (see {@link ReplyListener}).
     *
     * <p>With {@code replyClass} {@link java.nio.ByteBuffer}, the reply is not decoded: the listener
     * gets a read-only view of its body, valid only until it returns.
     *
     * @param <R>        the reply's class
     * @param type       the request's type byte
     * @param message    the request, of that codec's class, or a {@link java.nio.ByteBuffer} body;
     *                   reusable by the caller once this returns
     * @param replyClass the class the reply must be of ({@link ReplyTypeException} otherwise)
     * @param timeout    how long to wait for the reply, or null for no limit
     * @param listener   told the outcome, once
     * @throws io.dualpipe.core.InvalidArgumentException if {@code replyClass} or {@code listener} is
     *         null or {@code timeout} is not positive (thrown: the listener is not called)
     */
    <R> void request(int type, Object message, Class<R> replyClass, Duration timeout, ReplyListener<? super R> listener);

    /** {@return true while no more than the high water mark of frames is queued, and the channel is open} */
    boolean isWritable();

    /**
     * {@return a future that completes when queued frames are at or below the low water mark, and
     * fails if the channel closes first}
     */
    LoopFuture<Void> whenWritable();

    /** {@return the bytes of frames accepted and not yet taken by the kernel} */
    long queuedBytes();

    /** {@return the number of requests sent and not yet answered} */
    int pendingRequests();

    /** {@return true until a close begins} */
    boolean isOpen();

    /**
     * Completes when the channel has closed: normally after {@link #close()}, a graceful close or the
     * peer's end of stream; exceptionally with what broke it otherwise (a
     * {@link io.dualpipe.core.codec.ProtocolException}, an I/O error, a
     * {@link io.dualpipe.core.LoopClosedException}, a {@link PeerStalledException}).
     *
     * <p>Each call returns a new future that follows the channel's own: cancelling or completing it,
     * or {@code orTimeout} on it, changes only that copy, never what the channel or other callers see.
     *
     * @return a new future, completed with null when the channel has closed normally
     */
    LoopFuture<Void> closeFuture();

    /**
     * Refuses new frames, lets the queued ones reach the kernel, then closes as {@link #close()} does.
     * If the peer takes none of the queued bytes for the stall timeout (10 s by default,
     * {@link MessageChannelBuilder#stallTimeout}), it closes at once instead, failing
     * {@link #closeFuture()} with a {@link PeerStalledException}: a peer that never reads cannot hold
     * the channel open for good.
     *
     * @return a new {@link #closeFuture()}
     */
    LoopFuture<Void> closeGracefully();

    /** Closes now: pending requests and unwritten sends fail with a {@link io.dualpipe.core.ChannelClosedException}. Idempotent. */
    @Override
    void close();
}
