package io.dualpipe.core.internal;

import io.dualpipe.core.BrokenPipeException;
import io.dualpipe.core.ChannelClosedException;
import io.dualpipe.core.FdChannel;
import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.LoopClosedException;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.NativeIoException;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The write side of an {@link FdStream}: a write from any thread goes straight to the kernel when
 * nothing is queued (no hop, no wakeup), and otherwise joins the queue that the loop drains on
 * OP_WRITE; water marks tell writers when to hold back; {@link #shutdownOutput()} half-closes as
 * the stream's {@link HalfClose} says, after the queued bytes (see {@link OutputShutdown}).
 *
 * <p>Every field is guarded by {@code writeLock}, and so is the state of its {@link WaterMarks}
 * and {@link OutputShutdown}; futures are completed outside it. The queued
 * buffers belong to this half until written: {@link FdStream#write(ByteBuffer)} hands over a
 * duplicate, {@link FdStream#writeOrQueue(ByteBuffer)} the caller's buffer itself.
 */
final class WriteHalf {
    private final FdStream stream;
    private final FdChannel channel;
    private final String name;
    private final boolean writable;
    /** The stream also reads this fd: failed writes, like a half-close, must not close it. */
    private final boolean readable;

    private final Object writeLock = new Object();
    private final ArrayDeque<PendingWrite> writes = new ArrayDeque<>(1); // mostly empty: small until used (a stream per fd)
    private long queued;
    private boolean writeInterest;
    private final WaterMarks marks; // guarded by writeLock
    private final OutputShutdown shutdown; // its state guarded by writeLock
    private RuntimeException writeFailure;

    WriteHalf(FdStream stream, FdChannel channel, String name, boolean writable, boolean readable,
              HalfClose halfClose, byte eofChar, int highWater, int lowWater) {
        this.stream = stream;
        this.channel = channel;
        this.name = name;
        this.writable = writable;
        this.readable = readable;
        this.marks = new WaterMarks(highWater, lowWater);
        this.shutdown = new OutputShutdown(this, writeLock, stream, channel, name, readable, halfClose, eofChar);
    }

    /** @param nullIfDone return null, allocating nothing, when the kernel took every byte at once */
    LoopFuture<Void> enqueue(ByteBuffer src, boolean nullIfDone) {
        return enqueue(src, null, 0, false, nullIfDone, 0);
    }

    /**
     * As {@link #enqueue(ByteBuffer, boolean) enqueue(src, true)} for a direct buffer whose index 0 is
     * at native {@code address}: the first write(2) goes from that address, without asking the JVM
     * for it (a JNI call per write on a message channel's hot path).
     */
    LoopFuture<Void> enqueueDirect(ByteBuffer src, long address) {
        return enqueue(src, null, 0, false, true, address);
    }

    /**
     * {@code array[0, length)}, written straight from it when nothing is queued; only what the kernel
     * does not take at once is queued: wrapped, or copied if the array is only {@code borrowed} for
     * this call (a thread's scratch). Null when the kernel took everything.
     */
    LoopFuture<Void> enqueue(byte[] array, int length, boolean borrowed) {
        return enqueue(null, array, length, borrowed, true, 0);
    }

    /** One of {@code buffer} and {@code array} is given; {@code address}, when not 0, is {@code buffer}'s. */
    private LoopFuture<Void> enqueue(ByteBuffer buffer, byte[] array, int length, boolean borrowed, boolean nullIfDone,
                                     long address) {
        ByteBuffer src = buffer;
        LoopFuture<Void> f = null;
        RuntimeException failure = null;
        boolean done = false;
        boolean needInterest = false;
        synchronized (writeLock) {
            boolean closed = stream.isClosing();
            if (!writable) {
                failure = new InvalidArgumentException(name + " is not writable");
            } else if (writeFailure != null) {
                failure = writeFailure;
            } else if (closed || shutdown.requested()) {
                failure = new ChannelClosedException(name + ": write after " + (closed ? "close" : "shutdownOutput"));
            } else {
                shutdown.accepting(src, array, length);
                int n = 0;
                if (writes.isEmpty()) {
                    try {
                        // One write(2) for an array (a request line): one longer than the thread's
                        // scratch has its rest queued, and written on OP_WRITE.
                        n = src == null ? channel.write(array, 0, length) : address != 0 ? writeSomeAt(src, address) : writeSome(src);
                    } catch (RuntimeException e) {
                        failure = writeFailed(e);
                    }
                    done = failure == null && (src != null ? !src.hasRemaining() : n == length);
                }
                if (failure == null && !done) {
                    if (src == null) {
                        src = borrowed ? ByteBuffer.wrap(Arrays.copyOfRange(array, n, length)) : ByteBuffer.wrap(array, n, length - n);
                    }
                    f = new LoopFuture<>();
                    needInterest = queue(src, f);
                    marks.grew(queued);
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
    RuntimeException writeNow(ByteBuffer src) {
        try {
            writeSome(src);
            return null;
        } catch (RuntimeException e) {
            return writeFailed(e);
        }
    }

    /** Caller holds writeLock: queues what is left of src; true when OP_WRITE interest must now be asked for. */
    boolean queue(ByteBuffer src, LoopFuture<Void> f) {
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

    /** {@link #writeSome} from native memory: {@code src}'s index 0 is at {@code address}. Caller holds writeLock. */
    private int writeSomeAt(ByteBuffer src, long address) {
        int total = 0;
        try {
            while (src.hasRemaining()) {
                int at = src.position();
                int n = channel.write(address + at, src.limit() - at);
                if (n == 0) {
                    break;
                }
                src.position(at + n);
                total += n;
            }
        } catch (ChannelClosedException e) {
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

    void requestInterestUpdate() {
        try {
            stream.loop().runOnLoop(stream::updateInterest);
        } catch (LoopClosedException e) {
            failWrites(e);
        }
    }

    /** Whether the key should ask for OP_WRITE now. */
    boolean wantsWrite() {
        synchronized (writeLock) {
            return writeInterest && writeFailure == null;
        }
    }

    /** Loop thread, on OP_WRITE: writes what the kernel takes, then wakes writers and a pending shutdown. */
    void onWritable() {
        List<LoopFuture<Void>> done = null;
        List<LoopFuture<Void>> waiters;
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
                shutNow = shutdown.due() && failure == null;
            }
            waiters = marks.drained(queued);
        }
        completeAll(done, null);
        if (failure != null) {
            failWrites(failure);
        }
        completeAll(waiters, null);
        if (shutNow) {
            shutdown.finish();
        }
    }

    /** Caller holds writeLock: nothing is queued. */
    boolean idle() {
        return writes.isEmpty();
    }

    /** Caller holds writeLock: the failure that stopped writing, or null. */
    RuntimeException failure() {
        return writeFailure;
    }

    boolean isWritable() {
        synchronized (writeLock) {
            return marks.writable() && writeFailure == null && !stream.isClosing();
        }
    }

    long queuedBytes() {
        synchronized (writeLock) {
            return queued;
        }
    }

    LoopFuture<Void> whenWritable() {
        LoopFuture<Void> f = new LoopFuture<>();
        synchronized (writeLock) {
            if (writeFailure != null) {
                f.completeExceptionally(writeFailure);
            } else if (stream.isClosing()) {
                f.completeExceptionally(new ChannelClosedException(name + ": closed"));
            } else if (!marks.writable()) {
                marks.await(f);
                return f;
            }
        }
        f.complete(null);
        return f;
    }

    LoopFuture<Void> shutdownOutput() {
        return shutdown.start();
    }

    /**
     * Loop thread: the slave side of a terminal has no holder left, so nothing will read what is
     * written: queued and later writes fail.
     */
    void terminalGone() {
        RuntimeException cause;
        synchronized (writeLock) {
            if (writeFailure == null) {
                writeFailure = new BrokenPipeException(name + ": the terminal's other side is closed (EIO)", null);
            }
            cause = writeFailure;
        }
        failWrites(cause);
    }

    /** Fails every queued write, writability waiter and a pending shutdown with {@code cause}; a sink closes its fd. */
    void failWrites(RuntimeException cause) {
        failWrites(() -> cause);
    }

    /**
     * As above, with the failure made only if something waits for it: a stream closed with nothing
     * queued (every exited child's) costs no exception, no stack trace and no list.
     */
    void failWrites(java.util.function.Supplier<RuntimeException> why) {
        List<LoopFuture<Void>> failed = null;
        List<LoopFuture<Void>> waiters;
        LoopFuture<Void> shut;
        synchronized (writeLock) {
            if (!writes.isEmpty()) {
                failed = new ArrayList<>(writes.size());
                for (PendingWrite w : writes) {
                    failed.add(w.future);
                }
            }
            writes.clear();
            queued = 0;
            writeInterest = false;
            waiters = marks.takeWaiters();
            shut = shutdown.takePending();
        }
        if (failed != null || waiters != null || shut != null) {
            RuntimeException cause = why.get();
            completeAll(failed, cause);
            completeAll(waiters, cause);
            if (shut != null) {
                shut.completeExceptionally(cause);
            }
        }
        if (!readable) {
            stream.closeNowFromAnyThread();
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

    private record PendingWrite(ByteBuffer data, LoopFuture<Void> future) {
    }
}
