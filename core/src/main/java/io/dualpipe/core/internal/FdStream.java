package io.dualpipe.core.internal;

import io.dualpipe.core.ByteSink;
import io.dualpipe.core.ByteSource;
import io.dualpipe.core.ChannelClosedException;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.FdChannel;
import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.IoHandler;
import io.dualpipe.core.LoopClosedException;
import io.dualpipe.core.LoopFuture;

import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.charset.StandardCharsets;

/**
 * One fd served by a loop as a {@link ByteSource}, a {@link ByteSink}, or both (a socket, a
 * pseudo-terminal master). This class holds what both directions share: the fd, its selection key
 * and interest, registration and closing. The directions themselves are {@link ReadHalf} and
 * {@link WriteHalf}.
 *
 * <p>The read side is loop-confined: its state is touched only on the loop thread, and public calls
 * from other threads hop there. The write side is guarded by its own lock: a write from any thread
 * goes straight to the kernel when nothing is queued (no hop, no wakeup), and otherwise joins the
 * queue that the loop drains on OP_WRITE. OP_WRITE is asked for only while bytes are queued.
 */
public final class FdStream implements ByteSource, ByteSink, IoHandler {
    private static final LazyLogger LOG = new LazyLogger(FdStream.class);
    public static final int DEFAULT_READ_LIMIT = 64 * 1024;
    public static final int DEFAULT_HIGH_WATER = 64 * 1024;
    public static final int DEFAULT_LOW_WATER = 32 * 1024;

    private final SingleThreadEventLoop loop;
    private final FdChannel channel;
    private final boolean readable;
    private final boolean writable;
    private final boolean terminal; // HalfClose.TERMINAL_EOF: one fd for both directions of a pty master
    private final String name;
    private final ReadHalf reader;
    private final WriteHalf writer;
    private SelectionKey key; // loop thread only
    private volatile boolean closed;

    private FdStream(EventLoop loop, FdChannel channel, String name, boolean readable, boolean writable,
                     int readLimit, int highWater, int lowWater, HalfClose halfClose) {
        this(loop, channel, name, readable, writable, readLimit, highWater, lowWater, halfClose, (byte) 4);
    }

    private FdStream(EventLoop loop, FdChannel channel, String name, boolean readable, boolean writable,
                     int readLimit, int highWater, int lowWater, HalfClose halfClose, byte eofChar) {
        this.loop = SingleThreadEventLoop.of(loop);
        this.channel = InvalidArgumentException.requireNonNull("channel", channel);
        this.name = name;
        this.readable = readable;
        this.writable = writable;
        this.terminal = halfClose == HalfClose.TERMINAL_EOF;
        this.reader = new ReadHalf(this, this.loop, channel, name, readable, terminal, readLimit);
        this.writer = new WriteHalf(this, channel, name, writable, readable, halfClose, eofChar, highWater, lowWater);
    }

    /** A source over {@code channel}, registered on {@code loop} (now if called on it, else as a task). */
    public static FdStream source(EventLoop loop, FdChannel channel, String name, int readLimit) {
        return new FdStream(loop, channel, name, true, false, readLimit, DEFAULT_HIGH_WATER, DEFAULT_LOW_WATER, HalfClose.CLOSE_FD).start();
    }

    /** A sink over {@code channel}. */
    public static FdStream sink(EventLoop loop, FdChannel channel, String name, int highWater, int lowWater) {
        return new FdStream(loop, channel, name, false, true, DEFAULT_READ_LIMIT, highWater, lowWater, HalfClose.CLOSE_FD).start();
    }

    /** Both directions over one fd (a socket). */
    public static FdStream duplex(EventLoop loop, FdChannel channel, String name, int readLimit, int highWater, int lowWater) {
        return new FdStream(loop, channel, name, true, true, readLimit, highWater, lowWater, HalfClose.SHUTDOWN_WRITE).start();
    }

    /**
     * A source not yet registered, for callers that register several streams in one loop task
     * (a child's pipes): {@link #startNow()} on the loop thread registers it.
     */
    public static FdStream prepareSource(EventLoop loop, FdChannel channel, String name, int readLimit) {
        return new FdStream(loop, channel, name, true, false, readLimit, DEFAULT_HIGH_WATER, DEFAULT_LOW_WATER, HalfClose.CLOSE_FD);
    }

    /**
     * A pseudo-terminal master not yet registered (see {@link #prepareSource}): both directions over
     * the one fd, EIO on read taken as end of stream, and {@link #shutdownOutput()} writing
     * {@code eofChar} (the slave's VEOF) rather than closing anything; see {@link HalfClose#TERMINAL_EOF}.
     */
    public static FdStream prepareTerminal(EventLoop loop, FdChannel channel, String name, int readLimit,
                                           int highWater, int lowWater, byte eofChar) {
        return new FdStream(loop, channel, name, true, true, readLimit, highWater, lowWater, HalfClose.TERMINAL_EOF,
                eofChar);
    }

    /** A sink not yet registered; see {@link #prepareSource}. */
    public static FdStream prepareSink(EventLoop loop, FdChannel channel, String name, int highWater, int lowWater) {
        return new FdStream(loop, channel, name, false, true, DEFAULT_READ_LIMIT, highWater, lowWater, HalfClose.CLOSE_FD);
    }

    private FdStream start() {
        loop.runOnLoop(this::startNow);
        return this;
    }

    /** Registers this stream with its loop's selector. Loop thread only, once. */
    public void startNow() {
        if (closed) {
            return;
        }
        if (loop.isClosed()) {
            // The loop is shutting down: it may already have told its keys and would then close
            // the selector without closing this channel. Never registered, the channel is closed
            // here, on the loop thread, where no registration can race the close.
            LoopClosedException cause = new LoopClosedException(name + ": " + loop + " closed before the stream was registered");
            closed = true;
            writer.failWrites(cause);
            reader.finishWithError(cause);
            closeChannel();
            return;
        }
        try {
            key = channel.register(loop.selector(), 0, this);
        } catch (java.nio.channels.ClosedChannelException | RuntimeException e) {
            RuntimeException cause = e instanceof RuntimeException ? (RuntimeException) e
                    : new ChannelClosedException(name + ": closed before it was registered", e);
            writer.failWrites(cause);
            reader.finishWithError(cause);
            closeChannel();
            return;
        }
        updateInterest();
    }

    public FdChannel channel() {
        return channel;
    }

    @Override
    public EventLoop loop() {
        return loop;
    }

    /** True once {@link #close()} began (or the loop closed): no more reads, writes or interest. */
    boolean isClosing() {
        return closed;
    }

    // ---- reading: see ReadHalf ----

    @Override
    public LoopFuture<byte[]> read(int maxBytes) {
        return reader.read(maxBytes);
    }

    @Override
    public void listen(Listener l) {
        reader.listen(l);
    }

    @Override
    public void pause() {
        reader.pause();
    }

    @Override
    public void resume() {
        reader.resume();
    }

    @Override
    public LoopFuture<Void> endOfStream() {
        return LoopFutures.copyOf(reader.endOfStream()); // a caller's cancel or orTimeout must not end it for others
    }

    /** True once the fd reported end of stream (bytes may still be buffered). Loop thread. */
    public boolean eofSeen() {
        return reader.eofSeen();
    }

    /**
     * Bytes read from the fd that the consumer has not taken yet: what this stream holds in memory
     * on the read side, bounded by the read limit. Loop thread only (tests and diagnostics hop there).
     */
    public int bufferedBytes() {
        return reader.pendingBytes();
    }

    /** Loop thread: the fd reported end of stream. A source is done with its fd; a terminal's writes end too. */
    void readSideReachedEof() {
        if (!writable) {
            closeChannel();
        } else if (terminal) {
            // The slave side of the terminal has no holder left: nothing will read what is written.
            // The fd itself stays open unless closeAtEndOfInput() asked (see there).
            writer.terminalGone();
        }
    }

    /** Loop thread: reading failed; a source has no other use for its fd. */
    void readSideFailed() {
        if (!writable) {
            closeChannel();
        }
    }

    /**
     * For a {@link HalfClose#TERMINAL_EOF} stream, whose owner knows the processes on the terminal
     * are gone (a child reaped): close the fd once the read side has ended, now if it already has,
     * so that nobody has to call {@link #close()}. Until the end, bytes still buffered in the
     * terminal (from a grandchild that holds it, say) keep being read. Closing earlier would hang
     * the terminal up, which sends SIGHUP to the session's foreground group, and a process may still
     * be running after it closed its descriptors (cat closes stdin and stdout before it exits), so
     * it would die of SIGHUP instead of exiting with its own status. Any thread.
     */
    public void closeAtEndOfInput() {
        try {
            loop.runOnLoop(reader::closeAtEndOfInput);
        } catch (LoopClosedException e) {
            // The closing loop closes every channel registered with it.
        }
    }

    // ---- writing: see WriteHalf ----

    @Override
    public LoopFuture<Void> write(ByteBuffer data) {
        InvalidArgumentException.requireNonNull("data", data);
        return writer.enqueue(data.duplicate(), false);
    }

    @Override
    public LoopFuture<Void> write(byte[] data) {
        InvalidArgumentException.requireNonNull("data", data);
        return writer.enqueue(ByteBuffer.wrap(data), false);
    }

    @Override
    public LoopFuture<Void> write(String text) {
        InvalidArgumentException.requireNonNull("text", text);
        return writer.enqueue(ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)), false);
    }

    @Override
    public LoopFuture<Void> writeOrQueue(ByteBuffer data) {
        InvalidArgumentException.requireNonNull("data", data);
        return writer.enqueue(data, true);
    }

    /**
     * {@link #writeOrQueue(ByteBuffer)} for a direct buffer the caller keeps reachable, whose index 0
     * is at native {@code address} (looked up once, when the caller allocated it): the write skips
     * the JVM's address lookup. What the kernel does not take is queued as {@code data} itself.
     */
    public LoopFuture<Void> writeOrQueue(ByteBuffer data, long address) {
        InvalidArgumentException.requireNonNull("data", data);
        if (!data.isDirect() || address == 0) {
            throw new InvalidArgumentException("writeOrQueue(data, address) takes a direct buffer and its address: "
                    + data + ", " + address);
        }
        return writer.enqueueDirect(data, address);
    }

    /**
     * {@link #writeOrQueue(ByteBuffer)} for a whole array, handed over until written: written straight
     * from it, so a line the kernel takes at once costs no buffer object (a request per call, in a
     * fan-out of thousands). Null when every byte was written at once.
     */
    public LoopFuture<Void> writeOrQueue(byte[] data) {
        InvalidArgumentException.requireNonNull("data", data);
        return writer.enqueue(data, data.length, false);
    }

    /**
     * As {@link #writeOrQueue(byte[])} for {@code data[0, length)}, but {@code data} is only borrowed for
     * this call (a thread's scratch, reused at once): what the kernel does not take is queued as a copy.
     */
    public LoopFuture<Void> writeOrQueueCopy(byte[] data, int length) {
        InvalidArgumentException.requireNonNull("data", data);
        if (length < 0 || length > data.length) {
            throw new InvalidArgumentException("length must be in [0, " + data.length + "]: " + length);
        }
        return writer.enqueue(data, length, true);
    }

    @Override
    public boolean isWritable() {
        return writer.isWritable();
    }

    @Override
    public long queuedBytes() {
        return writer.queuedBytes();
    }

    @Override
    public LoopFuture<Void> whenWritable() {
        return writer.whenWritable();
    }

    @Override
    public LoopFuture<Void> shutdownOutput() {
        return writer.shutdownOutput();
    }

    // ---- readiness, interest, close ----

    @Override
    public void ready(int readyOps) {
        if ((readyOps & SelectionKey.OP_WRITE) != 0) {
            writer.onWritable();
        }
        if ((readyOps & SelectionKey.OP_READ) != 0 && !closed) {
            reader.onReadable();
        }
        updateInterest();
    }

    /** Loop thread: asks the selector for exactly what the stream needs now. */
    void updateInterest() {
        SelectionKey k = key;
        if (k == null || !k.isValid()) {
            return;
        }
        int ops = reader.wantsRead() ? SelectionKey.OP_READ : 0;
        if (writable && writer.wantsWrite()) {
            ops |= SelectionKey.OP_WRITE;
        }
        if (k.interestOps() != ops) {
            k.interestOps(ops);
        }
    }

    @Override
    public void close() {
        closed = true;
        writer.failWrites(() -> new ChannelClosedException(name + ": closed"));
        if (!channel.isOpen() && (!readable || reader.endOfStream().isDone())) {
            // Already finished on the loop (a pipe at end of stream, a sink shut down): nothing is
            // left for it to do, and not hopping there saves a loop wakeup per exited child.
            return;
        }
        try {
            loop.runOnLoop(() -> {
                closeChannel();
                if (!reader.ended()) {
                    reader.finishWithError(new ChannelClosedException(name + ": closed"));
                }
            });
        } catch (LoopClosedException e) {
            closeChannelOfClosedLoop();
        }
    }

    @Override
    public void loopClosed(LoopClosedException cause) {
        closed = true;
        writer.failWrites(cause);
        reader.loopClosed(cause);
        closeChannel();
    }

    void closeNowFromAnyThread() {
        try {
            loop.runOnLoop(this::closeChannel);
        } catch (LoopClosedException e) {
            closeChannelOfClosedLoop();
        }
    }

    /**
     * Another thread was refused by a closing loop. Until the loop thread has ended, the loop closes
     * the channel itself: every registered channel when it shuts down, and one whose registration task
     * runs late in {@link #start()}. Closing it from here meanwhile could race that registration and
     * leave a key on a closed (or reused) fd number.
     */
    private void closeChannelOfClosedLoop() {
        if (loop.isTerminated()) {
            closeChannel();
        }
    }

    void closeChannel() {
        try {
            channel.close();
        } catch (java.io.IOException e) {
            LOG.get().debug("{}: close failed", name, e);
        }
    }

    @Override
    public String toString() {
        return name;
    }
}
