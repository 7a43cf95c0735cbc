package io.dualpipe.core.internal;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.EventLoopGroup;
import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.LoopClosedException;
import io.dualpipe.core.LoopFuture;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

/**
 * The {@link EventLoopGroup}: a fixed array of {@link SingleThreadEventLoop}s and a round-robin
 * counter. See {@link EventLoopGroup} for the contract.
 */
public final class MultiThreadEventLoopGroup implements EventLoopGroup {
    private final String name;
    private final SingleThreadEventLoop[] loops;
    private final List<EventLoop> view;
    private final AtomicInteger nextIndex = new AtomicInteger();
    private final LoopFuture<Void> termination = new LoopFuture<>(); // ours alone: callers get copies
    private volatile boolean closed;

    public MultiThreadEventLoopGroup(int loops, String name) {
        this(loops, name, 0);
    }

    /** Loops that poll their selectors for {@code spinNanos} before they block; see {@link SingleThreadEventLoop#idleSpinNanos}. */
    public MultiThreadEventLoopGroup(int loops, String name, long spinNanos) {
        this(loops, name, i -> new SingleThreadEventLoop(name + "-" + i, false, name, spinNanos));
    }

    /** {@code factory} makes loop i; tests pass one whose thread fails to start. */
    MultiThreadEventLoopGroup(int loops, String name, IntFunction<SingleThreadEventLoop> factory) {
        InvalidArgumentException.requirePositive("loops", loops);
        this.name = InvalidArgumentException.requireNonNull("name", name);
        this.loops = new SingleThreadEventLoop[loops];
        for (int i = 0; i < loops; i++) {
            try {
                this.loops[i] = factory.apply(i);
            } catch (Throwable t) {
                // Nobody gets this group to close: the loops already running are ours to stop, or
                // their non-daemon threads keep the JVM alive for good.
                for (int k = 0; k < i; k++) {
                    this.loops[k].beginClose();
                }
                for (int k = 0; k < i; k++) {
                    this.loops[k].awaitThread();
                }
                throw t;
            }
        }
        this.view = List.of(this.loops);
        List<CompletableFuture<Void>> ends = new ArrayList<>(loops);
        for (SingleThreadEventLoop loop : this.loops) {
            ends.add(loop.terminationFuture());
        }
        CompletableFuture.allOf(ends.toArray(new CompletableFuture<?>[0])).whenComplete((v, e) -> termination.complete(null));
    }

    @Override
    public EventLoop next() {
        if (closed) {
            throw new LoopClosedException("event loop group '" + name + "' is closed");
        }
        // floorMod keeps the index in range after the counter wraps past Integer.MAX_VALUE.
        return loops[Math.floorMod(nextIndex.getAndIncrement(), loops.length)];
    }

    @Override
    public List<EventLoop> loops() {
        return view;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public boolean isClosed() {
        return closed;
    }

    @Override
    public LoopFuture<Void> shutdown() {
        closed = true;
        for (SingleThreadEventLoop loop : loops) {
            loop.beginClose(); // all first, so the loops shut down side by side
        }
        return terminationFuture();
    }

    @Override
    public void close() {
        shutdown();
        if (Thread.currentThread() instanceof LoopThread) {
            // A loop thread cannot wait for itself, nor block for another loop: terminationFuture() tells.
            return;
        }
        for (SingleThreadEventLoop loop : loops) {
            loop.awaitThread();
        }
    }

    @Override
    public LoopFuture<Void> terminationFuture() {
        return LoopFutures.copyOf(termination);
    }

    @Override
    public String toString() {
        return "EventLoopGroup[" + name + ", " + loops.length + " loops" + (closed ? ", closed" : "") + "]";
    }
}
