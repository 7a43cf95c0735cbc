package io.dualpipe.core.internal;

import io.dualpipe.core.ChannelClosedException;
import io.dualpipe.core.FdChannel;
import io.dualpipe.core.LoopFuture;

import java.nio.ByteBuffer;

/**
 * The half-close of a {@link WriteHalf}: {@code shutdownOutput()} is asked for once, waits for the
 * bytes queued before it, then shuts the output as the stream's {@link HalfClose} says (close the fd,
 * shutdown(SHUT_WR), or a terminal's EOF character, which is why the last byte written is kept).
 *
 * <p><b>Threading.</b> Every field is guarded by the write half's {@code writeLock}, the very object
 * handed in at construction, so a write and a shutdown still exclude each other as one lock: the
 * methods marked "caller holds the lock" are called by the write half inside it, {@link #start()} and
 * {@link #finish()} take it themselves. Futures are completed outside it. {@link #start()} may be
 * called from any thread; {@link #finish()} runs on whichever thread saw the queue empty.
 *
 * <p><b>Buffers.</b> Only the EOF bytes of {@link HalfClose#TERMINAL_EOF}, which are ours and are
 * written (or queued on the write half, whose they then are) in {@link #start()}. Buffers being
 * written are only read here, for their last byte, never kept.
 */
final class OutputShutdown {
    private final WriteHalf half;
    private final Object lock;      // half's writeLock
    private final FdStream stream;
    private final FdChannel channel;
    private final String name;
    /** The stream also reads this fd: a half-close must not close it. */
    private final boolean readable;
    private final HalfClose halfClose;
    private final byte eofChar;     // TERMINAL_EOF only

    private int lastWrittenByte = '\n'; // TERMINAL_EOF only; the last byte accepted for writing
    private LoopFuture<Void> shutdownFuture;
    private boolean outputShut;

    OutputShutdown(WriteHalf half, Object lock, FdStream stream, FdChannel channel, String name, boolean readable,
                   HalfClose halfClose, byte eofChar) {
        this.half = half;
        this.lock = lock;
        this.stream = stream;
        this.channel = channel;
        this.name = name;
        this.readable = readable;
        this.halfClose = halfClose;
        this.eofChar = eofChar;
    }

    /** Caller holds the lock: shutdownOutput() was called, so writes are refused. */
    boolean requested() {
        return shutdownFuture != null;
    }

    /** Caller holds the lock: a write of {@code src}, or else of {@code array[0, length)}, is accepted. */
    void accepting(ByteBuffer src, byte[] array, int length) {
        if (halfClose == HalfClose.TERMINAL_EOF && (src != null ? src.hasRemaining() : length > 0)) {
            lastWrittenByte = src != null ? src.get(src.limit() - 1) : array[length - 1];
        }
    }

    /** Caller holds the lock: a shutdown waits for the queue, now empty, and {@link #finish()} is due. */
    boolean due() {
        return shutdownFuture != null && !outputShut;
    }

    /**
     * Caller holds the lock: the future of a shutdown still waiting, for the write half to fail (it
     * will not be finished); null if none waits.
     */
    LoopFuture<Void> takePending() {
        if (shutdownFuture != null && !outputShut) {
            outputShut = true;
            return shutdownFuture;
        }
        return null;
    }

    /** Any thread: the write half's {@code shutdownOutput()}. */
    LoopFuture<Void> start() {
        boolean now;
        LoopFuture<Void> f;
        RuntimeException failure = null;
        boolean needInterest = false;
        synchronized (lock) {
            if (shutdownFuture != null) {
                return LoopFutures.copyOf(shutdownFuture); // the first caller's may have been cancelled
            }
            f = shutdownFuture = new LoopFuture<>();
            if (stream.isClosing()) {
                f.completeExceptionally(new ChannelClosedException(name + ": closed"));
                return LoopFutures.copyOf(f);
            }
            if (halfClose == HalfClose.TERMINAL_EOF && half.failure() == null) {
                // Queued behind every earlier write; finish() then has nothing left to do.
                ByteBuffer eof = lastWrittenByte == '\n' ? ByteBuffer.wrap(new byte[] {eofChar})
                        : ByteBuffer.wrap(new byte[] {eofChar, eofChar});
                if (half.idle()) {
                    failure = half.writeNow(eof);
                }
                if (failure == null && eof.hasRemaining()) {
                    needInterest = half.queue(eof, new LoopFuture<>());
                }
            }
            now = failure == null && half.idle();
        }
        if (failure != null) {
            half.failWrites(failure);
        } else if (needInterest) {
            half.requestInterestUpdate();
        }
        if (now) {
            finish();
        }
        return LoopFutures.copyOf(f);
    }

    /** Not holding the lock: the queue ahead of the shutdown is written; shuts the output, once. */
    void finish() {
        LoopFuture<Void> f;
        synchronized (lock) {
            if (outputShut) {
                return;
            }
            outputShut = true;
            f = shutdownFuture;
        }
        if (halfClose == HalfClose.TERMINAL_EOF) {
            // The EOF character went out with the queue; the fd stays open for reading.
            RuntimeException failure;
            synchronized (lock) {
                failure = half.failure();
            }
            if (failure != null) {
                f.completeExceptionally(failure);
            } else {
                f.complete(null);
            }
            return;
        }
        if (halfClose == HalfClose.SHUTDOWN_WRITE && readable) {
            RuntimeException failure = HalfClose.shutdownWrite(channel, name);
            if (failure != null) {
                f.completeExceptionally(failure);
                return;
            }
        } else {
            stream.closeNowFromAnyThread();
        }
        f.complete(null);
    }
}
