package io.dualpipe.core.message.internal;

import io.dualpipe.core.ChannelClosedException;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.codec.CodecRegistry;
import io.dualpipe.core.codec.Codecs;
import io.dualpipe.core.codec.EncodeException;
import io.dualpipe.core.codec.MessageCodec;
import io.dualpipe.core.message.ReplyListener;

import java.nio.ByteBuffer;
import java.time.Duration;

import static io.dualpipe.core.codec.Frames.FLAG_ERROR;
import static io.dualpipe.core.codec.Frames.FLAG_REPLY;
import static io.dualpipe.core.codec.Frames.FLAG_REQUEST;
import static io.dualpipe.core.codec.Frames.HEADER_SIZE;

/**
 * The channel's send side: our messages and requests, and the replies to the peer's requests, from
 * the caller's object to a frame queued in the {@link Outbound} through the {@link FrameWriter}.
 *
 * <p><b>Threading.</b> {@link #send}, {@link #request}, {@link #sendFrame}, {@link #typeFor} and
 * {@link #encode} are called from any thread: a call off the loop encodes on the calling thread
 * (codecs are thread-safe, and the caller learns of an encode error at once), then hands the frame
 * to the loop. Everything else runs on the loop thread.
 *
 * <p><b>Futures.</b> Each send and request hands its caller a future of its own, created for that
 * call; the channel keeps a reference only to complete it.
 */
final class SendSide {
    private static final MessageCodec<byte[]> BYTES_CODEC = Codecs.bytes();

    private final DefaultMessageChannel channel;
    private final EventLoop loop;
    private final CodecRegistry codecs;
    private final int maxFrameSize;
    private final FrameWriter writer;
    private final Outbound outbound;
    private final Requests requests;

    SendSide(DefaultMessageChannel channel, CodecRegistry codecs, int maxFrameSize, FrameWriter writer, Requests requests) {
        this.channel = channel;
        this.loop = channel.loop();
        this.codecs = codecs;
        this.maxFrameSize = maxFrameSize;
        this.writer = writer;
        this.outbound = writer.outbound;
        this.requests = requests;
    }

    LoopFuture<Void> send(int type, Object message) {
        LoopFuture<Void> f = new LoopFuture<>();
        boolean onLoop = loop.inEventLoop();
        byte[] borrowed = onLoop ? borrowable(type, message) : null;
        ByteBuffer body = null;
        if (borrowed == null) {
            try {
                body = body(type, message, onLoop);
            } catch (RuntimeException e) {
                f.completeExceptionally(e);
                return f;
            }
        }
        if (!channel.isOpen()) {
            f.completeExceptionally(channel.refusal()); // replies may still go out while closing; new messages not
        } else if (borrowed != null) {
            writer.queueFrame(type, 0, 0, null, borrowed, f);
        } else {
            writer.sendFrame(type, 0, 0, body, f, onLoop);
        }
        return f;
    }

    /**
     * A request without a timeout gets the smaller {@link PendingRequest}: the field for a loop
     * timer of its own is only ever needed with a timeout (see {@link TimedRequest}).
     */
    <R> LoopFuture<R> request(int type, Object message, Class<R> replyClass, Duration timeout) {
        Class<R> expected = expected(replyClass, timeout);
        PendingRequest<R> p = timeout == null ? new PendingRequest<>(channel, expected) : new TimedRequest<>(channel, expected);
        submit(p, type, message, timeout);
        return p;
    }

    /** The listener form: the same path, with a {@link ListenerRequest} where the future would be. */
    <R> void request(int type, Object message, Class<R> replyClass, Duration timeout, ReplyListener<? super R> listener) {
        Class<R> expected = expected(replyClass, timeout);
        InvalidArgumentException.requireNonNull("listener", listener);
        submit(new ListenerRequest<>(channel, expected, listener), type, message, timeout);
    }

    /** Checks the arguments every request form shares; returns the reply class to check, or null for any. */
    @SuppressWarnings("unchecked")
    private static <R> Class<R> expected(Class<R> replyClass, Duration timeout) {
        InvalidArgumentException.requireNonNull("replyClass", replyClass);
        if (timeout != null && (timeout.isNegative() || timeout.isZero())) {
            throw new InvalidArgumentException("timeout <= 0: " + timeout);
        }
        return replyClass == Object.class ? null : (Class<R>) boxed(replyClass);
    }

    /** Encodes (on the caller's thread) and starts {@code p} on the loop; a failure on the way goes to {@code p}. */
    private void submit(OpenRequest p, int type, Object message, Duration timeout) {
        boolean onLoop = loop.inEventLoop();
        byte[] borrowed = onLoop ? borrowable(type, message) : null;
        ByteBuffer body = null;
        if (borrowed == null) {
            try {
                body = body(type, message, onLoop);
            } catch (RuntimeException e) {
                p.fail(e);
                return;
            }
        }
        if (!channel.isOpen()) {
            p.fail(channel.refusal());
        } else if (onLoop) {
            startRequest(p, type, body, borrowed, timeout);
        } else {
            ByteBuffer owned = body;
            RuntimeException refused = writer.handOver(HEADER_SIZE + body.remaining(), () -> startRequest(p, type, owned, null, timeout));
            if (refused != null) {
                p.fail(refused);
            }
        }
    }

    /**
     * Loop: gives the request its id, starts its timer, queues its frame (body, or a borrowed small
     * array), tracks it. The timer comes first because it can fail (the loop is closing) and is
     * undone with the request; a frame once queued cannot be, so nothing that can throw follows it.
     */
    private void startRequest(OpenRequest p, int type, ByteBuffer body, byte[] borrowed, Duration timeout) {
        if (channel.isTerminated()) {
            p.fail(channel.refusal());
            return;
        }
        if (p.isDone()) {
            return; // cancelled on its way to the loop
        }
        if (channel.peerEnded()) {
            // Its held frames keep the channel open, but no reply can come any more.
            p.fail(new ChannelClosedException(channel.name() + ": the peer closed its end, no reply can come"));
            return;
        }
        int id = requests.nextId();
        p.id(id);
        if (timeout != null) {
            try {
                requests.startTimeout(p, timeout);
            } catch (RuntimeException e) {
                p.fail(e);
                return;
            }
        }
        Throwable refused = borrowed != null ? outbound.appendArray(type, FLAG_REQUEST, id, borrowed, null)
                : outbound.append(type, FLAG_REQUEST, id, body, null);
        if (refused != null) {
            p.fail(refused); // also stops its timer
            return;
        }
        requests.put(id, p);
        writer.afterAppend();
    }

    /** Queues a frame; a refusal (closed channel) goes to {@code f} when there is one. Any thread. */
    void sendFrame(int type, int flags, int requestId, ByteBuffer body, LoopFuture<Void> f, boolean onLoop) {
        writer.sendFrame(type, flags, requestId, body, f, onLoop);
    }

    /**
     * Loop (the context): encodes and queues a reply. An encode failure is thrown before anything is
     * queued, so the request is still open for an error reply.
     */
    void replyOnLoop(int type, int requestId, Object message) {
        byte[] borrowed = borrowable(type, message);
        ByteBuffer body = borrowed == null ? body(type, message, true) : null;
        if (channel.isClosed()) {
            writer.refuse(null, type, channel.refusal());
        } else {
            writer.queueFrame(type, FLAG_REPLY, requestId, body, borrowed, null);
        }
    }

    void sendErrorReply(int requestId, String text) {
        writer.sendFrame(Codecs.UTF8, FLAG_REPLY | FLAG_ERROR, requestId, errorBody(text), null, loop.inEventLoop());
    }

    /** The body of an error reply, cut to fit maxFrameSize (see {@link FrameWriter#errorBody}). */
    ByteBuffer errorBody(String text) {
        return writer.errorBody(text);
    }

    int typeFor(Object message) {
        if (message == null) {
            throw new InvalidArgumentException(channel.name()
                    + ": message is null; to send null, name a type whose codec takes it, e.g. send(Codecs.JSON, null)");
        }
        if (message instanceof ByteBuffer) {
            throw new InvalidArgumentException(channel.name()
                    + ": a ByteBuffer is a raw body, which no codec selects: name its type, e.g. send(Codecs.BYTES, buffer)");
        }
        return codecs.codecFor(message.getClass()).type();
    }

    /**
     * Loop only: the caller's array itself when it can be the body as it is. The built-in bytes codec
     * copies the array so that a frame written later cannot see the caller's changes; a body this
     * small, queued on the loop, is copied into the frame buffer before the send returns, so that copy
     * (and a wrapper) would be wasted. An array over maxFrameSize is not borrowed, so that
     * {@link #encode} refuses it as it would from any other thread: the peer would drop the
     * connection on such a frame.
     */
    private byte[] borrowable(int type, Object message) {
        return type == Codecs.BYTES && message instanceof byte[] bytes && bytes.length <= Outbound.COPY_LIMIT
                && bytes.length <= maxFrameSize && codecs.codec(Codecs.BYTES) == BYTES_CODEC ? bytes : null;
    }

    /**
     * Loop or not: the body to queue for {@code message}. A raw {@link ByteBuffer} body small enough to
     * be copied into the frame chunk is, on the loop, that buffer itself: {@link Outbound#append}
     * copies it before the send returns, without moving its position. Anything else is
     * {@link #encode}d.
     */
    private ByteBuffer body(int type, Object message, boolean onLoop) {
        if (onLoop && message instanceof ByteBuffer raw && raw.remaining() <= Outbound.COPY_LIMIT
                && raw.remaining() <= maxFrameSize) {
            codecs.codec(type); // the type must be known, as for any other body
            return raw;
        }
        return encode(type, message);
    }

    /**
     * The body for {@code message}, owned by the channel from now on: the codec's encoding, or a copy
     * of a raw {@link ByteBuffer} body's remaining bytes (its position left as it was).
     */
    ByteBuffer encode(int type, Object message) {
        ByteBuffer body;
        if (message instanceof ByteBuffer raw) {
            codecs.codec(type); // the type must be known, as for any other body
            body = ByteBuffer.allocate(raw.remaining());
            body.put(0, raw, raw.position(), raw.remaining());
        } else {
            body = codecs.encode(type, message);
        }
        if (body.remaining() > maxFrameSize) {
            throw new EncodeException(type, String.format("%s: encoded body of %d bytes > maxFrameSize %d (type 0x%02x)",
                    channel.name(), body.remaining(), maxFrameSize, type));
        }
        return body;
    }

    private static Class<?> boxed(Class<?> c) {
        if (!c.isPrimitive()) {
            return c;
        }
        return c == int.class ? Integer.class : c == long.class ? Long.class : c == boolean.class ? Boolean.class
                : c == double.class ? Double.class : c == float.class ? Float.class : c == short.class ? Short.class
                : c == byte.class ? Byte.class : c == char.class ? Character.class : Void.class;
    }
}
