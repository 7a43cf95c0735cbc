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
import io.dualpipe.core.codec.DecodeException;
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

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static io.dualpipe.core.codec.Frames.FLAG_ERROR;
import static io.dualpipe.core.codec.Frames.FLAG_REPLY;
import static io.dualpipe.core.codec.Frames.FLAG_REQUEST;
import static io.dualpipe.core.codec.Frames.HEADER_SIZE;

/**
 * The {@link MessageChannel}: frames in through a {@link ByteSource} listener and a
 * {@link FrameDecoder} fed the loop's own read buffer, frames out through an {@link Outbound}
 * coalescing queue.
 *
 * <p><b>Loop confinement.</b> Everything that changes per message (the request table and id
 * counter, the outbound queue, the decoder, the reusable context, flush scheduling) belongs to the
 * loop thread and is touched by no other, so the per-message path takes no lock. A call from another
 * thread encodes on that thread (codecs are thread-safe, and the caller learns of an encode error at
 * once), then hands the frame to the loop as a task; the loop's task queue keeps each thread's calls
 * in order. Only the open/closing/closed state, the handler table and a few counters for
 * {@link #isWritable()} and friends are shared, through volatile fields.
 *
 * <p><b>When frames are written.</b> A frame sent on the loop while this channel dispatches its input
 * (a handler's reply, a request chained on a reply) waits until the chunk of input at hand is done,
 * so a burst of replies is one write. Any other frame, a handed-over one included, is written by a
 * task at the end of the loop's pass, together with whatever else was queued meanwhile. A chunk that
 * fills up is written at once.
 */
final class DefaultMessageChannel implements MessageChannel {
    private static final Logger LOG = LoggerFactory.getLogger(DefaultMessageChannel.class);
    private static final MessageErrorListener LOGGING = (ch, e) -> LOG.warn("{}", e.getMessage(), e.getCause());
    private static final MessageCodec<byte[]> BYTES_CODEC = Codecs.bytes();
    private static final byte[] TRUNCATED = "...(truncated)".getBytes(StandardCharsets.UTF_8);
    private static final int OPEN = 0;
    private static final int CLOSING = 1;
    private static final int CLOSED = 2;
    private static final VarHandle STATE;
    private static final VarHandle PENDING;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            STATE = l.findVarHandle(DefaultMessageChannel.class, "state", int.class);
            PENDING = l.findVarHandle(DefaultMessageChannel.class, "pendingCount", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final String name;
    private final EventLoop loop;
    private final ByteSource in;
    private final ByteSink out;
    private final CodecRegistry codecs;
    private final Peer peer;
    private final int maxFrameSize;
    private final int highWater;
    private final LoopFuture<Void> closeFuture = new LoopFuture<>();

    // ---- shared ----
    private volatile int state = OPEN;                 // any thread advances it, by CAS
    @SuppressWarnings("unused") // through PENDING: a mirror of requests.size() for other threads
    private int pendingCount;
    private final AtomicLong handedOver = new AtomicLong(); // bytes of frames other threads passed to the loop, not queued yet
    private volatile HandlerTable handlers;
    private volatile MessageErrorListener errorListener;
    private final Object handlersLock = new Object();

    // ---- loop thread only ----
    private final Outbound outbound;
    private final RequestTable requests = new RequestTable();
    private int nextRequestId = 1;
    private final FrameDecoder decoder;
    private final Context context = new Context(this);
    private final Inbound inbound = new Inbound();
    private final Runnable flushTask = this::scheduledFlush;
    private boolean dispatching;
    private boolean flushAfterDispatch;
    private boolean flushScheduled;
    private boolean inputPaused;
    private boolean terminated;

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
        this.highWater = s.highWater;
        this.handlers = s.handlers;
        this.errorListener = s.errorListener != null ? s.errorListener : LOGGING;
        this.decoder = new FrameDecoder(s.maxFrameSize);
        this.outbound = new Outbound(out, loop, s.lowWater, s.highWater, this::terminate);
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
        synchronized (handlersLock) {
            handlers = handlers.with(codecs, type, messageClass, handler);
        }
        return this;
    }

    @Override
    public MessageChannel handleAny(MessageHandler<Object> handler) {
        synchronized (handlersLock) {
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
    // Sending (any thread; the queue itself on the loop)
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
        boolean onLoop = loop.inEventLoop();
        byte[] borrowed = onLoop ? borrowable(type, message) : null;
        ByteBuffer body = null;
        if (borrowed == null) {
            try {
                body = encode(type, message);
            } catch (RuntimeException e) {
                f.completeExceptionally(e);
                return f;
            }
        }
        if (state != OPEN) {
            f.completeExceptionally(refusal()); // replies may still go out while closing; new messages not
        } else if (borrowed != null) {
            queueFrame(type, 0, 0, null, borrowed, f);
        } else {
            sendFrame(type, 0, 0, body, f, onLoop);
        }
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
        PendingRequest<R> p = new PendingRequest<>(this, replyClass == Object.class ? null : (Class<R>) boxed(replyClass));
        boolean onLoop = loop.inEventLoop();
        byte[] borrowed = onLoop ? borrowable(type, message) : null;
        ByteBuffer body = null;
        if (borrowed == null) {
            try {
                body = encode(type, message);
            } catch (RuntimeException e) {
                p.completeExceptionally(e);
                return p;
            }
        }
        if (state != OPEN) {
            p.completeExceptionally(refusal());
        } else if (onLoop) {
            startRequest(p, type, body, borrowed, timeout);
        } else {
            ByteBuffer owned = body;
            handOver(HEADER_SIZE + body.remaining(), () -> startRequest(p, type, owned, null, timeout), p);
        }
        return p;
    }

    /**
     * Loop: gives the request its id, starts its timer, queues its frame (body, or a borrowed small
     * array), tracks it. The timer comes first because it can fail (the loop is closing) and is
     * undone with the request; a frame once queued cannot be, so nothing that can throw follows it.
     */
    private <R> void startRequest(PendingRequest<R> p, int type, ByteBuffer body, byte[] borrowed, Duration timeout) {
        if (terminated) {
            p.completeExceptionally(refusal());
            return;
        }
        if (p.isDone()) {
            return; // cancelled on its way to the loop
        }
        int id;
        do {
            id = nextRequestId++;
        } while (id == 0 || requests.contains(id));
        p.id = id;
        if (timeout != null) {
            try {
                p.startTimer(loop, timeout);
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
        PENDING.setRelease(this, requests.size());
        afterAppend();
    }

    /** Queues a frame; a refusal (closed channel) goes to {@code f} when there is one. Any thread. */
    void sendFrame(int type, int flags, int requestId, ByteBuffer body, LoopFuture<Void> f, boolean onLoop) {
        if (state == CLOSED) {
            refuse(f, type, refusal());
        } else if (onLoop) {
            queueFrame(type, flags, requestId, body, null, f);
        } else {
            handOver(HEADER_SIZE + body.remaining(), () -> queueFrame(type, flags, requestId, body, null, f), f);
        }
    }

    /** Loop: queues a frame whose body is {@code body}, or a borrowed small array. */
    private void queueFrame(int type, int flags, int requestId, ByteBuffer body, byte[] borrowed, LoopFuture<Void> f) {
        Throwable refused = terminated ? refusal()
                : borrowed != null ? outbound.appendArray(type, flags, requestId, borrowed, f)
                : outbound.append(type, flags, requestId, body, f);
        if (refused != null) {
            refuse(f, type, refused);
            return;
        }
        afterAppend();
    }

    /** Another thread's frame, passed to the loop; its bytes count against writability meanwhile. */
    private void handOver(int bytes, Runnable onLoop, java.util.concurrent.CompletableFuture<?> f) {
        handedOver.addAndGet(bytes);
        try {
            loop.execute(() -> {
                handedOver.addAndGet(-bytes);
                onLoop.run();
            });
        } catch (LoopClosedException e) {
            handedOver.addAndGet(-bytes);
            if (f != null) {
                f.completeExceptionally(e);
            }
        }
    }

    private void refuse(LoopFuture<Void> f, int type, Throwable why) {
        if (f != null) {
            f.completeExceptionally(why);
        } else {
            LOG.debug("{}: frame type 0x{} dropped: {}", name, Integer.toHexString(type), why.getMessage());
        }
    }

    /**
     * Loop (the context): encodes and queues a reply. An encode failure is thrown before anything is
     * queued, so the request is still open for an error reply.
     */
    void replyOnLoop(int type, int requestId, Object message) {
        byte[] borrowed = borrowable(type, message);
        ByteBuffer body = borrowed == null ? encode(type, message) : null;
        if (state == CLOSED) {
            refuse(null, type, refusal());
        } else {
            queueFrame(type, FLAG_REPLY, requestId, body, borrowed, null);
        }
    }

    void sendErrorReply(int requestId, String text) {
        sendFrame(Codecs.UTF8, FLAG_REPLY | FLAG_ERROR, requestId, errorBody(text), null, loop.inEventLoop());
    }

    /**
     * The body of an error reply: {@code text} in UTF-8, cut to fit maxFrameSize. Error texts come
     * from exceptions and callers, not from us, and the peer (same limit) would take an oversized
     * frame as a protocol error and drop the connection with every request on it; a cut text, marked
     * as such, still says what went wrong.
     */
    ByteBuffer errorBody(String text) {
        byte[] b = String.valueOf(text).getBytes(StandardCharsets.UTF_8);
        if (b.length <= maxFrameSize) {
            return ByteBuffer.wrap(b);
        }
        if (TRUNCATED.length > maxFrameSize) {
            return ByteBuffer.wrap(b, 0, utf8Boundary(b, maxFrameSize)); // no room even for the marker
        }
        int keep = utf8Boundary(b, maxFrameSize - TRUNCATED.length);
        byte[] cut = Arrays.copyOf(b, keep + TRUNCATED.length);
        System.arraycopy(TRUNCATED, 0, cut, keep, TRUNCATED.length);
        return ByteBuffer.wrap(cut);
    }

    /**
     * The largest length up to {@code limit} (< b.length) that ends between characters of the valid
     * UTF-8 in {@code b}, so the peer decodes no half character: the byte after it is not a
     * continuation byte (10xxxxxx).
     */
    private static int utf8Boundary(byte[] b, int limit) {
        int n = limit;
        while (n > 0 && (b[n] & 0xC0) == 0x80) {
            n--;
        }
        return n;
    }

    private ChannelClosedException refusal() {
        return new ChannelClosedException(name + ": " + (state == CLOSING ? "closing" : "closed") + ", no more frames are sent");
    }

    /** Loop: when the frame just queued gets written. */
    private void afterAppend() {
        if (outbound.hasSealed()) {
            outbound.flush(); // a chunk filled up
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

    /** The body for {@code message}, owned by the channel from now on. */
    ByteBuffer encode(int type, Object message) {
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
        return state == OPEN && outbound.isWritable() && handedOver.get() <= highWater;
    }

    @Override
    public LoopFuture<Void> whenWritable() {
        if (loop.inEventLoop()) {
            return outbound.whenWritable();
        }
        if (isWritable()) {
            return LoopFuture.completed(null);
        }
        LoopFuture<Void> f = new LoopFuture<>();
        try {
            // Queued behind this thread's handed-over frames, so they are counted when it runs.
            loop.execute(() -> outbound.whenWritable().whenComplete((v, e) -> {
                if (e != null) {
                    f.completeExceptionally(e);
                } else {
                    f.complete(null);
                }
            }));
        } catch (LoopClosedException e) {
            f.completeExceptionally(e);
        }
        return f;
    }

    @Override
    public long queuedBytes() {
        return outbound.queuedBytes() + handedOver.get();
    }

    @Override
    public int pendingRequests() {
        return (int) PENDING.getAcquire(this);
    }

    // =========================================================================================
    // Receiving (loop thread)
    // =========================================================================================

    private final class Inbound implements ByteSource.Listener, FrameListener {
        /** Loop thread: whether the chunk being decoded held a request or message from the peer. */
        private boolean servedPeer;

        @Override
        public void onData(ByteBuffer chunk) {
            if (terminated) {
                return;
            }
            dispatching = true;
            servedPeer = false;
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
            // Only the peer's requests and messages make us produce output; its replies drain what we
            // queued. So reading stops only when this chunk asked work of us: a requester whose own
            // requests fill the pipe must keep reading the replies, or both sides wait for good.
            if (servedPeer && !inputPaused && !terminated && !outbound.isWritable()) {
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
            if (terminated) {
                return; // a handler closed the channel; the rest of the chunk is moot
            }
            // Reserved combinations (ERROR without REPLY, REQUEST with REPLY) are read by their REPLY bit:
            // the wire format makes only unknown bits an error.
            if ((flags & FLAG_REPLY) != 0) {
                onReply(type, flags, requestId, body);
            } else {
                servedPeer = true;
                dispatch(type, (flags & FLAG_REQUEST) != 0, requestId, body);
            }
        }

        @Override
        public String toString() {
            return name;
        }
    }

    private void onReply(int type, int flags, int requestId, ByteBuffer body) {
        PendingRequest<?> p = requests.remove(requestId);
        if (p == null) {
            LOG.debug("{}: reply to request {}, which is not outstanding (timed out, cancelled or never sent), dropped",
                    name, Integer.toUnsignedLong(requestId));
            return;
        }
        PENDING.setRelease(this, requests.size());
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
            undeliverable(new DecodeException(type, String.format(
                    "%s: message type 0x%02x decoded to %s, but its handler takes %s", name, type,
                    message == null ? "null" : message.getClass().getName(), entry.requiredClass().getName())), request, requestId);
            return;
        }
        Context ctx = context;
        ctx.begin(type, request, requestId);
        try {
            entry.handler().onMessage(ctx, message);
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
        List<PendingRequest<?>> orphans = requests.drain();
        PENDING.setRelease(this, 0);
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
        // Completes on the loop: write completions are handled there.
        outbound.whenWritable().whenComplete((v, e) -> {
            inputPaused = false;
            if (!terminated) {
                in.resume();
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
        if (!STATE.compareAndSet(this, OPEN, CLOSING)) {
            return closeFuture;
        }
        onLoop(() -> {
            outbound.flush();
            outbound.whenDrained().whenComplete((v, e) -> terminate(e));
        });
        return closeFuture;
    }

    @Override
    public void close() {
        state = CLOSED; // refuse new frames at once, from any thread
        onLoop(() -> terminate(null));
    }

    /** Runs {@code r} on the loop; once the loop is closing, its shutdown fails the channel instead. */
    private void onLoop(Runnable r) {
        try {
            loop.runOnLoop(r);
        } catch (LoopClosedException e) {
            // The loop tells the source it closed; the source tells us (onError), and we terminate there.
            in.close();
            if (out != in) {
                out.close();
            }
        }
    }

    /** Forgets a request that timed out or was cancelled, if it is still the one under its id. Any thread. */
    void forget(PendingRequest<?> p) {
        onLoop(() -> {
            if (p.id != 0 && requests.get(p.id) == p) {
                requests.remove(p.id);
                PENDING.setRelease(this, requests.size());
            }
        });
    }

    /**
     * Loop: closes now. {@code cause} null means an orderly close; otherwise it is why the channel
     * broke, and fails {@link #closeFuture()}.
     */
    private void terminate(Throwable cause) {
        if (terminated) {
            return;
        }
        terminated = true;
        state = CLOSED;
        List<PendingRequest<?>> orphans = requests.drain();
        PENDING.setRelease(this, 0);
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
