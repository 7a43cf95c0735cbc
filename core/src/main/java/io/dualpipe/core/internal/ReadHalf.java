package io.dualpipe.core.internal;

import io.dualpipe.core.ByteSource.Listener;
import io.dualpipe.core.ChannelClosedException;
import io.dualpipe.core.ConsumerConflictException;
import io.dualpipe.core.FdChannel;
import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.LoopClosedException;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.NativeIoException;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;

/**
 * The read side of an {@link FdStream}: bytes read from the fd into the loop's buffer, handed to a
 * listener or to pending reads, the rest kept (up to the read limit) until a consumer takes it,
 * then the end of the stream once every byte before it was taken.
 *
 * <p>Loop-confined: every field is touched on the loop thread only; the public calls of the stream
 * hop there. The stream owns the fd, its key and its closing; this half asks it to close the fd
 * when a source ends and to update the key's interest after a consumer changed.
 */
final class ReadHalf {
    private static final LazyLogger LOG = new LazyLogger(FdStream.class);
    private static final CallbackFailureLog FAILURES = new CallbackFailureLog();
    private static final byte[] EMPTY = new byte[0];
    private static final int MAX_READS_PER_READY = 4;

    private final FdStream stream;
    private final SingleThreadEventLoop loop;
    private final FdChannel channel;
    private final String name;
    private final boolean readable;
    /** A pseudo-terminal master: EIO on read is Linux's end of stream, not a failure. */
    private final boolean terminal;
    private final int readLimit;

    private ByteBuffer pending;
    private final ArrayDeque<PendingRead> reads = new ArrayDeque<>(1); // mostly empty: small until used (a stream per fd)
    private Listener listener;
    private boolean paused;
    private boolean eofSeen;
    private boolean closeAtEnd; // TERMINAL_EOF: close the fd as soon as the read side has ended
    private boolean ended;
    private Throwable readFailure;
    private final LoopFuture<Void> endOfStream = new LoopFuture<>();

    ReadHalf(FdStream stream, SingleThreadEventLoop loop, FdChannel channel, String name, boolean readable,
             boolean terminal, int readLimit) {
        this.stream = stream;
        this.loop = loop;
        this.channel = channel;
        this.name = name;
        this.readable = readable;
        this.terminal = terminal;
        this.readLimit = InvalidArgumentException.requirePositive("readBufferLimit", readLimit);
    }

    LoopFuture<byte[]> read(int maxBytes) {
        InvalidArgumentException.requirePositive("maxBytes", maxBytes);
        LoopFuture<byte[]> f = new LoopFuture<>();
        if (!readable) {
            f.completeExceptionally(new InvalidArgumentException(name + " is not readable"));
            return f;
        }
        try {
            loop.runOnLoop(() -> {
                if (listener != null) {
                    f.completeExceptionally(new ConsumerConflictException(name + ": read() while a listener is set"));
                    return;
                }
                reads.add(new PendingRead(maxBytes, f));
                drain();
                stream.updateInterest();
            });
        } catch (LoopClosedException e) {
            f.completeExceptionally(e);
        }
        return f;
    }

    void listen(Listener l) {
        loop.runOnLoop(() -> {
            if (l != null) {
                // This runs on the loop, where a throw would only be logged: the pending reads are
                // the callers who can hear about the mix-up.
                ConsumerConflictException e = null;
                while (!reads.isEmpty()) {
                    if (e == null) {
                        e = new ConsumerConflictException(name + ": a listener was set while " + reads.size() + " reads were pending");
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
            stream.updateInterest();
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
            FAILURES.threw(LOG.get(), l, t, "{}: listener {} threw on end", name, l);
        }
    }

    void pause() {
        loop.runOnLoop(() -> paused = true);
    }

    void resume() {
        loop.runOnLoop(() -> {
            paused = false;
            drain();
            stream.updateInterest();
        });
    }

    /** The library's own end-of-stream future; callers get copies. */
    LoopFuture<Void> endOfStream() {
        return endOfStream;
    }

    boolean eofSeen() {
        return eofSeen;
    }

    int pendingBytes() {
        return pending == null ? 0 : pending.remaining();
    }

    /** Whether the key should ask for OP_READ now. */
    boolean wantsRead() {
        return readable && !eofSeen && readFailure == null && !stream.isClosing() && pendingBytes() < readLimit;
    }

    void onReadable() {
        // A bulk stream fills the loop's buffer in one read; reading again at once (a few times, to
        // stay fair to the loop's other channels) saves an epoll_wait per chunk.
        for (int pass = 0; pass < MAX_READS_PER_READY && !stream.isClosing() && !eofSeen && readFailure == null; pass++) {
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
            if (!terminal || e.errno() != Native.EIO) {
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
            stream.readSideReachedEof();
            if (terminal && closeAtEnd) {
                stream.closeChannel();
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
                    FAILURES.threw(LOG.get(), l, t, "{}: listener {} threw", name, l);
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

    /** See {@link FdStream#closeAtEndOfInput()}. Loop thread. */
    void closeAtEndOfInput() {
        closeAtEnd = true;
        if (eofSeen || readFailure != null) {
            stream.closeChannel();
        }
    }

    private void finishEnd() {
        // endOfStream first: a caller woken by its last read (readAll, read) must already see the end.
        endOfStream.complete(null);
        while (!reads.isEmpty()) {
            reads.poll().future.complete(EMPTY);
        }
        Listener l = listener;
        if (l != null) {
            try {
                l.onEnd();
            } catch (Throwable t) {
                FAILURES.threw(LOG.get(), l, t, "{}: listener {} threw on end", name, l);
            }
        }
    }

    private void readFailed(Throwable error) {
        readFailure = error;
        stream.readSideFailed();
        drain();
    }

    /** True once the end (or a failure) was told to the consumer. */
    boolean ended() {
        return ended;
    }

    /** The loop closed: the read side ends with {@code cause} at once, buffered bytes or not. */
    void loopClosed(Throwable cause) {
        readFailure = cause;
        finishWithError(cause);
    }

    /** Ends the read side with {@code error} now (pending reads, listener, endOfStream) unless it has ended. */
    void finishWithError(Throwable error) {
        if (ended) {
            return;
        }
        ended = true;
        readFailure = error;
        endOfStream.completeExceptionally(error); // before the reads: see finishEnd
        while (!reads.isEmpty()) {
            reads.poll().future.completeExceptionally(error);
        }
        Listener l = listener;
        if (l != null) {
            try {
                l.onError(error);
            } catch (Throwable t) {
                FAILURES.threw(LOG.get(), l, t, "{}: listener {} threw on error", name, l);
            }
        }
    }

    private record PendingRead(int max, LoopFuture<byte[]> future) {
    }
}
