package io.dualpipe;

import io.dualpipe.core.ChannelClosedException;
import io.dualpipe.core.DualPipeException;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.internal.Futures;
import io.dualpipe.process.ChildProcess;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;

/**
 * The write half of {@link DualPipe}: queues bytes on the child's stdin without ever blocking,
 * bounds that queue, remembers the first write the child could not take so that every later write
 * reports it, and waits (bounded) for the queue to drain. {@link DualPipe} holds the public methods
 * and their contracts and delegates here; the exceptions and their messages are the ones its
 * Javadoc names.
 *
 * <p><b>Threading.</b> Thread-safe. {@link #send} is called by any caller thread, never waits, and
 * may run on an event-loop thread; writes are queued in the order their callers pass a small
 * monitor, so that {@code last} is the write the sink queued last and {@link #flush} waits for every
 * byte written before it. {@link #flush} blocks its caller, bounded by its timeout. The completion
 * callbacks recording a failure run on the loop thread (or on the caller's, for a write the kernel
 * refused at once) and only set an atomic.
 *
 * <p><b>Buffers.</b> {@link #send} takes ownership of the array it is given: the facade passes a
 * copy or a freshly encoded array, which the sink queues until the child has read it.
 */
final class Sender {
    // The child, not its stdin: stdin() throws for a child whose stdin is not a pipe, and that must
    // stay the failure of the first write, not of the spawn.
    private final ChildProcess child;
    private final String label;
    private final BooleanSupplier closed;
    private final Object lock = new Object();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private volatile LoopFuture<Void> last = LoopFuture.completed(null);

    /**
     * @param child  the child whose stdin this writes, written by nobody else
     * @param label  the pipe, for the messages
     * @param closed true once {@code close()} has begun
     */
    Sender(ChildProcess child, String label, BooleanSupplier closed) {
        this.child = child;
        this.label = label;
        this.closed = closed;
    }

    /** {@link DualPipe#write(byte[])} and its kin, once the facade has made {@code bytes} its own. */
    void send(byte[] bytes) {
        if (closed.getAsBoolean()) {
            throw new ChannelClosedException(label + ": write after close()");
        }
        throwIfFailed();
        long queued = child.stdin().queuedBytes();
        if (queued > DualPipe.MAX_QUEUED_BYTES) {
            // write() never blocks (blocking could deadlock against a child blocked on its own output),
            // so this bound is what keeps a child that stopped reading from growing our heap.
            throw new DualPipeException(label + ": " + queued + " bytes already wait to be written to stdin (limit "
                    + DualPipe.MAX_QUEUED_BYTES + "); the child is not reading its input");
        }
        LoopFuture<Void> f;
        synchronized (lock) { // so that last is the write the sink queued last
            f = child.stdin().write(bytes);
            last = f;
        }
        f.whenComplete((v, e) -> {
            if (e != null) {
                failure.compareAndSet(null, e);
            }
        });
        // The kernel may have refused this very write. Only its own failure is thrown here: another
        // writer's refusal, recorded meanwhile, would say this write failed when its bytes are queued
        // (and delivered); later writes report that one, before queuing.
        if (f.isCompletedExceptionally()) {
            throw Waits.rethrow(Futures.unwrap(f.handle((v, e) -> e).join()));
        }
    }

    /** {@link DualPipe#flush}: waits until the child has taken every byte queued so far. */
    void flush(Duration timeout) {
        Waits.check(timeout);
        Waits.await(last, Waits.deadline(timeout), timeout,
                () -> "flush: " + label + " has not taken " + child.stdin().queuedBytes() + " queued bytes within " + timeout);
    }

    private void throwIfFailed() {
        Throwable e = failure.get();
        if (e != null) {
            throw Waits.rethrow(e);
        }
    }
}
