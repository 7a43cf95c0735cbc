package io.dualpipe.core.internal;

import io.dualpipe.core.BrokenPipeException;
import io.dualpipe.core.ByteSink;
import io.dualpipe.core.ByteSource;
import io.dualpipe.core.ChannelClosedException;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.FdChannel;
import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.IoHandler;
import io.dualpipe.core.LoopClosedException;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.NativeIoException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * One fd served by a loop as a {@link ByteSource}, a {@link ByteSink}, or both (a socket).
 *
 * <p>The read side is loop-confined: its state is touched only on the loop thread, and public calls
 * from other threads hop there. The write side is guarded by {@code writeLock}: a write from any
 * thread goes straight to the kernel when nothing is queued (no hop, no wakeup), and otherwise joins
 * the queue that the loop drains on OP_WRITE. OP_WRITE is asked for only while bytes are queued.
 */
public final class FdStream implements ByteSource, ByteSink, IoHandler {
    private static final Logger LOG = LoggerFactory.getLogger(FdStream.class);
    public static final int DEFAULT_READ_LIMIT = 64 * 1024;
    public static final int DEFAULT_HIGH_WATER = 64 * 1024;
    public static final int DEFAULT_LOW_WATER = 32 * 1024;
    private static final byte[] EMPTY = new byte[0];
    private static final int MAX_READS_PER_READY = 4;
    private static final int SHUT_WR = 1;

    /** How the write side is half-closed. */
    public enum HalfClose {
        /** Close the fd: a pipe's reader then sees end of stream. */
        CLOSE_FD,
        /** shutdown(SHUT_WR): a socket's peer sees end of stream while reading goes on. */
        SHUTDOWN_WRITE,
        /**
         * A pseudo-terminal master, one fd for both directions that cannot be half-closed: the
         * terminal's EOF character is written instead (twice when the last byte written did not end
         * a line, since the first one only completes that line), so a canonical-mode reader on the
         * slave sees end of input. Reading also ends at EIO, which is how Linux reports a master
         * whose slave every process has closed; at that point writing ends too. The fd is closed
         * only once {@link #closeAtEndOfInput()} was called as well (see there).
         */
        TERMINAL_EOF
    }

    private final SingleThreadEventLoop loop;
    private final FdChannel channel;
    private final boolean readable;
    private final boolean writable;
    private final String name;

    // ---- read side: loop thread only ----
    private final int readLimit;
    private SelectionKey key;
    private ByteBuffer pending;
    private final ArrayDeque<PendingRead> reads = new ArrayDeque<>();
    private Listener listener;
    private boolean paused;
    private boolean eofSeen;
    private boolean closeAtEnd; // TERMINAL_EOF: close the fd as soon as the read side has ended
    private boolean ended;
    private Throwable readFailure;
    private final LoopFuture<Void> endOfStream = new LoopFuture<>();

    // ---- write side: guarded by writeLock ----
    private final Object writeLock = new Object();
    private final int highWater;
    private final int lowWater;
    private final HalfClose halfClose;
    private final byte eofChar;     // TERMINAL_EOF only
    private int lastWrittenByte = '\n'; // TERMINAL_EOF only; the last byte accepted for writing
    private final ArrayDeque<PendingWrite> writes = new ArrayDeque<>();
    private long queued;
    private boolean writeInterest;
    private boolean writableFlag = true;
    private List<LoopFuture<Void>> writabilityWaiters;
    private LoopFuture<Void> shutdownFuture;
    private boolean outputShut;
    private RuntimeException writeFailure;
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
        this.readLimit = InvalidArgumentException.requirePositive("readBufferLimit", readLimit);
        this.highWater = InvalidArgumentException.requirePositive("highWaterMark", highWater);
        if (lowWater < 0 || lowWater > highWater) {
            throw new InvalidArgumentException("lowWaterMark must be in [0, highWaterMark=" + highWater + "]: " + lowWater);
        }
        this.lowWater = lowWater;
        this.halfClose = halfClose;
        this.eofChar = eofChar;
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
            failWrites(cause);
            finishWithError(cause);
            closeChannel();
            return;
        }
        try {
            key = channel.register(loop.selector(), 0, this);
        } catch (java.nio.channels.ClosedChannelException | RuntimeException e) {
            RuntimeException cause = e instanceof RuntimeException ? (RuntimeException) e
                    : new ChannelClosedException(name + ": closed before it was registered", e);
            failWrites(cause);
            finishWithError(cause);
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

    // =========================================================================================
    // Reading (loop thread)
    // =========================================================================================

    @Override
    public LoopFuture<byte[]> read(int maxBytes) {
        InvalidArgumentException.requirePositive("maxBytes", maxBytes);
        LoopFuture<byte[]> f = new LoopFuture<>();
        if (!readable) {
            f.completeExceptionally(new InvalidArgumentException(name + " is not readable"));
            return f;
        }
        try {
            loop.runOnLoop(() -> {
                if (listener != null) {
                    f.completeExceptionally(new io.dualpipe.core.ConsumerConflictException(name + ": read() while a listener is set"));
                    return;
                }
                reads.add(new PendingRead(maxBytes, f));
                drain();
                updateInterest();
            });
        } catch (LoopClosedException e) {
            f.completeExceptionally(e);
        }
        return f;
    }

    @Override
    public void listen(Listener l) {
        loop.runOnLoop(() -> {
            if (l != null) {
                // This runs on the loop, where a throw would only be logged: the pending reads are
                // the callers who can hear about the mix-up.
                io.dualpipe.core.ConsumerConflictException e = null;
                while (!reads.isEmpty()) {
                    if (e == null) {
                        e = new io.dualpipe.core.ConsumerConflictException(name + ": a listener was set while " + reads.size() + " reads were pending");
                    }
                    reads.poll().future.completeExceptionally(e);
                }
            }
            boolean endedBefore = ended;
            listener = l;
            drain();
            if (l != null && endedBefore) {
                // The end came while nobody listened (a child that exited without output, read
                // only afterwards): this listener must still hear it, or a readLine() waits forever.
                tellEnd(l);
            }
            updateInterest();
        });
    }

    private void tellEnd(Listener l) {
        try {
            if (readFailure == null) {
                l.onEnd();
            } else {
                l.onError(readFailure);
            }
        } catch (Throwable t) {
            LOG.warn("{}: listener {} threw on end", name, l, t);
        }
    }

    @Override
    public void pause() {
        loop.runOnLoop(() -> paused = true);
    }

    @Override
    public void resume() {
        loop.runOnLoop(() -> {
            paused = false;
            drain();
            updateInterest();
        });
    }

    @Override
    public LoopFuture<Void> endOfStream() {
        return LoopFutures.copyOf(endOfStream); // a caller's cancel or orTimeout must not end it for others
    }

    /** True once the fd reported end of stream (bytes may still be buffered). Loop thread. */
    public boolean eofSeen() {
        return eofSeen;
    }

    /**
     * Bytes read from the fd that the consumer has not taken yet: what this stream holds in memory
     * on the read side, bounded by the read limit. Loop thread only (tests and diagnostics hop there).
     */
    public int bufferedBytes() {
        return pendingBytes();
    }

    private int pendingBytes() {
        return pending == null ? 0 : pending.remaining();
    }

    private boolean wantsRead() {
        return readable && !eofSeen && readFailure == null && !closed && pendingBytes() < readLimit;
    }

    private void onReadable() {
        // A bulk stream fills the loop's buffer in one read; reading again at once (a few times, to
        // stay fair to the loop's other channels) saves an epoll_wait per chunk.
        for (int pass = 0; pass < MAX_READS_PER_READY && !closed && !eofSeen && readFailure == null; pass++) {
            if (!readOnce()) {
                return;
            }
        }
    }

    /** One read(2); true when it filled all the room it had, so more may be waiting. */
    private boolean readOnce() {
        ByteBuffer buf = loop.readBuffer();
        boolean direct = pendingBytes() == 0 && ((listener != null && !paused) || !reads.isEmpty());
        // A running listener takes everything; pending reads take only what they asked for, and the
        // rest of the loop's buffer would stay behind, so read no more than they take plus the limit.
        long taken = !direct ? 0 : listener != null ? buf.capacity() : requestedBytes(buf.capacity());
        int room = (int) Math.min(buf.capacity(), taken + readLimit - pendingBytes());
        if (room <= 0) {
            return false;
        }
        int n;
        try {
            n = channel.read(loop.readBufferAddress(), room);
        } catch (NativeIoException e) {
            if (halfClose != HalfClose.TERMINAL_EOF || e.errno() != Native.EIO) {
                readFailed(e);
                return false;
            }
            n = -1; // a pty master whose slave nobody holds any more: Linux's end of stream
        } catch (ChannelClosedException e) {
            readFailed(e);
            return false;
        }
        if (n == 0) {
            return false;
        }
        if (n < 0) {
            eofSeen = true;
            if (!writable) {
                closeChannel();
            } else if (halfClose == HalfClose.TERMINAL_EOF) {
                terminalGone();
            }
            drain();
            return false;
        }
        buf.clear().limit(n);
        if (direct) {
            deliver(buf);
        }
        if (buf.hasRemaining()) {
            append(buf);
        }
        if (!direct) {
            drain();
        }
        return n == room;
    }

    /** What the pending reads ask for in all, counted up to {@code cap}. */
    private long requestedBytes(int cap) {
        long sum = 0;
        for (PendingRead r : reads) {
            sum += r.max;
            if (sum >= cap) {
                return cap;
            }
        }
        return sum;
    }

    /** Hands {@code buf} to the listener or the pending reads; what is left stays in buf. */
    private void deliver(ByteBuffer buf) {
        if (listener != null) {
            if (!paused) {
                Listener l = listener;
                try {
                    l.onData(buf);
                } catch (Throwable t) {
                    LOG.warn("{}: listener {} threw", name, l, t);
                }
                buf.position(buf.limit());
            }
            return;
        }
        while (buf.hasRemaining() && !reads.isEmpty()) {
            PendingRead r = reads.poll();
            if (r.future.isDone()) {
                continue; // cancelled or timed out by its caller: it must not take the bytes with it
            }
            int n = Math.min(r.max, buf.remaining());
            byte[] out = new byte[n];
            buf.get(out);
            if (!r.future.complete(out)) {
                buf.position(buf.position() - n); // lost a race with a cancel: the bytes stay
            }
        }
    }

    private void append(ByteBuffer buf) {
        int need = pendingBytes() + buf.remaining();
        if (pending == null) {
            pending = ByteBuffer.allocate(Math.max(need, 4096));
            pending.flip();
        } else if (pending.capacity() - pending.limit() < buf.remaining()) {
            ByteBuffer grown = ByteBuffer.allocate(Math.max(need, Math.min(pending.capacity() * 2, Math.max(readLimit, need))));
            grown.put(pending);
            grown.flip();
            pending = grown;
        }
        int pos = pending.position();
        pending.position(pending.limit()).limit(pending.limit() + buf.remaining());
        pending.put(buf);
        pending.position(pos);
    }

    /** Delivers what is buffered, then the end of stream once everything before it is taken. Loop thread. */
    private void drain() {
        ByteBuffer p = pending;
        if (p != null && p.hasRemaining()) {
            deliver(p);
            // A completed read may have run a stage that read again and drained (or replaced) the
            // buffer re-entrantly; only the call that still sees its own buffer tidies it.
            if (pending == p) {
                if (!p.hasRemaining()) {
                    // Give memory back: a consumer that keeps up should not pin a buffer per stream.
                    pending = null;
                } else if (p.position() > 0) {
                    p.compact().flip();
                }
            }
        }
        if (pendingBytes() == 0 && !ended) {
            if (readFailure != null) {
                finishWithError(readFailure);
            } else if (eofSeen && !(listener != null && paused)) {
                ended = true;
                finishEnd();
            }
        }
        if (ended) {
            // Reads issued after the end: the documented end-of-stream value, or the failure that ended it.
            while (!reads.isEmpty()) {
                LoopFuture<byte[]> f = reads.poll().future;
                if (readFailure == null) {
                    f.complete(EMPTY);
                } else {
                    f.completeExceptionally(readFailure);
                }
            }
        }
    }

    /**
     * Loop thread: the slave side of a terminal has no holder left, so nothing will read what is
     * written or write anything more: queued and later writes fail. The fd is closed here only if
     * {@link #closeAtEndOfInput()} asked for it: closing a master hangs its terminal up, which sends
     * SIGHUP to the session's foreground group, and a process may still be running after it closed
     * its descriptors (cat closes stdin and stdout before it exits), so it would die of SIGHUP
     * instead of exiting with its own status.
     */
    private void terminalGone() {
        RuntimeException cause;
        synchronized (writeLock) {
            if (writeFailure == null) {
                writeFailure = new BrokenPipeException(name + ": the terminal's other side is closed (EIO)", null);
            }
            cause = writeFailure;
        }
        failWrites(cause);
        if (closeAtEnd) {
            closeChannel();
        }
    }

    /**
     * For a {@link HalfClose#TERMINAL_EOF} stream, whose owner knows the processes on the terminal
     * are gone (a child reaped): close the fd once the read side has ended, now if it already has,
     * so that nobody has to call {@link #close()}. Until the end, bytes still buffered in the
     * terminal (from a grandchild that holds it, say) keep being read. Any thread.
     */
    public void closeAtEndOfInput() {
        try {
            loop.runOnLoop(() -> {
                closeAtEnd = true;
                if (eofSeen || readFailure != null) {
                    closeChannel();
                }
            });
        } catch (LoopClosedException e) {
            // The closing loop closes every channel registered with it.
        }
    }

    private void finishEnd() {
        while (!reads.isEmpty()) {
            reads.poll().future.complete(EMPTY);
        }
        Listener l = listener;
        if (l != null) {
            try {
                l.onEnd();
            } catch (Throwable t) {
                LOG.warn("{}: listener {} threw on end", name, l, t);
            }
        }
        endOfStream.complete(null);
    }

    private void readFailed(Throwable error) {
        readFailure = error;
        if (!writable) {
            closeChannel();
        }
        drain();
    }

    private void finishWithError(Throwable error) {
        if (ended) {
            return;
        }
        ended = true;
        readFailure = error;
        while (!reads.isEmpty()) {
            reads.poll().future.completeExceptionally(error);
        }
        Listener l = listener;
        if (l != null) {
            try {
                l.onError(error);
            } catch (Throwable t) {
                LOG.warn("{}: listener {} threw on error", name, l, t);
            }
        }
        endOfStream.completeExceptionally(error);
    }

    // =========================================================================================
    // Writing (any thread, under writeLock)
    // =========================================================================================

    @Override
    public LoopFuture<Void> write(ByteBuffer data) {
        InvalidArgumentException.requireNonNull("data", data);
        return enqueue(data.duplicate());
    }

    @Override
    public LoopFuture<Void> write(byte[] data) {
        InvalidArgumentException.requireNonNull("data", data);
        return enqueue(ByteBuffer.wrap(data));
    }

    @Override
    public LoopFuture<Void> write(String text) {
        InvalidArgumentException.requireNonNull("text", text);
        return enqueue(ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)));
    }

    @Override
    public LoopFuture<Void> writeOrQueue(ByteBuffer data) {
        InvalidArgumentException.requireNonNull("data", data);
        return enqueue(data, true);
    }

    private LoopFuture<Void> enqueue(ByteBuffer src) {
        return enqueue(src, false);
    }

    /** @param nullIfDone return null, allocating nothing, when the kernel took every byte at once */
    private LoopFuture<Void> enqueue(ByteBuffer src, boolean nullIfDone) {
        LoopFuture<Void> f = null;
        RuntimeException failure = null;
        boolean done = false;
        boolean needInterest = false;
        synchronized (writeLock) {
            if (!writable) {
                failure = new InvalidArgumentException(name + " is not writable");
            } else if (writeFailure != null) {
                failure = writeFailure;
            } else if (closed || shutdownFuture != null) {
                failure = new ChannelClosedException(name + ": write after " + (closed ? "close" : "shutdownOutput"));
            } else {
                if (halfClose == HalfClose.TERMINAL_EOF && src.hasRemaining()) {
                    lastWrittenByte = src.get(src.limit() - 1);
                }
                if (writes.isEmpty()) {
                    failure = writeNow(src);
                    done = failure == null && !src.hasRemaining();
                }
                if (failure == null && !done) {
                    f = new LoopFuture<>();
                    needInterest = queue(src, f);
                    if (queued > highWater) {
                        writableFlag = false;
                    }
                }
            }
        }
        if (failure != null) {
            return LoopFuture.failed(failure);
        }
        if (done) {
            return nullIfDone ? null : LoopFuture.completed(null);
        }
        if (needInterest) {
            requestInterestUpdate();
        }
        return f;
    }

    /** Caller holds writeLock: {@link #writeSome}, returning its failure (already recorded) instead of throwing. */
    private RuntimeException writeNow(ByteBuffer src) {
        try {
            writeSome(src);
            return null;
        } catch (RuntimeException e) {
            return writeFailed(e);
        }
    }

    /** Caller holds writeLock: queues what is left of src; true when OP_WRITE interest must now be asked for. */
    private boolean queue(ByteBuffer src, LoopFuture<Void> f) {
        writes.add(new PendingWrite(src, f));
        queued += src.remaining();
        if (writeInterest) {
            return false;
        }
        writeInterest = true;
        return true;
    }

    /** Writes as much of src as the kernel takes now. Caller holds writeLock. */
    private int writeSome(ByteBuffer src) {
        int total = 0;
        try {
            while (src.hasRemaining()) {
                int n = channel.write(src);
                if (n == 0) {
                    break;
                }
                total += n;
            }
        } catch (java.nio.channels.ClosedChannelException e) {
            throw new ChannelClosedException(name + ": closed", e);
        }
        return total;
    }

    /** Records a write failure, fails the queue later (outside the lock). Caller holds writeLock. */
    private RuntimeException writeFailed(RuntimeException e) {
        RuntimeException failure = e;
        if (e instanceof NativeIoException) {
            String errno = ((NativeIoException) e).errnoName();
            if ("EPIPE".equals(errno) || "ECONNRESET".equals(errno)) {
                failure = new BrokenPipeException(name + ": the reading end is closed (" + errno + ")", e);
            }
        }
        writeFailure = failure;
        return failure;
    }

    private void requestInterestUpdate() {
        try {
            loop.runOnLoop(this::updateInterest);
        } catch (LoopClosedException e) {
            failWrites(e);
        }
    }

    private void onWritable() {
        List<LoopFuture<Void>> done = null;
        List<LoopFuture<Void>> waiters = null;
        RuntimeException failure = null;
        boolean shutNow = false;
        synchronized (writeLock) {
            try {
                while (!writes.isEmpty()) {
                    PendingWrite w = writes.peek();
                    queued -= writeSome(w.data);
                    if (w.data.hasRemaining()) {
                        break;
                    }
                    writes.poll();
                    if (done == null) {
                        done = new ArrayList<>();
                    }
                    done.add(w.future);
                }
            } catch (RuntimeException e) {
                failure = writeFailed(e);
            }
            if (writes.isEmpty()) {
                writeInterest = false;
                shutNow = shutdownFuture != null && !outputShut && failure == null;
            }
            if (!writableFlag && queued <= lowWater) {
                writableFlag = true;
                waiters = writabilityWaiters;
                writabilityWaiters = null;
            }
        }
        completeAll(done, null);
        if (failure != null) {
            failWrites(failure);
        }
        completeAll(waiters, null);
        if (shutNow) {
            shutOutput();
        }
    }

    @Override
    public boolean isWritable() {
        synchronized (writeLock) {
            return writableFlag && writeFailure == null && !closed;
        }
    }

    @Override
    public long queuedBytes() {
        synchronized (writeLock) {
            return queued;
        }
    }

    @Override
    public LoopFuture<Void> whenWritable() {
        LoopFuture<Void> f = new LoopFuture<>();
        synchronized (writeLock) {
            if (writeFailure != null) {
                f.completeExceptionally(writeFailure);
            } else if (closed) {
                f.completeExceptionally(new ChannelClosedException(name + ": closed"));
            } else if (!writableFlag) {
                if (writabilityWaiters == null) {
                    writabilityWaiters = new ArrayList<>();
                }
                writabilityWaiters.add(f);
                return f;
            }
        }
        f.complete(null);
        return f;
    }

    @Override
    public LoopFuture<Void> shutdownOutput() {
        boolean now;
        LoopFuture<Void> f;
        RuntimeException failure = null;
        boolean needInterest = false;
        synchronized (writeLock) {
            if (shutdownFuture != null) {
                return LoopFutures.copyOf(shutdownFuture); // the first caller's may have been cancelled
            }
            f = shutdownFuture = new LoopFuture<>();
            if (closed) {
                f.completeExceptionally(new ChannelClosedException(name + ": closed"));
                return LoopFutures.copyOf(f);
            }
            if (halfClose == HalfClose.TERMINAL_EOF && writeFailure == null) {
                // Queued behind every earlier write; shutOutput() then has nothing left to do.
                ByteBuffer eof = lastWrittenByte == '\n' ? ByteBuffer.wrap(new byte[] {eofChar})
                        : ByteBuffer.wrap(new byte[] {eofChar, eofChar});
                if (writes.isEmpty()) {
                    failure = writeNow(eof);
                }
                if (failure == null && eof.hasRemaining()) {
                    needInterest = queue(eof, new LoopFuture<>());
                }
            }
            now = failure == null && writes.isEmpty();
        }
        if (failure != null) {
            failWrites(failure);
        } else if (needInterest) {
            requestInterestUpdate();
        }
        if (now) {
            shutOutput();
        }
        return LoopFutures.copyOf(f);
    }

    private void shutOutput() {
        LoopFuture<Void> f;
        synchronized (writeLock) {
            if (outputShut) {
                return;
            }
            outputShut = true;
            f = shutdownFuture;
        }
        if (halfClose == HalfClose.TERMINAL_EOF) {
            // The EOF character went out with the queue; the fd stays open for reading.
            RuntimeException failure;
            synchronized (writeLock) {
                failure = writeFailure;
            }
            if (failure != null) {
                f.completeExceptionally(failure);
            } else {
                f.complete(null);
            }
            return;
        }
        if (halfClose == HalfClose.SHUTDOWN_WRITE && readable) {
            // Guarded like read/write: a concurrent close must not let this hit a reused fd number.
            if (!channel.beginIo()) {
                f.completeExceptionally(new ChannelClosedException(name + ": closed before shutdown(SHUT_WR)"));
                return;
            }
            try {
                if (Native.LIBC.shutdown(channel.getFD(), SHUT_WR) < 0) {
                    f.completeExceptionally(Native.lastError(name + ": shutdown(SHUT_WR)"));
                    return;
                }
            } finally {
                channel.endIo();
            }
        } else {
            closeNowFromAnyThread();
        }
        f.complete(null);
    }

    private void failWrites(RuntimeException cause) {
        List<LoopFuture<Void>> failed = new ArrayList<>();
        List<LoopFuture<Void>> waiters;
        LoopFuture<Void> shut = null;
        synchronized (writeLock) {
            for (PendingWrite w : writes) {
                failed.add(w.future);
            }
            writes.clear();
            queued = 0;
            writeInterest = false;
            waiters = writabilityWaiters;
            writabilityWaiters = null;
            if (shutdownFuture != null && !outputShut) {
                shut = shutdownFuture;
                outputShut = true;
            }
        }
        completeAll(failed, cause);
        completeAll(waiters, cause);
        if (shut != null) {
            shut.completeExceptionally(cause);
        }
        if (!readable) {
            closeNowFromAnyThread();
        }
    }

    private static void completeAll(List<LoopFuture<Void>> futures, Throwable cause) {
        if (futures == null) {
            return;
        }
        for (LoopFuture<Void> f : futures) {
            if (cause == null) {
                f.complete(null);
            } else {
                f.completeExceptionally(cause);
            }
        }
    }

    // =========================================================================================
    // Readiness, interest, close
    // =========================================================================================

    @Override
    public void ready(int readyOps) {
        if ((readyOps & SelectionKey.OP_WRITE) != 0) {
            onWritable();
        }
        if ((readyOps & SelectionKey.OP_READ) != 0 && !closed) {
            onReadable();
        }
        updateInterest();
    }

    /** Loop thread: asks the selector for exactly what the stream needs now. */
    private void updateInterest() {
        SelectionKey k = key;
        if (k == null || !k.isValid()) {
            return;
        }
        int ops = wantsRead() ? SelectionKey.OP_READ : 0;
        if (writable) {
            synchronized (writeLock) {
                if (writeInterest && writeFailure == null) {
                    ops |= SelectionKey.OP_WRITE;
                }
            }
        }
        if (k.interestOps() != ops) {
            k.interestOps(ops);
        }
    }

    @Override
    public void close() {
        closed = true;
        failWrites(new ChannelClosedException(name + ": closed"));
        if (!channel.isOpen() && (!readable || endOfStream.isDone())) {
            // Already finished on the loop (a pipe at end of stream, a sink shut down): nothing is
            // left for it to do, and not hopping there saves a loop wakeup per exited child.
            return;
        }
        try {
            loop.runOnLoop(() -> {
                closeChannel();
                if (!ended) {
                    finishWithError(new ChannelClosedException(name + ": closed"));
                }
            });
        } catch (LoopClosedException e) {
            closeChannelOfClosedLoop();
        }
    }

    @Override
    public void loopClosed(LoopClosedException cause) {
        closed = true;
        failWrites(cause);
        readFailure = cause;
        finishWithError(cause);
        closeChannel();
    }

    private void closeNowFromAnyThread() {
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

    private void closeChannel() {
        try {
            channel.close();
        } catch (java.io.IOException e) {
            LOG.debug("{}: close failed", name, e);
        }
    }

    @Override
    public String toString() {
        return name;
    }

    private record PendingRead(int max, LoopFuture<byte[]> future) {
    }

    private record PendingWrite(ByteBuffer data, LoopFuture<Void> future) {
    }
}
