package io.dualpipe.worker;

import io.dualpipe.core.ChannelClosedException;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.LoopClosedException;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.Timeout;
import io.dualpipe.core.line.LineReader;
import io.dualpipe.core.message.MessageChannel;
import io.dualpipe.pool.BreakerOpenException;
import io.dualpipe.pool.internal.CrashBreaker;
import io.dualpipe.process.ChildProcess;
import io.dualpipe.process.ExitStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * The loop-thread half of a {@link WorkerPool}: its workers, the queue, dispatch to the least busy
 * worker, task timeouts and retries, and supervision (a dead worker is replaced after a backoff,
 * and a crash loop opens a breaker). Every method runs on the pool's loop thread, except
 * {@link #breakerRefusal()} and the volatile pid list.
 */
final class WorkerDispatcher {
    private static final Logger LOG = LoggerFactory.getLogger(WorkerPool.class);
    /** Dead workers remembered (for {@code shutdown()}'s statuses and "has exited" messages); older ones are forgotten. */
    private static final int DEAD_KEPT = 64;

    private final WorkerPool.Builder b;
    private final EventLoop loop;
    private final long parentPid;
    private final AtomicInteger queued;
    private final AtomicInteger outstanding;
    private final Map<Long, Slot> byPid; // concurrent: read by the callers of submitTo and sendTo
    private final List<Slot> slots = new ArrayList<>();
    private final ArrayDeque<Task> queue = new ArrayDeque<>();
    private final List<LoopFuture<Void>> idleWaiters = new ArrayList<>();
    private final CrashBreaker breaker;
    private volatile List<Long> pids = List.of();
    private volatile BreakerOpenException breakerOpen;
    private volatile int live;
    private boolean dispatching;
    private boolean dispatchAgain;
    /** DIE sent or workers killed: no task may start, no worker is replaced. */
    boolean stopped;
    /** Workers the user stopped with sendTo(pid, DIE): the pool keeps that many fewer. */
    private int retired;
    private long nextSpawnAt = System.nanoTime();
    private Timeout spawnTimer;
    private Timeout breakerTimer;

    WorkerDispatcher(WorkerPool.Builder b, EventLoop loop, long parentPid, AtomicInteger queued, AtomicInteger outstanding,
                     Map<Long, Slot> byPid) {
        this.b = b;
        this.loop = loop;
        this.parentPid = parentPid;
        this.queued = queued;
        this.outstanding = outstanding;
        this.byPid = byPid;
        this.breaker = new CrashBreaker(b.breakerCrashes, b.breakerWindow, b.breakerOpenFor, b.backoffInitial, b.backoffMax);
    }

    /** Starts a worker and wires its channel, stderr and exit; any thread (the constructor's, then the loop). */
    Slot startWorker() {
        ChildProcess child = b.worker.get().loop(loop).start();
        Slot s = new Slot(child);
        try {
            s.channel = MessageChannel.builder(Worker.codecs())
                    .handle(EnvelopeCodec.TYPE, Envelope.class, (ctx, e) -> {
                        Consumer<Envelope> l = b.onMessage;
                        if (l != null) {
                            l.accept(e);
                        } else {
                            LOG.debug("worker {} sent {} with nobody listening", child.pid(), e.request());
                        }
                    })
                    .open(child.stdout(), child.stdin());
            try {
                LineReader err = child.errorLines();
                err.listen(line -> LOG.warn("worker {}: {}", child.pid(), line));
            } catch (InvalidArgumentException notAPipe) {
                // stderr goes where the builder said
            }
        } catch (RuntimeException e) {
            child.close();
            throw e;
        }
        child.onExit().whenComplete((status, error) -> onLoop(() -> workerExited(s, status)));
        s.channel.closeFuture().whenComplete((v, error) -> onLoop(() -> {
            s.alive = false;
            dispatch(); // waiting tasks go to the other workers, or fail if none is left
        }));
        byPid.put((long) child.pid(), s);
        return s;
    }

    private void onLoop(Runnable task) {
        try {
            loop.runOnLoop(task);
        } catch (LoopClosedException gone) {
            // closing the loop killed and reaped every worker
        }
    }

    /** The first workers' pids, known to the callers before the loop adopts them. */
    void publish(List<Slot> started) {
        List<Long> p = new ArrayList<>();
        started.forEach(s -> p.add((long) s.child.pid()));
        pids = List.copyOf(p);
        live = p.size();
    }

    void adopt(List<Slot> started) {
        slots.addAll(started);
        updatePids();
    }

    List<Long> pids() {
        return pids;
    }

    List<Slot> slots() {
        return slots;
    }

    /** Non-null when the breaker is open and no worker is alive: what a new task fails with. */
    BreakerOpenException breakerRefusal() {
        BreakerOpenException open = breakerOpen;
        return open != null && live == 0 ? new BreakerOpenException(open.getMessage(), open.getCause()) : null;
    }

    void add(Task t, Slot target) {
        (target == null ? queue : target.waiting).add(t);
        dispatch();
    }

    void retire(Slot s) {
        if (!s.dieSent) {
            s.dieSent = true;
            retired++;
        }
    }

    void whenIdle(LoopFuture<Void> f) {
        if (outstanding.get() == 0) {
            f.complete(null);
        } else {
            idleWaiters.add(f);
        }
    }

    /**
     * A task's request can fail inline (a channel that already failed but has not closed yet), and
     * its completion calls dispatch again: recursing there would take one stack level per queued
     * task, and a StackOverflowError swallowed by the future would lose tasks. So a nested call only
     * asks the running one to go round again.
     */
    void dispatch() {
        if (dispatching) {
            dispatchAgain = true;
            return;
        }
        dispatching = true;
        try {
            do {
                dispatchAgain = false;
                dispatchOnce();
            } while (dispatchAgain);
        } finally {
            dispatching = false;
        }
    }

    private void dispatchOnce() {
        for (Slot s : slots) {
            if (s.alive && !s.channel.isOpen()) {
                s.alive = false;
            }
            if (!s.alive) {
                failWaiting(s);
                continue;
            }
            // a worker's own tasks come before the pool's: they can go nowhere else
            while (!s.waiting.isEmpty() && s.inFlight < b.maxInFlight) {
                Task t = s.waiting.poll();
                queued.decrementAndGet();
                run(s, t);
            }
        }
        while (!queue.isEmpty()) {
            Slot best = null;
            for (Slot s : slots) {
                // A worker's pipes can close (it exited, its stdout ended) before its exit is reaped.
                if (s.alive && !s.channel.isOpen()) {
                    s.alive = false;
                }
                if (s.alive && s.inFlight < b.maxInFlight && (best == null || s.inFlight < best.inFlight)) {
                    best = s;
                }
            }
            if (best == null) {
                if (slots.stream().noneMatch(s -> s.alive) && !slots.isEmpty() && !replacementComing()) {
                    BreakerOpenException open = breakerOpen;
                    failQueued(open != null ? new BreakerOpenException(open.getMessage(), open.getCause())
                            : new WorkerExitedException("every worker of the pool has exited", null));
                }
                return;
            }
            Task t = queue.poll();
            queued.decrementAndGet();
            run(best, t);
        }
    }

    /** True while a dead worker will be replaced: queued tasks wait for it rather than fail. */
    private boolean replacementComing() {
        return b.respawn && !stopped && breakerOpen == null && wanted() > 0;
    }

    private int wanted() {
        int n = b.workers - retired;
        return breaker.state() == CrashBreaker.State.HALF_OPEN ? Math.min(1, n) : n;
    }

    private void run(Slot s, Task t) {
        s.inFlight++;
        int attempt = ++t.attempt;
        Duration timeout = t.options.timeout() != null ? t.options.timeout() : b.taskTimeout;
        if (timeout != null) {
            t.timer = schedule(() -> timedOut(s, t, attempt, timeout), timeout.toNanos());
        }
        s.channel.request(new Envelope(Envelope.DO, parentPid, s.child.pid(), t.data), Envelope.class).whenComplete((reply, e) -> {
            if (t.attempt != attempt) {
                return; // abandoned when it timed out: its place on the worker was given back then
            }
            t.cancelTimer();
            s.inFlight--;
            if (e == null && reply.is(Envelope.FINISHED)) {
                succeeded();
                t.future.complete(reply.data());
            } else if (e == null) {
                t.future.completeExceptionally(new UnexpectedReplyException("worker " + s.child.pid() + " answered a task with \""
                        + reply.request() + "\": a task's reply must be " + Envelope.FINISHED, reply));
            } else {
                Throwable cause = WorkerPool.unwrap(e);
                if (cause instanceof ChannelClosedException) {
                    s.alive = false; // gone: the tasks waiting for it alone fail in dispatch, none is sent to it
                    if (retry(t)) {
                        dispatch();
                        return;
                    }
                }
                t.future.completeExceptionally(cause instanceof ChannelClosedException && !(cause instanceof WorkerExitedException)
                        ? new WorkerExitedException("worker " + s.child.pid() + (s.killed ? " was killed (a task of it timed out)" : " went away")
                                + " before finishing its task", cause)
                        : cause);
            }
            taskDone();
            dispatch();
        });
    }

    /** Puts an idempotent task back at the head of the queue if it has a retry left. */
    private boolean retry(Task t) {
        if (t.retriesLeft <= 0 || t.pinned || stopped) {
            return false;
        }
        t.retriesLeft--;
        queued.incrementAndGet();
        queue.addFirst(t);
        return true;
    }

    private void timedOut(Slot s, Task t, int attempt, Duration timeout) {
        if (t.attempt != attempt || t.future.isDone()) {
            return;
        }
        t.attempt++; // abandons this attempt: its late completion is ignored
        t.timer = null;
        s.inFlight--;
        if (!retry(t)) {
            t.future.completeExceptionally(new TaskTimeoutException("no reply from worker " + s.child.pid() + " within " + timeout
                    + ": the worker is killed and replaced, so its late reply can never be taken for another task's"));
            taskDone();
        }
        kill(s);
        dispatch();
    }

    private void kill(Slot s) {
        s.killed = true;
        s.alive = false;
        updatePids();
        s.child.close(); // its other tasks fail (or are retried) as its channel closes
        reconcile();
    }

    void taskDone() {
        if (outstanding.decrementAndGet() == 0 && !idleWaiters.isEmpty()) {
            List<LoopFuture<Void>> waiters = new ArrayList<>(idleWaiters);
            idleWaiters.clear();
            waiters.forEach(w -> w.complete(null));
        }
    }

    private void workerExited(Slot s, ExitStatus status) {
        s.alive = false;
        s.channel.close(); // its in-flight requests fail, completing their tasks
        if (status != null && !status.isSuccess() && !s.killed && !stopped) {
            LOG.warn("worker {} exited: {}", s.child.pid(), status);
        }
        if (!s.exitHandled) {
            s.exitHandled = true;
            if (!stopped && !s.dieSent && !s.killed && b.respawn && !loop.isClosed()) {
                crash(new WorkerExitedException("worker " + s.child.pid() + " exited unasked: " + status, null));
            }
            updatePids();
            forgetOldDead();
            reconcile();
        }
        dispatch();
    }

    private void succeeded() {
        CrashBreaker.State before = breaker.state();
        breaker.onSuccess();
        if (before != breaker.state()) {
            LOG.info("workers answer again: breaker closed");
            reconcile();
        }
    }

    private void crash(RuntimeException cause) {
        long now = System.nanoTime();
        boolean opened = breaker.onCrash(now, cause);
        nextSpawnAt = now + breaker.backoffNanos();
        if (!opened) {
            return;
        }
        BreakerOpenException open = new BreakerOpenException("workers crashed " + breaker.recentCrashes() + " times within "
                + breaker.window() + ": the pool starts none for " + breaker.openFor()
                + " and fails tasks at once while no worker is alive; the last: " + cause.getMessage(), cause);
        breakerOpen = open;
        LOG.error("{}", open.getMessage());
        if (spawnTimer != null) {
            spawnTimer.cancel();
            spawnTimer = null;
        }
        breakerTimer = schedule(() -> {
            breakerTimer = null;
            breaker.halfOpen();
            breakerOpen = null;
            nextSpawnAt = System.nanoTime();
            reconcile();
        }, breaker.openFor().toNanos());
        dispatch(); // with no worker alive, the queue fails now
    }

    /** Starts workers until the pool has its size again, as the backoff and the breaker allow. */
    void reconcile() {
        if (stopped || !b.respawn || loop.isClosed() || spawnTimer != null || breaker.state() == CrashBreaker.State.OPEN) {
            return;
        }
        int alive = 0;
        for (Slot s : slots) {
            if (s.alive && !s.dieSent) {
                alive++;
            }
        }
        while (alive < wanted() && breaker.state() != CrashBreaker.State.OPEN) {
            long wait = nextSpawnAt - System.nanoTime();
            if (wait > 0) {
                spawnTimer = schedule(() -> {
                    spawnTimer = null;
                    reconcile();
                }, wait);
                return;
            }
            try {
                slots.add(startWorker());
                alive++;
            } catch (RuntimeException e) {
                crash(e);
            }
        }
        updatePids();
        dispatch();
    }

    private void forgetOldDead() {
        int dead = 0;
        for (Slot s : slots) {
            if (!s.alive) {
                dead++;
            }
        }
        for (int i = 0; i < slots.size() && dead > DEAD_KEPT; i++) {
            Slot s = slots.get(i);
            if (!s.alive && s.waiting.isEmpty() && s.inFlight == 0) {
                slots.remove(i--);
                byPid.remove((long) s.child.pid());
                dead--;
            }
        }
    }

    private void updatePids() {
        List<Long> p = new ArrayList<>();
        for (Slot s : slots) {
            if (s.alive) {
                p.add((long) s.child.pid());
            }
        }
        pids = List.copyOf(p);
        live = p.size();
    }

    private Timeout schedule(Runnable task, long nanos) {
        try {
            return loop.schedule(task, nanos, TimeUnit.NANOSECONDS);
        } catch (LoopClosedException closing) {
            return null;
        }
    }

    /** Sends DIE to every live worker and completes {@code f} with every worker's exit status, in start order. */
    void die(LoopFuture<List<ExitStatus>> f, Runnable terminated) {
        stop();
        List<CompletableFuture<ExitStatus>> exits = new ArrayList<>();
        try {
            for (Slot s : slots) {
                if (s.alive) {
                    s.channel.send(new Envelope(Envelope.DIE, parentPid, s.child.pid(), null));
                }
                exits.add(s.child.onExit());
            }
        } catch (RuntimeException e) {
            // Run from a future's stage when tasks were outstanding, where a throw would vanish
            // and leave shutdown() pending for good.
            f.completeExceptionally(e);
            return;
        }
        CompletableFuture.allOf(exits.toArray(new CompletableFuture<?>[0])).whenComplete((v, e) -> {
            terminated.run();
            if (e != null) {
                f.completeExceptionally(e);
                return;
            }
            List<ExitStatus> out = new ArrayList<>();
            exits.forEach(x -> out.add(x.join()));
            f.complete(out);
        });
    }

    /** No task starts and no worker is replaced from now on. */
    void stop() {
        stopped = true;
        for (Timeout t : new Timeout[] {spawnTimer, breakerTimer}) {
            if (t != null) {
                t.cancel();
            }
        }
        spawnTimer = null;
        breakerTimer = null;
    }

    void killAll() {
        stop();
        slots.forEach(s -> s.child.close());
    }

    private void failWaiting(Slot s) {
        while (!s.waiting.isEmpty()) {
            Task t = s.waiting.poll();
            queued.decrementAndGet();
            t.cancelTimer();
            t.future.completeExceptionally(new WorkerExitedException("worker " + s.child.pid()
                    + " exited before it took the task submitted to it", null));
            taskDone();
        }
    }

    private void failQueued(RuntimeException cause) {
        while (!queue.isEmpty()) {
            Task t = queue.poll();
            queued.decrementAndGet();
            t.cancelTimer();
            t.future.completeExceptionally(cause);
            taskDone();
        }
    }
}
