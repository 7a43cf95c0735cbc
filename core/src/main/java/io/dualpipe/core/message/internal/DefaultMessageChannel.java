package io.dualpipe.core.message.internal;

import io.dualpipe.core.ByteSink;
import io.dualpipe.core.ByteSource;
import io.dualpipe.core.ChannelClosedException;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.LoopClosedException;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.internal.LogLimiter;
import io.dualpipe.core.codec.CodecRegistry;
import io.dualpipe.core.message.HandlerException;
import io.dualpipe.core.message.MessageChannel;
import io.dualpipe.core.message.MessageErrorListener;
import io.dualpipe.core.message.ReplyListener;
import io.dualpipe.core.message.MessageHandler;
import io.dualpipe.core.message.Peer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;

/**
 * The {@link MessageChannel}: the public face and the lifecycle. Its roles live beside it:
 * {@link ReadSide} (frames in, replies routed, the peer's requests dispatched or held in a
 * {@link Backlog}), {@link Dispatcher} (handlers), {@link SendSide} (our messages, requests and
 * replies made into frames), {@link FrameWriter} and {@link Outbound} (frames out), {@link Requests}
 * (our requests awaiting replies), {@link Closing} (how it closes, gracefully or not) and
 * {@link DrainWatch} (a graceful close's limit).
 *
 * <p><b>Loop confinement.</b> Everything that changes per message (the request table and id
 * counter, the outbound queue, the decoder, the backlog, the reusable context, flush scheduling)
 * belongs to the loop thread and is touched by no other, so the per-message path takes no lock. A
 * call from another thread encodes on that thread (codecs are thread-safe, and the caller learns of
 * an encode error at once), then hands the frame to the loop as a task; the loop's task queue keeps
 * each thread's calls in order. Only the open/closing/closed state, the handler table and a few
 * counters for {@link #isWritable()} and friends are shared, through volatile fields.
 *
 * <p><b>Close future.</b> The channel completes one future of its own; {@link #closeFuture()} and
 * {@link #closeGracefully()} hand each caller a fresh dependent copy, so a caller's cancel, complete
 * or timeout changes only its copy, never what the library or another caller sees.
 */
final class DefaultMessageChannel implements MessageChannel {
    private static final Logger LOG = LoggerFactory.getLogger(DefaultMessageChannel.class);
    // A peer decides how many undeliverable messages it sends: the default listener's warnings are
    // bounded per kind of error, so a flood of one kind (say, no handler) hides no handler that throws,
    // and a handler's failures per message type (one handler each), so one buggy handler hides no
    // other's; and each kind per source (FloodKey), so one server's flooding peer hides no other
    // server's or user's first warning (a misconfigured handler table there, say).
    private static final LogLimiter ERRORS_LOGGED = new LogLimiter(20, Duration.ofMinutes(1));
    private static final MessageErrorListener LOGGING = (ch, e) -> {
        String kind = e instanceof HandlerException h ? "handler of type " + h.type() : e.getClass().getName();
        long notLogged = ERRORS_LOGGED.acquire(kind + " from " + FloodKey.of(ch));
        if (notLogged >= 0) {
            LOG.warn("{}{}", e.getMessage(), LogLimiter.note(notLogged), e.getCause());
        } else {
            LOG.debug("{}", e.getMessage(), e.getCause());
        }
    };
    private static final int OPEN = 0;
    private static final int CLOSING = 1;
    private static final int CLOSED = 2;
    private static final VarHandle STATE;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(DefaultMessageChannel.class, "state", int.class);
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
    private final int highWater;
    private final LoopFuture<Void> closed = new LoopFuture<>(); // ours alone: callers get copies

    // ---- shared ----
    private volatile int state = OPEN;                 // any thread advances it, by CAS
    private volatile HandlerTable handlers;
    private volatile MessageErrorListener errorListener;
    private final Object handlersLock = new Object();

    // ---- loop thread only (but for the counters they publish) ----
    private final Outbound outbound;
    private final FrameWriter writer;
    private final Requests requests;
    private final SendSide sends;
    private final ReadSide readSide;
    private boolean terminated;
    private final Closing closing;

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
        this.highWater = s.highWater;
        this.handlers = s.handlers;
        this.errorListener = s.errorListener != null ? s.errorListener : LOGGING;
        this.outbound = new Outbound(out, loop, s.lowWater, s.highWater, this::terminate);
        this.writer = new FrameWriter(this, outbound, s.maxFrameSize);
        BodyLender lender = new BodyLender(); // one per channel: its dispatch and its replies take turns
        this.requests = new Requests(this.name, codecs, loop, lender);
        this.sends = new SendSide(this, codecs, s.maxFrameSize, writer, requests);
        this.readSide = new ReadSide(this, in, s.maxFrameSize, requests, new Dispatcher(this, codecs, lender), writer,
                s.backlogLimit, s.stallTimeout);
        this.closing = new Closing(this, in, out, requests, outbound, readSide, new DrainWatch(this, outbound, loop, s.stallTimeout));
    }

    static MessageChannel open(ChannelSettings s, ByteSource in, ByteSink out, String name, Peer peer) {
        DefaultMessageChannel ch = new DefaultMessageChannel(s, in, out, name, peer);
        in.listen(ch.readSide);
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

    HandlerTable handlers() {
        return handlers;
    }

    MessageErrorListener errorListener() {
        return errorListener;
    }

    // =========================================================================================
    // Sending (any thread; the queue itself on the loop)
    // =========================================================================================
    @Override
    public LoopFuture<Void> send(Object message) {
        int type;
        try {
            type = sends.typeFor(message);
        } catch (RuntimeException e) {
            return LoopFuture.failed(e);
        }
        return sends.send(type, message);
    }

    @Override
    public LoopFuture<Void> send(int type, Object message) {
        return sends.send(type, message);
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
            type = sends.typeFor(message);
        } catch (RuntimeException e) {
            return LoopFuture.failed(e);
        }
        return sends.request(type, message, replyClass, timeout);
    }

    @Override
    public <R> LoopFuture<R> request(int type, Object message, Class<R> replyClass, Duration timeout) {
        return sends.request(type, message, replyClass, timeout);
    }

    @Override
    public <R> void request(int type, Object message, Class<R> replyClass, Duration timeout, ReplyListener<? super R> listener) {
        sends.request(type, message, replyClass, timeout, listener);
    }

    /** The send side, for the context, deferred replies and the dispatcher. */
    SendSide sends() {
        return sends;
    }

    ChannelClosedException refusal() {
        return new ChannelClosedException(name + ": " + (state == CLOSING ? "closing" : "closed") + ", no more frames are sent");
    }

    /** Loop: true once the peer's end has been read while its held frames still wait for dispatch. */
    boolean peerEnded() {
        return readSide.peerEnded();
    }

    // =========================================================================================
    // Backpressure
    // =========================================================================================

    @Override
    public boolean isWritable() {
        return state == OPEN && outbound.isWritable() && writer.handedOverBytes() <= highWater;
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
        return outbound.queuedBytes() + writer.handedOverBytes();
    }

    @Override
    public int pendingRequests() {
        return requests.pending();
    }

    /** For tests in this package: the request bookkeeping. Loop thread. */
    Requests requests() {
        return requests;
    }

    // =========================================================================================
    // Closing
    // =========================================================================================

    @Override
    public boolean isOpen() {
        return state == OPEN;
    }

    /** Any thread: true once close() or the end began refusing every frame, replies included. */
    boolean isClosed() {
        return state == CLOSED;
    }

    /** Loop: true once the channel has closed its streams. */
    boolean isTerminated() {
        return terminated;
    }

    @Override
    public LoopFuture<Void> closeFuture() {
        // A LoopFuture (its newIncompleteFuture), so blocking on it from the loop still fails fast.
        return (LoopFuture<Void>) closed.copy();
    }

    @Override
    public LoopFuture<Void> closeGracefully() {
        if (STATE.compareAndSet(this, OPEN, CLOSING)) {
            closing.beginGraceful();
        }
        return closeFuture();
    }

    @Override
    public void close() {
        state = CLOSED; // refuse new frames at once, from any thread
        closing.onLoop(() -> terminate(null));
    }

    /** Forgets a request that timed out or was cancelled, if it is still the one under its id. Any thread. */
    void forget(OpenRequest p) {
        closing.onLoop(() -> requests.forget(p));
    }

    /** Loop: the peer will send nothing more: its replies cannot come, but ours still go out before we close. */
    void inputEnded() {
        failUnanswered();
        closeGracefully();
    }

    /** Loop: fails our requests the peer has not answered (see {@link Closing#failUnanswered()}). */
    void failUnanswered() {
        closing.failUnanswered();
    }

    /**
     * Loop: closes now. {@code cause} null means an orderly close; otherwise it is why the channel
     * broke, and fails {@link #closeFuture()}.
     */
    void terminate(Throwable cause) {
        if (terminated) {
            return;
        }
        terminated = true;
        state = CLOSED;
        closing.terminate(cause, closed);
    }

    @Override
    public String toString() {
        return name;
    }
}
