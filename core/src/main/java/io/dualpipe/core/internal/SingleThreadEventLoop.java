package io.dualpipe.core.internal;

import io.dualpipe.core.DualPipeException;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.IoHandler;
import io.dualpipe.core.LoopClosedException;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.Timeout;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * The {@link EventLoop}: one {@link LoopThread} running tasks, timers and selector readiness in turn.
 * See {@link EventLoop} for the threading contract.
 *
 * <p>This class holds the run loop and the lifecycle (open, closing, terminated). The task queue
 * with its wakeup protocol is a {@link TaskQueue}, the timers a {@link LoopTimers}, the channels
 * and close hooks registered with the loop a {@link LoopRegistrations}.
 */
public final class SingleThreadEventLoop implements EventLoop {
    private static final LazyLogger LOG = new LazyLogger(SingleThreadEventLoop.class);
    private static final int OPEN = 0;
    private static final int CLOSING = 1;
    private static final int TERMINATED = 2;
    /** Bounds one pass over the task queue so a task that resubmits itself cannot starve I/O. */
    private static final int MAX_TASKS_PER_PASS = 4096;
    /** Shared read buffer size: large enough for bulk pipe reads, one per loop. */
    public static final int READ_BUFFER_SIZE = 128 * 1024;

    private static final Object SHARED_LOCK = new Object();
    private static SingleThreadEventLoop shared;
    private volatile boolean isShared;

    private final String name;
    /** The group this loop belongs to, or null: a group's loop closes with its group only. */
    private final String group;
    private final Selector selector;
    private final LoopThread thread;
    private final TaskQueue tasks;
    /** Loop thread: whether this select's batch of events already ran the queued tasks. */
    private boolean tasksRanThisBatch;
    private final AtomicInteger state = new AtomicInteger(OPEN);
    private final LoopTimers timers;
    private final LoopFuture<Void> termination = new LoopFuture<>();
    private final ByteBuffer readBuffer = ByteBuffer.allocateDirect(READ_BUFFER_SIZE);
    private final long readBufferAddress = Native.address(readBuffer);
    private final Consumer<SelectionKey> dispatch = this::dispatch;
    private final LoopRegistrations registrations;
    /** Set by the loop thread after its last pass over the task queue; read on the loop thread only. */
    private boolean lastDrainDone;
    /** How long the loop polls its selector before it blocks in it; 0: it blocks at once. See {@link #idleSpinNanos}. */
    private final long spinNanos;

    public SingleThreadEventLoop(String name, boolean daemon) {
        this(name, daemon, Thread::start);
    }

    /** A loop that polls its selector for {@code spinNanos} (from {@link #idleSpinNanos}) before it blocks. */
    public SingleThreadEventLoop(String name, boolean daemon, String group, long spinNanos) {
        this(name, daemon, group, spinNanos, Thread::start);
    }

    /**
     * {@code starter} starts the loop thread; tests pass one that fails, as {@link Thread#start()}
     * does when the system is out of threads (an OutOfMemoryError) or memory.
     */
    SingleThreadEventLoop(String name, boolean daemon, Consumer<Thread> starter) {
        this(name, daemon, null, starter);
    }

    /** A loop of the group named {@code group} (null: of none), started by {@code starter}. */
    SingleThreadEventLoop(String name, boolean daemon, String group, Consumer<Thread> starter) {
        this(name, daemon, group, 0, starter);
    }

    private SingleThreadEventLoop(String name, boolean daemon, String group, long spinNanos, Consumer<Thread> starter) {
        this.name = InvalidArgumentException.requireNonNull("name", name);
        this.group = group;
        // With one CPU the spin would only delay the thread (a child, a peer) whose work it waits for.
        this.spinNanos = Runtime.getRuntime().availableProcessors() > 1 ? spinNanos : 0;
        try {
            this.selector = Selectors.open();
        } catch (IOException e) {
            throw new DualPipeException("event loop '" + name + "': cannot open a selector", e);
        }
        this.tasks = new TaskQueue(name, selector);
        this.timers = new LoopTimers(this, tasks);
        this.registrations = new LoopRegistrations(this, selector);
        this.thread = new LoopThread(this::run, name, daemon);
        try {
            starter.accept(thread);
        } catch (Throwable t) {
            // No thread will ever run shutdown(), and nobody gets this loop to close: the selector's
            // fds (an epoll fd and an eventfd) are ours to close, or they leak for good.
            try {
                selector.close();
            } catch (IOException | RuntimeException e) {
                t.addSuppressed(e);
            }
            throw t;
        }
    }

    /**
     * {@code loop} as this class, which every loop the library makes is; a loop of another
     * implementation cannot serve the library's channels.
     */
    public static SingleThreadEventLoop of(EventLoop loop) {
        InvalidArgumentException.requireNonNull("loop", loop);
        if (!(loop instanceof SingleThreadEventLoop)) {
            throw new InvalidArgumentException("loop must come from EventLoop.create() or EventLoop.shared(), not "
                    + loop.getClass().getName());
        }
        return (SingleThreadEventLoop) loop;
    }

    /** The longest idle spin a loop accepts: past this, polling is a busy loop, not a bridge over a short wait. */
    public static final Duration MAX_IDLE_SPIN = Duration.ofMillis(10);

    /**
     * {@code idleSpin} checked and in nanoseconds: not null, not negative, at most {@link #MAX_IDLE_SPIN}.
     *
     * @throws InvalidArgumentException naming the value and the rule
     */
    public static long idleSpinNanos(Duration idleSpin) {
        InvalidArgumentException.requireNonNull("idleSpin", idleSpin);
        if (idleSpin.isNegative()) {
            throw new InvalidArgumentException("idleSpin < 0: " + idleSpin);
        }
        if (idleSpin.compareTo(MAX_IDLE_SPIN) > 0) {
            throw new InvalidArgumentException("idleSpin > " + MAX_IDLE_SPIN.toMillis() + " ms: " + idleSpin
                    + " (a longer spin is a busy loop; the selector's own wait costs no CPU)");
        }
        return idleSpin.toNanos();
    }

    /** The lazily started process-wide loop; it cannot be closed. */
    public static EventLoop shared() {
        synchronized (SHARED_LOCK) {
            if (shared == null) {
                shared = new SingleThreadEventLoop("dualpipe-shared", true);
                shared.isShared = true;
            }
            return shared;
        }
    }

    /** The loop's read buffer, for I/O code running on the loop thread only; its contents last until the next read. */
    public ByteBuffer readBuffer() {
        return readBuffer;
    }

    public long readBufferAddress() {
        return readBufferAddress;
    }

    /**
     * Calls {@code hook} on the loop thread when the loop closes, after the registered handlers.
     * Returns the hook's remover.
     */
    public Runnable onClose(Consumer<LoopClosedException> hook) {
        return registrations.onClose(hook);
    }

    /** Timers scheduled and neither run nor cancelled yet. Loop thread only (tests and diagnostics hop there). */
    public int pendingTimers() {
        return timers.size();
    }

    /** The loop's selector; register and change interest on the loop thread only. */
    Selector selector() {
        return selector;
    }

    public String name() {
        return name;
    }

    @Override
    public boolean inEventLoop() {
        return Thread.currentThread() == thread;
    }

    @Override
    public void execute(Runnable task) {
        InvalidArgumentException.requireNonNull("task", task);
        boolean onLoop = inEventLoop();
        if (onLoop ? lastDrainDone : state.get() != OPEN) {
            // On the loop thread, tasks are accepted while closing until the last drain: after it
            // (termination-future callbacks) nothing would ever run them.
            throw closed();
        }
        tasks.offer(task);
        if (!onLoop) {
            // The loop drains the queue once more after TERMINATED; a task that missed that drain is taken back.
            if (state.get() == TERMINATED && tasks.remove(task)) {
                throw closed();
            }
            tasks.wakeLoop();
        }
    }

    @Override
    public Timeout schedule(Runnable task, long delay, TimeUnit unit) {
        return timers.schedule(task, delay, unit);
    }

    void timerCancelled(TimerTask t) {
        timers.cancelled(t);
    }

    @Override
    public LoopFuture<SelectionKey> register(SelectableChannel channel, int ops, IoHandler handler) {
        return registrations.register(channel, ops, handler);
    }

    @Override
    public <T> LoopFuture<T> newFuture() {
        return new LoopFuture<>();
    }

    @Override
    public boolean isClosed() {
        return state.get() != OPEN;
    }

    @Override
    public void close() {
        if (isShared) {
            // Every user of the library in this JVM may have children, sockets or FIFOs on it.
            throw new InvalidArgumentException("the shared loop cannot be closed: other code in this JVM relies on it "
                    + "(it is a daemon and ends with the JVM); use EventLoop.create() for a loop of your own");
        }
        if (group != null) {
            // A group hands its loops out round-robin: one closed alone would fail every n-th
            // child or connection the group places from then on.
            throw new InvalidArgumentException("event loop '" + name + "' belongs to the group '" + group
                    + "' and closes with it: close the group");
        }
        beginClose();
        if (Thread.currentThread() instanceof LoopThread) {
            // This loop's own thread cannot wait for itself, and another loop's thread must not block
            // (two loops closing each other would deadlock): both use terminationFuture() instead.
            return;
        }
        awaitThread();
    }

    /** Starts closing without waiting: the loop thread shuts down on its next pass. Any thread. */
    void beginClose() {
        if (state.compareAndSet(OPEN, CLOSING)) {
            selector.wakeup();
        }
    }

    /** Waits for the loop thread to end; an interrupt is kept for the caller and does not cut the wait short. */
    void awaitThread() {
        boolean interrupted = false;
        while (thread.isAlive()) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public LoopFuture<Void> terminationFuture() {
        return LoopFutures.copyOf(termination); // a caller's cancel must not tell others the loop ended
    }

    /** True once the loop has shut down: its selector is closed and no task will run any more. */
    public boolean isTerminated() {
        return termination.isDone();
    }

    /** The error for work this loop refuses because it is closed (a fresh one per call). */
    LoopClosedException closed() {
        return new LoopClosedException("event loop '" + name + "' is closed");
    }

    // ---- the loop ----------------------------------------------------------------------------

    private void run() {
        try {
            while (state.get() == OPEN) {
                tasks.runTasks(MAX_TASKS_PER_PASS);
                timers.runDue();
                if (state.get() != OPEN) {
                    break;
                }
                long timeoutMs = selectTimeoutMs();
                if (Thread.interrupted()) {
                    // Nothing stops a loop but close(). Left set, the status would make every select
                    // return at once (AbstractSelector.begin wakes it) and the loop would spin.
                    LOG.get().debug("event loop '{}': cleared an interrupt of the loop thread", name);
                }
                if (timeoutMs != 0 && spinNanos > 0) {
                    if (spin()) {
                        continue; // events, a task, a due timer or close() came while spinning: serve them
                    }
                    timeoutMs = selectTimeoutMs(); // the spin took time: sleep until the next timer, not longer
                }
                if (timeoutMs != 0) {
                    // Re-check after publishing "asleep": a producer either sees it and wakes us, or we see its task.
                    if (!tasks.goingToSleep() || state.get() != OPEN) {
                        timeoutMs = 0;
                    }
                }
                tasksRanThisBatch = false;
                try {
                    if (timeoutMs == 0) {
                        selector.selectNow(dispatch);
                    } else {
                        selector.select(dispatch, timeoutMs < 0 ? 0 : timeoutMs);
                    }
                } catch (IOException e) {
                    LOG.get().error("event loop '{}': select failed", name, e);
                }
                tasks.awake();
            }
        } catch (Throwable t) {
            LOG.get().error("event loop '{}' stopped by an unexpected error", name, t);
        } finally {
            shutdown();
        }
    }

    /**
     * Polls the selector, dispatching what it finds, until something happens, the next timer is due
     * or the spin is over. {@return true when events were dispatched, a task was queued, a timer is
     * due or the loop is closing} The loop has not published "asleep", so a producer's task costs no
     * wakeup. Timers are added on the loop thread only (other threads' go through a task), so the next
     * deadline cannot move earlier during the spin without ending it.
     */
    private boolean spin() {
        long untilTimer = timers.nanosUntilNext();
        boolean timerEnds = untilTimer >= 0 && untilTimer <= spinNanos;
        long spin = timerEnds ? untilTimer : spinNanos;
        long start = System.nanoTime();
        try {
            do {
                tasksRanThisBatch = false;
                if (selector.selectNow(dispatch) > 0 || !tasks.isEmpty() || state.get() != OPEN) {
                    return true;
                }
                Thread.onSpinWait();
            } while (System.nanoTime() - start < spin);
        } catch (IOException e) {
            LOG.get().error("event loop '{}': select failed", name, e); // the blocking select that follows says if it lasts
            return false;
        }
        return timerEnds;
    }

    private void dispatch(SelectionKey key) {
        if (!tasksRanThisBatch) {
            tasksRanThisBatch = true;
            // Tasks queued before these events were seen run first. A consumer handed over by a
            // task (a listener, a conversation taking over a LineReader) must get the bytes that
            // arrive after the hand-over, not the consumer it replaces: otherwise a reply written
            // right after Conversation.over() could go to a readLine() pending before it.
            if (!tasks.isEmpty()) {
                tasks.runTasks(MAX_TASKS_PER_PASS);
                if (!key.isValid()) {
                    return;
                }
            }
        }
        IoHandler handler = (IoHandler) key.attachment();
        try {
            handler.ready(key.readyOps());
        } catch (Throwable t) {
            LoopRegistrations.handlerThrew(name, handler, t);
        }
    }

    /** -1: block; 0: poll; otherwise milliseconds until the next timer, rounded up. */
    private long selectTimeoutMs() {
        if (!tasks.isEmpty()) {
            return 0;
        }
        return timers.timeoutMs();
    }

    private void shutdown() {
        state.compareAndSet(OPEN, CLOSING);
        tasks.runTasks(Integer.MAX_VALUE);
        LoopClosedException cause = closed();
        registrations.closeAll(cause);
        tasks.runTasks(Integer.MAX_VALUE);
        timers.cancelAll();
        state.set(TERMINATED);
        tasks.runTasks(Integer.MAX_VALUE);
        lastDrainDone = true;
        try {
            selector.close();
        } catch (IOException e) {
            LOG.get().warn("event loop '{}': closing the selector failed", name, e);
        }
        termination.complete(null);
    }

    @Override
    public String toString() {
        return "EventLoop[" + name + (isClosed() ? ", closed" : "") + "]";
    }
}
