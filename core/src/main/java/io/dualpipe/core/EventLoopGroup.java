package io.dualpipe.core;

import io.dualpipe.core.internal.MultiThreadEventLoopGroup;
import io.dualpipe.core.internal.NativeAccess;
import io.dualpipe.core.internal.SingleThreadEventLoop;

import java.time.Duration;
import java.util.List;

/**
 * A fixed set of {@link EventLoop}s, one thread each, so that children, sockets and FIFOs are served
 * by every core rather than one. Objects are placed on the group's loops with {@link #next()}; each
 * object stays on its loop for life.
 *
 * <pre>{@code
 * try (EventLoopGroup group = EventLoopGroup.create(4, "app")) {
 *     ChildProcessBuilder cat = ChildProcess.builder("cat");
 *     for (int i = 0; i < 1000; i++) {
 *         children.add(cat.loop(group.next()).start());   // spread: one loop each, round-robin
 *     }
 *     EventLoop pinned = group.next();
 *     ChildProcess a = ChildProcess.builder("a").loop(pinned).start();   // a and b share a thread:
 *     ChildProcess b = ChildProcess.builder("b").loop(pinned).start();   // their callbacks never overlap
 *     MessageServer server = MessageServer.builder(codecs).group(group).bind(path); // a loop per connection
 * }
 * }</pre>
 *
 * <p><b>Threading.</b> Every method is thread-safe. Each loop is an ordinary {@link EventLoop}: all the
 * callbacks of an object (its read futures, listeners, replies, {@code onExit()}, a connection's
 * handlers) run on its loop's one thread, in order. Objects on <em>different</em> loops are called
 * back on different threads at the same time, so state they share needs a lock or a concurrent
 * structure, or, simpler, put them on one loop: pass the same {@code group.next()} to their builders
 * (pinning). The stages of a {@code ChildProcess.pipeline} must share one loop.
 * Blocking on a library future from any loop thread fails fast ({@link BlockingOnLoopException}), as
 * with a single loop.
 *
 * <p><b>Placement.</b> {@link #next()} is round-robin: one atomic increment, no lock, and a placement
 * that depends on the order of calls only, so N similar objects land N/size per loop. The
 * alternative, the loop with the fewest registrations, was not taken: registrations measure load
 * poorly (an idle connection counts as much as a busy one), counting them means reading other loops'
 * state as it changes, and placement would then depend on timing. Work that is uneven or related is
 * better pinned by the caller, who knows it.
 *
 * <p><b>Sizing.</b> One loop per core ({@link #create(String)}): a loop never blocks, so more loops
 * than cores only add switches. A loop's work is syscalls and callbacks, and a group scales with cores
 * as long as the objects it serves are many and independent; one busy child or connection is still
 * served by one thread.
 *
 * <p>The default loop of every builder stays {@link EventLoop#shared()}, a single loop: objects made
 * without a loop or group keep being called back on one thread, as code written for that expects.
 */
public interface EventLoopGroup extends AutoCloseable {

    /**
     * Starts {@code loops} loops on non-daemon threads named {@code name-0}, {@code name-1}, ...;
     * {@link #close()} the group when done. If a loop cannot start (no thread or no selector to be
     * had), the ones already started are closed before the error is thrown.
     *
     * @param loops how many loops (threads)
     * @param name  the prefix of the threads' names
     * @return the running group
     * @throws InvalidArgumentException if {@code loops <= 0} or {@code name} is null
     */
    static EventLoopGroup create(int loops, String name) {
        InvalidArgumentException.requirePositive("loops", loops);
        InvalidArgumentException.requireNonNull("name", name);
        NativeAccess.require();
        return new MultiThreadEventLoopGroup(loops, name);
    }

    /**
     * Starts {@code loops} loops as {@link #create(int, String)}, each polling its selector for up to
     * {@code idleSpin} before it sleeps, as {@link EventLoop#create(String, Duration)} describes, with
     * its cost: up to a core per loop while the loops wait.
     *
     * @param loops    how many loops (threads)
     * @param name     the prefix of the threads' names
     * @param idleSpin how long each loop polls before sleeping; {@link Duration#ZERO}: not at all
     * @return the running group
     * @throws InvalidArgumentException if {@code loops <= 0}, {@code name} or {@code idleSpin} is null,
     *                                  or {@code idleSpin} is negative or longer than 10 ms
     */
    static EventLoopGroup create(int loops, String name, Duration idleSpin) {
        InvalidArgumentException.requirePositive("loops", loops);
        InvalidArgumentException.requireNonNull("name", name);
        long spinNanos = SingleThreadEventLoop.idleSpinNanos(idleSpin);
        NativeAccess.require();
        return new MultiThreadEventLoopGroup(loops, name, spinNanos);
    }

    /**
     * Starts a group of one loop per available processor ({@link Runtime#availableProcessors()}).
     *
     * @param name the prefix of the threads' names
     * @return the running group
     * @throws InvalidArgumentException if {@code name} is null
     */
    static EventLoopGroup create(String name) {
        return create(Runtime.getRuntime().availableProcessors(), name);
    }

    /**
     * The loop to place the next object on, round-robin over {@link #loops()}.
     *
     * @return one of the group's loops
     * @throws LoopClosedException once the group is closed (or closing)
     */
    EventLoop next();

    /**
     * The group's loops, in {@link #next()}'s order. They cannot be closed one by one
     * ({@link EventLoop#close()} throws {@link InvalidArgumentException}): they close with the group.
     *
     * @return the loops, an unmodifiable list
     */
    List<EventLoop> loops();

    /** {@return the name given at creation; the loops' threads are named after it} */
    String name();

    /** {@return true once {@link #shutdown()} or {@link #close()} has begun} */
    boolean isClosed();

    /**
     * Starts closing every loop (each as {@link EventLoop#close()} describes: handlers told, pending
     * futures failed with {@link LoopClosedException}, channels closed) and returns at once, from any
     * thread, a loop's included. Idempotent.
     *
     * @return a new future that completes when every loop has ended, as {@link #terminationFuture()}
     */
    LoopFuture<Void> shutdown();

    /**
     * {@link #shutdown()}, then waits for every loop thread to end. On a loop thread (this group's or
     * any other) it returns at once instead, since a loop must not block. Idempotent.
     */
    @Override
    void close();

    /**
     * Completes when every loop of the group has ended. Each call returns a new future, so a caller
     * cancelling or completing its own changes nobody else's.
     *
     * @return a new future, completed with null when every loop has ended
     */
    LoopFuture<Void> terminationFuture();
}
