package io.dualpipe.core;

import io.dualpipe.core.internal.NativeAccess;
import io.dualpipe.core.internal.SingleThreadEventLoop;

import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * One thread that owns a {@link java.nio.channels.Selector} and serves every child process, pipe,
 * FIFO and socket bound to it: I/O readiness, tasks handed over by other threads, and timers.
 *
 * <p><b>Threading.</b> {@link #execute}, {@link #schedule}, {@link #register} and {@link #close} may be
 * called from any thread. Everything registered with the loop is called back on the loop thread:
 * {@link IoHandler}s, tasks, timers, and the completions of the library's read futures. Selector work
 * (registration, interest changes, cancellation) happens on the loop thread only; other threads'
 * requests are handed to it as tasks.
 *
 * <p><b>Never block the loop.</b> Code running on the loop thread must not sleep, wait on a lock held
 * across I/O, or wait on a future: every other channel on the loop stalls meanwhile. Blocking
 * ({@code get()}/{@code join()}) on an incomplete library future from a loop thread fails at once
 * with a {@link BlockingOnLoopException} instead of deadlocking; chain with
 * {@code thenApply}/{@code thenCompose} instead.
 *
 * <p>Only {@link #close()} stops a loop: an interrupt of the loop thread is cleared before the next
 * select and otherwise ignored.
 *
 * <p>A task or handler that throws is logged (SLF4J, logger {@code io.dualpipe.core.internal.SingleThreadEventLoop})
 * and the loop goes on. The logging is bounded, so that a handler that throws on every event cannot
 * flood the log: per class of task or handler, the first 20 failures a minute are logged at WARN with
 * their stack trace, the rest at DEBUG, and the next WARN line says how many were not. The same holds
 * for every listener and callback of the library that throws.
 */
public interface EventLoop extends Executor, AutoCloseable {

    /**
     * The process-wide loop, started on first use on a daemon thread named {@code dualpipe-shared}.
     * It cannot be closed ({@link #close()} throws): any code in the JVM may rely on it. Its children
     * are not killed when the JVM exits; close them, or use a loop of your own.
     *
     * @return the shared loop
     * @throws NativeAccessException when JNR cannot be loaded in this JVM
     */
    static EventLoop shared() {
        NativeAccess.require();
        return SingleThreadEventLoop.shared();
    }

    /**
     * Starts a new loop on a non-daemon thread of the given name; {@link #close()} it when done. One
     * loop uses one core: to use several, see {@link EventLoopGroup}.
     *
     * @param name the loop thread's name
     * @return the running loop
     * @throws NativeAccessException when JNR cannot be loaded in this JVM
     */
    static EventLoop create(String name) {
        NativeAccess.require();
        return new SingleThreadEventLoop(name, false);
    }

    /**
     * Starts a new loop, as {@link #create(String)}, that polls its selector for up to
     * {@code idleSpin} before it sleeps in it. A loop that sleeps is woken by the kernel's scheduler
     * when a child or peer is ready, which takes microseconds, tens of them on a virtual machine; a
     * loop that is still polling sees the readiness at once. Streams that ping-pong with a child
     * gain the most: 1 GiB through {@code cat} with default pipes moved ~1.3× faster with a 50 µs
     * spin on an otherwise idle 2-CPU VM, and no faster when other work kept its CPUs awake anyway
     * (the examples' {@code BulkBench} prints both).
     *
     * <p><b>The cost is CPU.</b> Each time the loop runs out of work it burns up to {@code idleSpin}
     * of one core before sleeping: a loop woken every 100 µs with a 50 µs spin keeps half a core busy
     * while doing nothing. Use it for latency- or throughput-critical loops on machines with CPUs to
     * spare, not for a server's many mostly idle connections. It has no effect where only one
     * processor is available ({@link Runtime#availableProcessors()}), where the spin would delay the
     * very thread it waits for. Tasks handed over from other threads during the spin cost no wake-up.
     *
     * @param name     the loop thread's name
     * @param idleSpin how long to poll before sleeping; {@link Duration#ZERO} is {@link #create(String)}
     * @return the running loop
     * @throws InvalidArgumentException if {@code name} or {@code idleSpin} is null, or {@code idleSpin}
     *                                  is negative or longer than 10 ms
     * @throws NativeAccessException    when JNR cannot be loaded in this JVM
     */
    static EventLoop create(String name, Duration idleSpin) {
        long spinNanos = SingleThreadEventLoop.idleSpinNanos(idleSpin);
        NativeAccess.require();
        return new SingleThreadEventLoop(name, false, null, spinNanos);
    }

    /** {@return true when the calling thread is this loop's thread} */
    boolean inEventLoop();

    /**
     * Runs {@code task} on the loop thread: at once when called there (so it sees the state the
     * caller just left), otherwise handed over as {@link #execute} does.
     *
     * @param task the task to run
     * @throws LoopClosedException when it must be handed over and the loop is closed
     */
    default void runOnLoop(Runnable task) {
        if (inEventLoop()) {
            task.run();
        } else {
            execute(task);
        }
    }

    /**
     * Runs {@code task} on the loop thread, after the tasks handed over before it.
     *
     * @throws LoopClosedException when the loop is closed
     */
    @Override
    void execute(Runnable task);

    /**
     * Runs {@code task} on the loop thread once {@code delay} has passed.
     *
     * @param task  the task to run
     * @param delay how long to wait, in {@code unit}s
     * @param unit  the unit of {@code delay}
     * @return a handle whose {@link Timeout#cancel()} stops the task if it has not started
     * @throws LoopClosedException when the loop is closed
     */
    Timeout schedule(Runnable task, long delay, TimeUnit unit);

    /**
     * Registers {@code channel} with the loop's selector. Callable from any thread: from another
     * thread the registration hops onto the loop and the future completes there.
     *
     * @param channel a non-blocking channel the loop's selector accepts ({@link FdChannel} or a
     *                jnr-enxio native channel)
     * @param ops     the initial interest set
     * @param handler called on the loop when the channel is ready, and when the loop closes
     * @return the key, whose interest set only the loop thread may change
     */
    LoopFuture<SelectionKey> register(SelectableChannel channel, int ops, IoHandler handler);

    /**
     * {@return a new incomplete future whose blocking calls are guarded against use on a loop thread}
     *
     * @param <T> the future's value type
     */
    <T> LoopFuture<T> newFuture();

    /** {@return true once {@link #close()} has begun} */
    boolean isClosed();

    /**
     * Closes the loop: runs the tasks already handed over, tells every registered {@link IoHandler}
     * that the loop closed (so it fails its pending futures with a {@link LoopClosedException}), closes
     * their channels and the selector, and ends the thread. Idempotent. From an ordinary thread it
     * waits for the loop thread to end; on any loop thread (this one or another loop's) it returns at
     * once, since a loop must not block, and {@link #terminationFuture()} tells when it has ended.
     *
     * @throws InvalidArgumentException for {@link #shared()} and for a loop of an {@link EventLoopGroup},
     *         which closes with its group
     */
    @Override
    void close();

    /**
     * Completes when the loop has shut down: its handlers were told, its channels and selector are
     * closed and it runs nothing more. Each call returns a new future, so a caller cancelling or
     * completing its own cannot make anyone else believe the loop has ended.
     *
     * @return a new future, completed with null when the loop has ended
     */
    LoopFuture<Void> terminationFuture();
}
