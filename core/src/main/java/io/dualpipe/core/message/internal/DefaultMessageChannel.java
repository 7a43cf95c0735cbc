package io.dualpipe.core.message.internal;

import io.dualpipe.core.ByteSink;
import io.dualpipe.core.ByteSource;
import io.dualpipe.core.ChannelClosedException;
import io.dualpipe.core.DualPipeException;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.LoopClosedException;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.codec.CodecException;
import io.dualpipe.core.codec.CodecRegistry;
import io.dualpipe.core.codec.Codecs;
import io.dualpipe.core.codec.EncodeException;
import io.dualpipe.core.codec.FrameDecoder;
import io.dualpipe.core.codec.FrameListener;
import io.dualpipe.core.codec.MessageCodec;
import io.dualpipe.core.codec.ProtocolException;
import io.dualpipe.core.codec.UnknownTypeException;
import io.dualpipe.core.message.HandlerException;
import io.dualpipe.core.message.MessageChannel;
import io.dualpipe.core.message.MessageErrorListener;
import io.dualpipe.core.message.MessageHandler;
import io.dualpipe.core.message.NoHandlerException;
import io.dualpipe.core.message.Peer;
import io.dualpipe.core.message.RemoteException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

import static io.dualpipe.core.codec.Frames.FLAG_ERROR;
import static io.dualpipe.core.codec.Frames.FLAG_REPLY;
import static io.dualpipe.core.codec.Frames.FLAG_REQUEST;

/**
 * The {@link MessageChannel}: frames in through a {@link ByteSource} listener and a
 * {@link FrameDecoder} fed the loop's own read buffer, frames out through an {@link Outbound}
 * coalescing queue.
 *
 * <p><b>Locking.</b> {@code lock} guards the open/closing/closed state, the request table, the id
 * counter and the outbound queue, so that registering a request and queueing its frame is one step.
 * Futures are completed outside it. Decoding, dispatch, the reusable context and the flush
 * scheduling flags are loop-confined.
 *
 * <p><b>When frames are written.</b> A frame sent from another thread is written at once on that
 * thread (as {@link ByteSink#write} does). One sent on the loop thread while this channel is
 * dispatching its input (a handler's reply, a request chained on a reply) waits until the current
 * chunk of input is done, so a burst of replies is one write; one sent on the loop from elsewhere
 * (another channel's handler, a timer) is written by a task at the end of the loop's pass. A chunk
 * that fills up is written at once whatever the thread.
 */
final class DefaultMessageChannel implements MessageChannel {
    private static final Logger LOG = LoggerFactory.getLogger(DefaultMessageChannel.class);
    private static final MessageErrorListener LOGGING = (ch, e) -> LOG.warn("{}", e.getMessage(), e.getCause());
    private static final int OPEN = 0;
    private static final int CLOSING = 1;
    private static final int CLOSED = 2;
    private static final MessageCodec<byte[]> BYTES_CODEC = Codecs.bytes();

    private final String name;
    private final EventLoop loop;
    private final ByteSource in;
    private final ByteSink out;
    private final CodecRegistry codecs;
    private final Peer peer;
    private final int maxFrameSize;
    private final LoopFuture<Void> closeFuture = new LoopFuture<>();

    // ---- guarded by lock ----
    private final Object lock = new Object();
    private final Outbound outbound;
    private final RequestTable requests = new RequestTable();
    private int nextRequestId = 1;
    private volatile int state = OPEN; // written under lock; read without it for quick checks

    private volatile HandlerTable handlers;
    private volatile MessageErrorListener errorListener;

    // ---- loop thread only ----
    private final FrameDecoder decoder;
    private final Context context = new Context(this);
    private final Inbound inbound = new Inbound();
    private final Runnable flushTask = this::scheduledFlush;
    private boolean dispatching;
    private boolean flushAfterDispatch;
    private boolean flushScheduled;
    private boolean inputPaused;

    private DefaultMessageChannel(ChannelSettings s, ByteSource in, ByteSink out, String name, Peer peer) {
        this.in = InvalidArgumentException.requireNonNull("in", in);
        this.out = InvalidArgumentException.requireNonNull("out", out);
        if (in.loop() != out.loop()) {
            throw new InvalidArgumentException("in and out must be served by one event loop: " + in.loop() + " vs " + out.loop());
        }
        this.loop = in.loop();
        this.name = name != null ? name : "MessageChannel[" + in + (in == out ? "" : " / " + out) + "]";
        this.peer = peer != null ? peer : Peer.unknown(this.name);
        this.codecs = s.codecs;
        this.maxFrameSize = s.maxFrameSize;
        this.handlers = s.handlers;
        this.errorListener = s.errorListener != null ? s.errorListener : LOGGING;
        this.decoder = new FrameDecoder(s.maxFrameSize);
        this.outbound = new Outbound(out, lock, s.lowWater, s.highWater, this::writeFailed);
    }

    static MessageChannel open(ChannelSettings s, ByteSource in, ByteSink out, String name, Peer peer) {
        DefaultMessageChannel ch = new DefaultMessageChannel(s, in, out, name, peer);
        in.listen(ch.inbound);
        return ch;
    }

    // =========================================================================================
    // Configuration
    // =========================================================================================

    @Override
    public String name() {
        return name;
    }

    @Override
    public EventLoop loop() {
        return loop;
    }

    @Override
    public CodecRegistry codecs() {
        return codecs;
    }

    @Override
    public Peer peer() {
        return peer;
    }

    @Override
    public <T> MessageChannel handle(int type, Class<T> messageClass, MessageHandler<? super T> handler) {
        synchronized (lock) {
            handlers = handlers.with(codecs, type, messageClass, handler);
        }
        return this;
    }

    @Override
    public MessageChannel handleAny(MessageHandler<Object> handler) {
        synchronized (lock) {
            handlers = handlers.withAny(handler);
        }
        return this;
    }

    @Override
    public MessageChannel onError(MessageErrorListener listener) {
        this.errorListener = InvalidArgumentException.requireNonNull("listener", listener);
        return this;
    }

    // =========================================================================================
    // Sending
    // =========================================================================================

    @Override
    public LoopFuture<Void> send(Object message) {
        int type;
        try {
            type = typeFor(message);
        } catch (RuntimeException e) {
            return LoopFuture.failed(e);
        }
        return send(type, message);
    }

    @Override
    public LoopFuture<Void> send(int type, Object message) {
        LoopFuture<Void> f = new LoopFuture<>();
        ByteBuffer body;
        try {
            body = encode(type, message);
        } catch (RuntimeException e) {
            f.completeExceptionally(e);
            return f;
        }
        sendFrame(type, 0, 0, body, f);
        return f;
    }

    @Override
    public LoopFuture<Object> request(Object message) {
        return request(message, Object.class, null);
    }

    @Override
    public <R> LoopFuture<R> request(Object message, Class<R> replyClass) {
        return request(message, replyClass, null);
    }

    @Override
    public <R> LoopFuture<R> request(Object message, Class<R> replyClass, Duration timeout) {
        int type;
        try {
            type = typeFor(message);
        } catch (RuntimeException e) {
            return LoopFuture.failed(e);
        }
        return request(type, message, replyClass, timeout);
    }

    @Override
    @SuppressWarnings("unchecked")
    public <R> LoopFuture<R> request(int type, Object message, Class<R> replyClass, Duration timeout) {
        InvalidArgumentException.requireNonNull("replyClass", replyClass);
        if (timeout != null && (timeout.isNegative() || timeout.isZero())) {
            throw new InvalidArgumentException("timeout <= 0: " + timeout);
        }
        Class<R> wanted = replyClass == Object.class ? null : (Class<R>) boxed(replyClass);
        PendingRequest<R> p = new PendingRequest<>(this, wanted);
        ByteBuffer body;
        try {
            body = encode(type, message);
        } catch (RuntimeException e) {
            p.completeExceptionally(e);
            return p;
        }
        Throwable refused;
        boolean flushNow;
        synchronized (lock) {
            refused = refusal();
            if (refused == null) {
                p.id = nextRequestId();
                requests.put(p.id, p);
                refused = outbound.append(type, FLAG_REQUEST, p.id, body, null);
                if (refused != null) {
                    requests.remove(p.id);
                }
            }
            flushNow = outbound.hasSealed();
        }
        if (refused != null) {
            p.completeExceptionally(refused);
            return p;
        }
        if (timeout != null) {
            p.startTimer(loop, timeout);
        }
        afterAppend(flushNow);
        return p;
    }

    /** Next id: non-zero, and not one still waiting for its reply after the counter wrapped. Under lock. */
    private int nextRequestId() {
        int id;
        do {
            id = nextRequestId++;
        } while (id == 0 || requests.contains(id));
        return id;
    }

    /** Queues a frame; failures (closed channel) go to {@code f} when there is one. Any thread. */
    void sendFrame(int type, int flags, int requestId, ByteBuffer body, LoopFuture<Void> f) {
        Throwable refused;
        boolean flushNow;
        synchronized (lock) {
            refused = refusal();
            if (refused == null) {
                refused = outbound.append(type, flags, requestId, body, f);
            }
            flushNow = outbound.hasSealed();
        }
        if (refused != null) {
            if (f != null) {
                f.completeExceptionally(refused);
            } else {
                LOG.debug("{}: frame type 0x{} dropped: {}", name, Integer.toHexString(type), refused.getMessage());
            }
            return;
        }
        afterAppend(flushNow);
    }

    void sendReply(int type, int requestId, ByteBuffer body) {
        sendFrame(type, FLAG_REPLY, requestId, body, null);
    }

    void sendErrorReply(int requestId, String text) {
        sendFrame(Codecs.UTF8, FLAG_REPLY | FLAG_ERROR, requestId, errorBody(text), null);
    }

    static ByteBuffer errorBody(String text) {
        return ByteBuffer.wrap(String.valueOf(text).getBytes(StandardCharsets.UTF_8));
    }

    /** Under lock: why a new frame cannot be queued, or null. */
    private Throwable refusal() {
        if (state == OPEN) {
            return null;
        }
        return new ChannelClosedException(name + ": " + (state == CLOSING ? "closing" : "closed") + ", no more frames are sent");
    }

    private void afterAppend(boolean flushNow) {
        if (flushNow || !loop.inEventLoop()) {
            outbound.flush();
        } else if (dispatching) {
            flushAfterDispatch = true;
        } else if (!flushScheduled) {
            flushScheduled = true;
            try {
                loop.execute(flushTask);
            } catch (LoopClosedException e) {
                flushScheduled = false;
                outbound.flush();
            }
        }
    }

    private void scheduledFlush() {
        flushScheduled = false;
        outbound.flush();
    }

    int typeFor(Object message) {
        if (message == null) {
            throw new InvalidArgumentException(name + ": message is null; to send null, name a type whose codec takes it, e.g. send(Codecs.JSON, null)");
        }
        return codecs.codecFor(message.getClass()).type();
    }

    /**
     * The body for {@code message}; the channel owns it. One shortcut: the built-in bytes codec copies
     * the array so a frame written later cannot see the caller's changes, but a body this small is
     * copied into the frame buffer before {@code send} returns, so that copy would be a wasted one.
     * Callers append the result before returning, which is what makes wrapping safe.
     */
    ByteBuffer encode(int type, Object message) {
        if (message instanceof byte[] bytes && bytes.length <= Outbound.COPY_LIMIT && type == Codecs.BYTES
                && codecs.codec(Codecs.BYTES) == BYTES_CODEC) {
            return ByteBuffer.wrap(bytes);
        }
        ByteBuffer body = codecs.encode(type, message);
        if (body.remaining() > maxFrameSize) {
            throw new EncodeException(type, String.format("%s: encoded body of %d bytes > maxFrameSize %d (type 0x%02x)",
                    name, body.remaining(), maxFrameSize, type));
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

    // =========================================================================================
    // Backpressure
    // =========================================================================================

    @Override
    public boolean isWritable() {
        return outbound.isWritable();
    }

    @Override
    public LoopFuture<Void> whenWritable() {
        return outbound.whenWritable();
    }

    @Override
    public long queuedBytes() {
        return outbound.queuedBytes();
    }

    @Override
    public int pendingRequests() {
        synchronized (lock) {
            return requests.size();
        }
    }

    // =========================================================================================
    // Receiving (loop thread)
    // =========================================================================================

    private final class Inbound implements ByteSource.Listener, FrameListener {
        @Override
        public void onData(ByteBuffer chunk) {
            if (state == CLOSED) {
                return;
            }
            dispatching = true;
            try {
                decoder.decode(chunk, this);
            } catch (ProtocolException e) {
                protocolError(e);
                return;
            } finally {
                dispatching = false;
            }
            if (flushAfterDispatch) {
                flushAfterDispatch = false;
                outbound.flush();
            }
            if (!inputPaused && state != CLOSED && !outbound.isWritable()) {
                pauseInput();
            }
        }

        @Override
        public void onEnd() {
            try {
                decoder.endOfInput();
            } catch (ProtocolException e) {
                protocolError(e);
                return;
            }
            inputEnded();
        }

        @Override
        public void onError(Throwable error) {
            terminate(error);
        }

        @Override
        public void onFrame(int type, int flags, int requestId, ByteBuffer body) {
            if (state == CLOSED) {
                return; // a handler closed the channel; the rest of the chunk is moot
            }
            // Reserved combinations (ERROR without REPLY, REQUEST with REPLY) are read by their REPLY bit:
            // the wire format makes only unknown bits an error.
            if ((flags & FLAG_REPLY) != 0) {
                onReply(type, flags, requestId, body);
            } else {
                dispatch(type, (flags & FLAG_REQUEST) != 0, requestId, body);
            }
        }

        @Override
        public String toString() {
            return name;
        }
    }

    private void onReply(int type, int flags, int requestId, ByteBuffer body) {
        PendingRequest<?> p;
        synchronized (lock) {
            p = requests.remove(requestId);
        }
        if (p == null) {
            LOG.debug("{}: reply to request {}, which is not outstanding (timed out, cancelled or never sent), dropped",
                    name, Integer.toUnsignedLong(requestId));
            return;
        }
        if ((flags & FLAG_ERROR) != 0) {
            p.fail(new RemoteException(name, Integer.toUnsignedLong(requestId), StandardCharsets.UTF_8.decode(body).toString()));
            return;
        }
        Object value;
        try {
            value = codecs.decode(type, body);
        } catch (CodecException e) {
            p.fail(e);
            return;
        }
        p.deliver(value, type);
    }

    private void dispatch(int type, boolean request, int requestId, ByteBuffer body) {
        HandlerTable.Entry entry = handlers.lookup(type);
        if (entry == null) {
            undeliverable(noHandler(type, requestId), request, requestId);
            return;
        }
        Object message;
        try {
            message = codecs.decode(type, body);
        } catch (CodecException e) {
            undeliverable(e, request, requestId);
            return;
        }
        if (entry.requiredClass() != null && !entry.requiredClass().isInstance(message)) {
            undeliverable(new io.dualpipe.core.codec.DecodeException(type, String.format(
                    "%s: message type 0x%02x decoded to %s, but its handler takes %s", name, type,
                    message == null ? "null" : message.getClass().getName(), entry.requiredClass().getName())), request, requestId);
            return;
        }
        MessageHandler<Object> handler = entry.handler();
        Context ctx = context;
        ctx.begin(type, request, requestId);
        try {
            handler.onMessage(ctx, message);
            if (ctx.unanswered()) {
                sendErrorReply(requestId, String.format("handler for type 0x%02x returned without replying", type));
                LOG.debug("{}: handler for type 0x{} returned without answering request {}; sent an error reply",
                        name, Integer.toHexString(type), Integer.toUnsignedLong(requestId));
            }
        } catch (Throwable t) {
            HandlerException e = new HandlerException(name, type, request ? Integer.toUnsignedLong(requestId) : 0, t);
            if (ctx.unanswered()) {
                sendErrorReply(requestId, t.toString());
            }
            report(e);
        } finally {
            ctx.end();
        }
    }

    private DualPipeException noHandler(int type, int requestId) {
        try {
            codecs.codec(type);
        } catch (UnknownTypeException e) {
            return e;
        }
        return new NoHandlerException(name, type, Integer.toUnsignedLong(requestId));
    }

    /** A message that cannot reach a handler: answer a request with the reason, tell the error listener. */
    private void undeliverable(DualPipeException e, boolean request, int requestId) {
        if (request) {
            sendErrorReply(requestId, e.getMessage());
        }
        report(e);
    }

    private void report(DualPipeException e) {
        MessageErrorListener l = errorListener;
        try {
            l.onError(this, e);
        } catch (Throwable t) {
            LOG.warn("{}: error listener {} threw", name, l, t);
        }
    }

    private void protocolError(ProtocolException e) {
        LOG.warn("{}: protocol error, closing the connection: {}", name, e.getMessage());
        // Replies to the valid frames before the corrupt one go out first, as far as the kernel takes
        // them now; waiting longer would let a peer that broke the protocol hold the connection open.
        outbound.flush();
        terminate(e);
    }

    /** The peer will send nothing more: its replies cannot come, but ours still go out before we close. */
    private void inputEnded() {
        List<PendingRequest<?>> orphans;
        synchronized (lock) {
            orphans = requests.drain();
        }
        if (!orphans.isEmpty()) {
            ChannelClosedException e = new ChannelClosedException(name + ": the peer closed its end with "
                    + orphans.size() + " request(s) unanswered");
            for (PendingRequest<?> p : orphans) {
                p.fail(e);
            }
        }
        closeGracefully();
    }

    /** Stops reading while the peer is not taking our frames, so it cannot make us queue without bound. */
    private void pauseInput() {
        inputPaused = true;
        in.pause();
        outbound.whenWritable().whenComplete((v, e) -> {
            Runnable resume = () -> {
                inputPaused = false;
                if (state != CLOSED) {
                    in.resume();
                }
            };
            if (loop.inEventLoop()) {
                resume.run();
            } else {
                try {
                    loop.execute(resume);
                } catch (LoopClosedException ignored) {
                    // the channel is being closed with the loop
                }
            }
        });
    }

    // =========================================================================================
    // Closing
    // =========================================================================================

    @Override
    public boolean isOpen() {
        return state == OPEN;
    }

    @Override
    public LoopFuture<Void> closeFuture() {
        return closeFuture;
    }

    @Override
    public LoopFuture<Void> closeGracefully() {
        synchronized (lock) {
            if (state != OPEN) {
                return closeFuture;
            }
            state = CLOSING;
        }
        outbound.flush();
        outbound.whenDrained().whenComplete((v, e) -> terminate(e));
        return closeFuture;
    }

    @Override
    public void close() {
        terminate(null);
    }

    private void writeFailed(Throwable cause) {
        terminate(cause);
    }

    /** Forgets a request that timed out or was cancelled, if it is still the one under its id. */
    void forget(PendingRequest<?> p) {
        synchronized (lock) {
            if (requests.get(p.id) == p) {
                requests.remove(p.id);
            }
        }
    }

    /**
     * Closes now. {@code cause} null means an orderly close; otherwise it is why the channel broke,
     * and fails {@link #closeFuture()}.
     */
    private void terminate(Throwable cause) {
        List<PendingRequest<?>> orphans;
        synchronized (lock) {
            if (state == CLOSED) {
                return;
            }
            state = CLOSED;
            orphans = requests.drain();
        }
        RuntimeException failure = cause instanceof LoopClosedException l ? l
                : new ChannelClosedException(name + (cause == null ? ": closed" : ": closed by " + cause), cause);
        outbound.fail(failure);
        for (PendingRequest<?> p : orphans) {
            p.fail(failure);
        }
        in.close();
        if (out != in) {
            out.close();
        }
        if (cause == null) {
            closeFuture.complete(null);
        } else {
            closeFuture.completeExceptionally(cause);
        }
    }

    @Override
    public String toString() {
        return name;
    }
}
