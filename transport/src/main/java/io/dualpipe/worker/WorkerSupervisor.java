package io.dualpipe.worker;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.pool.BreakerOpenException;
import io.dualpipe.process.ExitStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The workers of a {@link WorkerPool}: which are alive (by pid too), starting them
 * ({@link WorkerLife}), noticing their exits and closed pipes, killing one whose task timed out,
 * replacing the dead after a backoff while a crash loop opens a breaker ({@link WorkerBreaker}),
 * and stopping them all. Its {@link WorkerDispatcher} decides which worker runs which task; this
 * class tells it, through its {@code dispatch} callback, whenever the set of workers that can take
 * one changed. The pool's caller-side parts ({@link TaskIntake}, {@link EnvelopePost},
 * {@link PoolLifecycle}) use it directly.
 *
 * <p><b>Threading.</b> Loop thread only, except {@link #startFirst} (the pool's constructor,
 * before the loop adopts the workers; replacements start on the loop), and {@link #pids()},
 * {@link #byPid(long)}, {@link #notALiveWorker} and {@link #breakerRefusal()}, which read volatile
 * snapshots or the concurrent pid map on any thread.
 *
 * <p><b>Buffers.</b> It holds none: the workers' channels and stderr tails belong to their
 * {@link Slot}s.
 */
final class WorkerSupervisor {
    /** A worker whose pipes closed gets this long to exit by itself (and show its status) before SIGKILL. */
    private static final long PIPES_CLOSED_GRACE_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final Logger LOG = LoggerFactory.getLogger(WorkerPool.class);
    /** Dead workers remembered (for {@code shutdown()}'s statuses and "has exited" messages); older ones are forgotten. */
    private static final int DEAD_KEPT = 64;

    private final WorkerPool.Builder b;
    private final EventLoop loop;
    private final long parentPid;
    /** Every worker started, by pid (the oldest dead ones forgotten); concurrent: read by the callers of submitTo and sendTo. */
    private final Map<Long, Slot> byPid = new ConcurrentHashMap<>();
    private final List<Slot> slots = new ArrayList<>();
    private final WorkerBreaker breaker;
    private final WorkerLife life;
    /** The dispatcher's dispatch: runs whenever a worker came, went or freed up. */
    private final Runnable dispatch;
    private volatile List<Long> pids = List.of();
    private volatile int live;
    /** DIE sent or workers killed: no task may start, no worker is replaced. */
    private boolean stopped;
    /** Workers the user stopped with sendTo(pid, DIE): the pool keeps that many fewer. */
    private int retired;

    WorkerSupervisor(WorkerPool.Builder b, EventLoop loop, long parentPid, Runnable dispatch) {
        this.b = b;
        this.loop = loop;
        this.parentPid = parentPid;
        this.dispatch = dispatch;
        this.breaker = new WorkerBreaker(b, loop, this::reconcile);
        this.life = new WorkerLife(b, loop);
    }

    /**
     * Starts the pool's first {@code n} workers, makes their pids known before this returns and
     * hands the workers to the loop; if one cannot start, kills those already started and throws.
     */
    List<Slot> startFirst(int n) {
        List<Slot> started = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) {
                started.add(startWorker());
            }
        } catch (RuntimeException e) {
            started.forEach(s -> s.child.close());
            throw e;
        }
        publish(started); // the pids are known before start() returns
        loop.runOnLoop(() -> adopt(started));
        return started;
    }

    /** Starts a worker and wires its channel, stderr and exit; any thread (the constructor's, then the loop). */
    private Slot startWorker() {
        Slot s = life.start(this::workerExited, closed -> {
            closed.alive = false;
            if (!closed.dieSent && !closed.exit.isDone()) {
                // Its pipes closed unasked but it lives on: it will never answer, and shutdown()
                // would wait for its exit for good. Killed after a grace, as ChildPool's lost children.
                WorkerBreaker.schedule(loop, () -> {
                    if (!closed.exit.isDone()) {
                        closed.child.close();
                    }
                }, PIPES_CLOSED_GRACE_NANOS);
            }
            dispatch.run(); // waiting tasks go to the other workers, or fail if none is left
        });
        byPid.put((long) s.child.pid(), s);
        return s;
    }

    /** The first workers' pids, known to the callers before the loop adopts them. */
    private void publish(List<Slot> started) {
        List<Long> p = new ArrayList<>();
        started.forEach(s -> p.add((long) s.child.pid()));
        pids = List.copyOf(p);
        live = p.size();
    }

    private void adopt(List<Slot> started) {
        slots.addAll(started);
        updatePids();
    }

    List<Long> pids() {
        return pids;
    }

    /** The worker {@code pid}, alive or among the dead still remembered; null if none. */
    Slot byPid(long pid) {
        return byPid.get(pid);
    }

    /** What {@code method} fails with for {@code workerPid}, which {@link #byPid(long)} found as {@code known} (null: never a worker). */
    InvalidArgumentException notALiveWorker(String method, long workerPid, Slot known) {
        return new InvalidArgumentException(method + ": workerPid " + workerPid + (known == null
                ? " is not a worker of this pool, whose workers are " + pids
                : " has exited: only a live worker of this pool takes tasks and envelopes"));
    }

    /** Every worker started, in start order, the oldest dead ones forgotten. */
    List<Slot> slots() {
        return slots;
    }

    /** Non-null when the breaker is open and no worker is alive: what a new task fails with. */
    BreakerOpenException breakerRefusal() {
        return breaker.refusal(live);
    }

    /** True once DIE was sent or the workers were killed: no task may start, no worker is replaced. */
    boolean stopped() {
        return stopped;
    }

    void retire(Slot s) {
        if (!s.dieSent) {
            s.dieSent = true;
            retired++;
        }
    }

    /**
     * Non-null when the pool has workers, none of them alive, and none will be replaced: what the
     * queued tasks fail with (the open breaker's failure, if it is open).
     */
    RuntimeException noneLeft() {
        if (slots.stream().noneMatch(s -> s.alive) && !slots.isEmpty() && !replacementComing()) {
            BreakerOpenException open = breaker.open();
            return open != null ? open : new WorkerExitedException("every worker of the pool has exited", null);
        }
        return null;
    }

    /** True while a dead worker will be replaced: queued tasks wait for it rather than fail. */
    private boolean replacementComing() {
        return b.respawn && !stopped && breaker.open() == null && wanted() > 0;
    }

    private int wanted() {
        int n = b.workers - retired;
        return breaker.isHalfOpen() ? Math.min(1, n) : n;
    }

    /** A worker answered a task: a half-open breaker closes. */
    void succeeded() {
        breaker.succeeded();
    }

    /** See {@link WorkerLife#afterDeath}. */
    void afterDeath(Slot s, Consumer<Boolean> then) {
        life.afterDeath(s, then);
    }

    /** Kills {@code s}, whose task timed out, and starts its replacement. */
    void kill(Slot s) {
        s.killed = true;
        s.alive = false;
        updatePids();
        s.child.close(); // its other tasks fail (or are retried) as its channel closes
        reconcile();
    }

    private void workerExited(Slot s) {
        ExitStatus status = s.exit.isCompletedExceptionally() ? null : s.exit.join();
        s.alive = false;
        s.channel.close(); // its in-flight requests fail, completing their tasks
        if (status != null && !status.isSuccess() && !s.killed && !stopped) {
            LOG.warn("worker {} exited: {}", s.child.pid(), status);
        }
        if (!s.exitHandled) {
            s.exitHandled = true;
            if (!stopped && !s.dieSent && !s.killed && b.respawn && !loop.isClosed()) {
                crash(WorkerLife.exited(s, "exited unasked", null));
            }
            updatePids();
            forgetOldDead();
            reconcile();
        }
        dispatch.run();
    }

    private void crash(RuntimeException cause) {
        if (breaker.crash(cause)) {
            dispatch.run(); // with no worker alive, the queue fails now
        }
    }

    /** Starts workers until the pool has its size again, as the backoff and the breaker allow. */
    private void reconcile() {
        if (stopped || !b.respawn || loop.isClosed() || breaker.waiting() || breaker.isOpen()) {
            return;
        }
        int alive = 0;
        for (Slot s : slots) {
            if (s.alive && !s.dieSent) {
                alive++;
            }
        }
        while (alive < wanted() && !breaker.isOpen()) {
            if (!breaker.spawnNow()) {
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
        dispatch.run();
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


    /** Sends DIE to every live worker and completes {@code f} with every worker's exit status, in start order. */
    void die(LoopFuture<List<ExitStatus>> f, Runnable terminated) {
        stop();
        WorkerLife.die(slots, parentPid, f, terminated);
    }

    /** No task starts and no worker is replaced from now on. */
    private void stop() {
        stopped = true;
        breaker.stop();
    }

    void killAll() {
        stop();
        slots.forEach(s -> s.child.close());
    }
}
