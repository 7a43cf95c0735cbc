package io.dualpipe.pool.internal;

import io.dualpipe.core.ConsumerConflictException;
import io.dualpipe.core.DualPipeException;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.LoopClosedException;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.Timeout;
import io.dualpipe.core.codec.DecodeException;
import io.dualpipe.core.internal.LoopFutures;
import io.dualpipe.core.codec.EncodeException;
import io.dualpipe.core.line.LineTooLongException;
import io.dualpipe.core.message.RemoteException;
import io.dualpipe.core.message.ReplyTypeException;
import io.dualpipe.pool.BreakerOpenException;
import io.dualpipe.pool.ChildLostException;
import io.dualpipe.pool.Exchange;
import io.dualpipe.pool.FailureCause;
import io.dualpipe.pool.PoolMetrics;
import io.dualpipe.pool.PoolRequestTimeoutException;
import io.dualpipe.process.ChildProcess;
import io.dualpipe.process.ChildProcessBuilder;
import io.dualpipe.process.internal.PosixChildProcess;
import io.dualpipe.process.internal.StderrTail;
import io.dualpipe.worker.PoolSaturatedException;
import io.dualpipe.worker.PoolShutdownException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.Predicate;

/**
 * The machinery behind {@link io.dualpipe.pool.ChildPool}: queue, dispatch, timeouts, supervision
 * and shutdown. Every field without an atomic or volatile type belongs to the loop thread; the
 * public entry points ({@link #submit}, {@link #submitWhenRoom}, {@link #shutdown}, {@link #close})
 * check what they can on the caller's thread and hand the rest to the loop.
 */
public final class PoolCore<Q, R> {
    private static final Logger LOG = LoggerFactory.getLogger(PoolCore.class);
    /** A child whose stdout ended gets this long to exit by itself (and show its status) before SIGKILL. */
    private static final long LOST_GRACE_NANOS = TimeUnit.MILLISECONDS.toNanos(200);
    /** After a child exits, how long its last stderr bytes may take to be read before its requests fail. */
    private static final long STDERR_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(200);

    /** Everything the builder collected. */
    public record Settings<Q, R>(ChildProcessBuilder child, Exchange<Q, R> exchange, int children, int maxInFlightPerChild,
                                 int maxQueued, Duration requestTimeout, Duration queueTimeout, Duration backoffInitial,
                                 Duration backoffMax, int breakerCrashes, Duration breakerWindow, Duration breakerOpenFor,
                                 long recycleAfterRequests, Duration recycleAfterAge, Q warmUpRequest,
                                 Predicate<? super R> warmUpCheck, Duration warmUpTimeout, Duration stopGrace, int stderrTailBytes,
                                 Executor executor) {
    }

    /** Forward only; {@link #moveTo} never goes back. */
    private enum PoolState { RUNNING, DRAINING, STOPPING, CLOSED }

    private record RoomWaiter<Q, R>(Q request, LoopFuture<LoopFuture<R>> outer) {
    }

    private final Settings<Q, R> s;
    private final EventLoop loop;
    private final CrashBreaker breaker;
    private final String program;
    private final List<Member<Q, R>> members = new ArrayList<>();
    private final ArrayDeque<Call<Q, R>> queue = new ArrayDeque<>();
    private final ArrayDeque<RoomWaiter<Q, R>> roomWaiters = new ArrayDeque<>();
    /** Requests queued or on their way to the queue: the bound {@code submit} checks on the caller's thread. */
    private final AtomicInteger queued = new AtomicInteger();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicLong spawned = new AtomicLong();
    private final AtomicLong restarts = new AtomicLong();
    private final AtomicLong recycled = new AtomicLong();
    private final AtomicLong completed = new AtomicLong();
    private final AtomicLongArray failed = new AtomicLongArray(FailureCause.values().length);
    private volatile int alive;
    private volatile int ready;
    private volatile List<Long> pids = List.of();
    private volatile PoolState state = PoolState.RUNNING;
    /** Non-null while the breaker is open: what requests fail with when no child is ready. */
    private volatile BreakerOpenException breakerOpen;
    private volatile CrashBreaker.State breakerState = CrashBreaker.State.CLOSED;
    private long nextSpawnAt = System.nanoTime();
    private Timeout spawnTimer;
    private Timeout breakerTimer;
    private Timeout deadlineTimer;
    private boolean dispatching;
    private boolean dispatchAgain;
    private int rotor;
    private final LoopFuture<Void> terminated = new LoopFuture<>();

    public PoolCore(Settings<Q, R> settings) {
        this.s = settings;
        this.loop = settings.child().loop();
        this.program = settings.child().command().get(0);
        this.breaker = new CrashBreaker(settings.breakerCrashes(), settings.breakerWindow(), settings.breakerOpenFor(),
                settings.backoffInitial(), settings.backoffMax());
        // The first children start here so that a program that cannot start fails the caller at once.
        List<ChildProcess> started = new ArrayList<>();
        try {
            for (int i = 0; i < settings.children(); i++) {
                started.add(settings.child().start());
                spawned.incrementAndGet();
            }
        } catch (RuntimeException e) {
            started.forEach(ChildProcess::close);
            throw e;
        }
        List<Long> p = new ArrayList<>();
        started.forEach(c -> p.add((long) c.pid()));
        pids = List.copyOf(p);
        alive = p.size();
        loop.runOnLoop(() -> {
            started.forEach(this::adopt);
            updateCounts();
        });
        loop.terminationFuture().whenComplete((v, e) -> loopEnded());
    }

    public EventLoop loop() {
        return loop;
    }

    // ---- any thread ----

    public LoopFuture<R> submit(Q request) {
        InvalidArgumentException.requireNonNull("request", request);
        LoopFuture<R> f = new LoopFuture<>();
        DualPipeException refused = refusal("submit");
        if (refused != null) {
            return refuse(f, refused);
        }
        if (queued.incrementAndGet() > s.maxQueued()) {
            queued.decrementAndGet();
            return refuse(f, saturated());
        }
        enter(new Call<>(request, f));
        return f;
    }

    public LoopFuture<LoopFuture<R>> submitWhenRoom(Q request) {
        InvalidArgumentException.requireNonNull("request", request);
        LoopFuture<LoopFuture<R>> outer = new LoopFuture<>();
        DualPipeException refused = refusal("submitWhenRoom");
        if (refused != null) {
            return refuse(outer, refused);
        }
        if (queued.incrementAndGet() <= s.maxQueued()) {
            LoopFuture<R> f = new LoopFuture<>();
            enter(new Call<>(request, f));
            outer.complete(f);
            return outer;
        }
        queued.decrementAndGet();
        try {
            loop.runOnLoop(() -> {
                DualPipeException late = refusal("submitWhenRoom");
                if (late != null) {
                    count(late);
                    deliver(outer, null, late);
                } else if (roomWaiters.size() >= s.maxQueued()) {
                    PoolSaturatedException e = new PoolSaturatedException("submitWhenRoom: maxQueued " + s.maxQueued()
                            + " requests already wait for a child and as many producers wait for room");
                    count(e);
                    deliver(outer, null, e);
                } else {
                    roomWaiters.add(new RoomWaiter<>(request, outer));
                    dispatch();
                }
            });
        } catch (LoopClosedException e) {
            outer.completeExceptionally(e);
        }
        return outer;
    }

    public PoolMetrics metrics() {
        Map<FailureCause, Long> byCause = new EnumMap<>(FailureCause.class);
        long total = 0;
        for (FailureCause c : FailureCause.values()) {
            long n = failed.get(c.ordinal());
            byCause.put(c, n);
            total += n;
        }
        return new PoolMetrics(alive, ready, spawned.get(), restarts.get(), recycled.get(), inFlight.get(),
                Math.max(0, queued.get()), completed.get(), total, byCause, breakerState.name());
    }

    public List<Long> childPids() {
        return pids;
    }

    public LoopFuture<Void> shutdown(Duration deadline) {
        InvalidArgumentException.requireNonNull("deadline", deadline);
        if (deadline.isNegative()) {
            throw new InvalidArgumentException("deadline < 0: " + deadline);
        }
        if (!moveTo(PoolState.DRAINING)) {
            return terminationFuture();
        }
        onLoop(() -> {
            failRoomWaiters(new PoolShutdownException("submitWhenRoom: the pool began draining before room came"));
            deadlineTimer = schedule(() -> abort("the drain deadline of " + deadline + " passed"),
                    Math.max(1, deadline.toNanos()), TimeUnit.NANOSECONDS);
            checkDrained();
        });
        return terminationFuture();
    }

    public void close() {
        if (!moveTo(PoolState.CLOSED)) {
            return;
        }
        onLoop(() -> {
            cancelPoolTimers();
            PoolShutdownException e = new PoolShutdownException("the pool was closed before this request was answered");
            failQueued(e, FailureCause.SHUTDOWN);
            failRoomWaiters(e);
            for (Member<Q, R> m : new ArrayList<>(members)) {
                failInFlight(m, e, FailureCause.SHUTDOWN);
                m.killed = true;
                m.child.close();
            }
            checkTerminated();
        });
    }

    /** A fresh copy per call: a caller's cancel or orTimeout must not change what the pool and other callers see. */
    public LoopFuture<Void> terminationFuture() {
        return LoopFutures.copyOf(terminated);
    }

    private DualPipeException refusal(String method) {
        PoolState st = state;
        if (st != PoolState.RUNNING) {
            return new PoolShutdownException(method + " refused: the pool is " + st.name().toLowerCase()
                    + ": it takes no new requests once shutdown() or close() has been called");
        }
        return breakerRefusal();
    }

    private DualPipeException breakerRefusal() {
        BreakerOpenException b = breakerOpen;
        if (b != null && ready == 0) {
            return new BreakerOpenException(b.getMessage(), b.getCause());
        }
        return null;
    }

    private PoolSaturatedException saturated() {
        return new PoolSaturatedException("maxQueued " + s.maxQueued() + " requests already wait for a child of '" + program + "'");
    }

    private <T> LoopFuture<T> refuse(LoopFuture<T> f, DualPipeException e) {
        count(e);
        f.completeExceptionally(e);
        return f;
    }

    private void count(Throwable e) {
        failed.incrementAndGet(causeOf(e).ordinal());
    }

    private static FailureCause causeOf(Throwable e) {
        if (e instanceof PoolRequestTimeoutException t) {
            return t.failureCause();
        } else if (e instanceof ChildLostException) {
            return FailureCause.CHILD_LOST;
        } else if (e instanceof BreakerOpenException) {
            return FailureCause.BREAKER_OPEN;
        } else if (e instanceof PoolSaturatedException) {
            return FailureCause.SATURATED;
        } else if (e instanceof PoolShutdownException || e instanceof LoopClosedException) {
            return FailureCause.SHUTDOWN;
        }
        return FailureCause.REQUEST;
    }

    private void enter(Call<Q, R> c) {
        try {
            loop.runOnLoop(() -> accept(c, true));
        } catch (LoopClosedException e) {
            queued.decrementAndGet();
            refuse(c.future, e);
        }
    }

    private synchronized boolean moveTo(PoolState next) {
        if (next.ordinal() <= state.ordinal()) {
            return false;
        }
        state = next;
        return true;
    }

    /** Runs {@code task} on the loop; when the loop has closed, what it served is gone already. */
    private void onLoop(Runnable task) {
        try {
            loop.runOnLoop(task);
        } catch (LoopClosedException gone) {
            loopEnded();
        }
    }

    /** A timer on the loop; none once the loop is closing (it then kills the children and {@link #loopEnded} fails the rest). */
    private Timeout schedule(Runnable task, long delay, TimeUnit unit) {
        try {
            return loop.schedule(task, delay, unit);
        } catch (LoopClosedException closing) {
            return NO_TIMER;
        }
    }

    private static final Timeout NO_TIMER = new Timeout() {
        @Override
        public boolean cancel() {
            return false;
        }

        @Override
        public boolean isDone() {
            return true;
        }
    };

    private <T> void deliver(LoopFuture<T> f, T value, Throwable error) {
        Executor ex = s.executor();
        Runnable complete = () -> {
            if (error == null) {
                f.complete(value);
            } else {
                f.completeExceptionally(error);
            }
        };
        if (ex == null) {
            complete.run();
            return;
        }
        try {
            ex.execute(complete);
        } catch (RejectedExecutionException e) {
            complete.run();
        }
    }

    // ---- loop thread: requests ----

    private void accept(Call<Q, R> c, boolean dispatchNow) {
        // It passed the caller's check while the pool ran: a drain begun since then still takes it.
        DualPipeException refused = state.ordinal() >= PoolState.STOPPING.ordinal() ? refusal("submit") : breakerRefusal();
        if (refused != null) {
            queued.decrementAndGet();
            count(refused);
            deliver(c.future, null, refused);
            return;
        }
        c.timer = schedule(() -> queueTimedOut(c), s.queueTimeout().toNanos(), TimeUnit.NANOSECONDS);
        queue.add(c);
        if (dispatchNow) {
            dispatch();
        }
    }

    /**
     * Hands queued requests to children and admits producers waiting for room. A request can fail
     * inline and call back here; the nested call only asks the running one to go round again, so
     * the stack does not grow with the queue.
     */
    private void dispatch() {
        if (dispatching) {
            dispatchAgain = true;
            return;
        }
        dispatching = true;
        try {
            do {
                dispatchAgain = false;
                dispatchOnce();
                admitRoomWaiters();
            } while (dispatchAgain);
        } finally {
            dispatching = false;
        }
    }

    private void dispatchOnce() {
        while (!queue.isEmpty()) {
            Member<Q, R> m = leastBusy();
            if (m == null) {
                return;
            }
            Call<Q, R> c = queue.poll();
            queued.decrementAndGet();
            c.cancelTimer();
            send(m, c);
        }
    }

    private void admitRoomWaiters() {
        while (!roomWaiters.isEmpty()) {
            if (queued.incrementAndGet() > s.maxQueued()) {
                queued.decrementAndGet();
                return;
            }
            RoomWaiter<Q, R> w = roomWaiters.poll();
            LoopFuture<R> f = new LoopFuture<>();
            accept(new Call<>(w.request(), f), false);
            deliver(w.outer(), f, null);
            dispatchAgain = true;
        }
    }

    /** The eligible child with the fewest requests; ties go round, so work spreads. */
    private Member<Q, R> leastBusy() {
        Member<Q, R> best = null;
        int n = members.size();
        for (int i = 0; i < n; i++) {
            Member<Q, R> m = members.get((rotor + i) % n);
            if (m.eligible(s.maxInFlightPerChild(), s.recycleAfterRequests())
                    && (best == null || m.inFlight.size() < best.inFlight.size())) {
                best = m;
            }
        }
        rotor++;
        return best;
    }

    private void send(Member<Q, R> m, Call<Q, R> c) {
        c.member = m;
        m.inFlight.add(c);
        inFlight.incrementAndGet();
        m.served++;
        c.timer = schedule(() -> timedOut(c), s.requestTimeout().toNanos(), TimeUnit.NANOSECONDS);
        if (s.recycleAfterRequests() > 0 && m.served >= s.recycleAfterRequests() && !m.retiring) {
            m.retiring = true;
            recycled.incrementAndGet();
            m.draining = true; // no more work: its replacement starts now, and it stops once this call is answered
            updateCounts();
            reconcile();
        }
        LoopFuture<R> reply;
        try {
            reply = m.session.request(c.request);
        } catch (RuntimeException e) {
            reply = LoopFuture.failed(e);
        }
        reply.whenComplete((v, e) -> {
            if (loop.inEventLoop()) {
                replied(m, c, v, e);
            } else {
                onLoop(() -> replied(m, c, v, e));
            }
        });
    }

    private void replied(Member<Q, R> m, Call<Q, R> c, R value, Throwable error) {
        if (!c.done) {
            if (error == null) {
                succeeded();
                finish(c, value, null);
            } else {
                Throwable cause = unwrap(error);
                if (requestScoped(cause)) {
                    finish(c, null, cause);
                } else {
                    // The session broke: never trust it again. Its requests fail when the child is reaped.
                    lose(m);
                }
            }
        }
        afterWork(m);
        dispatch();
    }

    /**
     * Failures of one request that leave the exchange in step: the child answered with an error, a
     * reply could not be decoded, a request could not be encoded or was refused as an argument.
     * Anything else may have desynchronised the exchange, so the child is given up.
     */
    private static boolean requestScoped(Throwable e) {
        return e instanceof RemoteException || e instanceof DecodeException || e instanceof EncodeException
                || e instanceof ReplyTypeException || e instanceof LineTooLongException || e instanceof InvalidArgumentException;
    }

    private void queueTimedOut(Call<Q, R> c) {
        if (c.done || c.member != null || !queue.remove(c)) {
            return;
        }
        queued.decrementAndGet();
        finish(c, null, new PoolRequestTimeoutException("request " + c.describe() + " waited " + s.queueTimeout()
                + " in the queue and no child of '" + program + "' took it (" + ready + " ready of " + alive
                + ", breaker " + breakerState + ")", FailureCause.QUEUE_TIMEOUT));
        dispatch();
    }

    private void timedOut(Call<Q, R> c) {
        if (c.done) {
            return;
        }
        Member<Q, R> m = c.member;
        finish(c, null, new PoolRequestTimeoutException("no reply to request " + c.describe() + " from child pid " + m.pid
                + " of '" + program + "' within " + s.requestTimeout() + ": the child is killed and replaced, so no later"
                + " reply of it can be taken for another request's", FailureCause.TIMEOUT));
        kill(m, "its request " + c.describe() + " got no reply within " + s.requestTimeout(), true);
    }

    private void finish(Call<Q, R> c, R value, Throwable error) {
        if (c.done) {
            return;
        }
        c.done = true;
        c.cancelTimer();
        if (c.member != null) {
            c.member.inFlight.remove(c);
            inFlight.decrementAndGet();
        }
        if (error == null) {
            completed.incrementAndGet();
        } else {
            count(error);
        }
        deliver(c.future, value, error);
        checkDrained();
    }

    private void afterWork(Member<Q, R> m) {
        if (m.draining && m.inFlight.isEmpty() && !m.stopping && !m.lost) {
            stop(m);
        }
    }

    private void succeeded() {
        CrashBreaker.State before = breaker.state();
        breaker.onSuccess();
        if (before != breaker.state()) {
            breakerState = breaker.state();
            LOG.info("children of '{}' answer again: breaker closed", program);
            reconcile();
        }
    }

    // ---- loop thread: children ----

    private void adopt(ChildProcess child) {
        StderrTail tail;
        try {
            // A TAIL child (the builder's default) reads its own stderr: share that tail.
            StderrTail own = child instanceof PosixChildProcess p ? p.tailBuffer() : null;
            tail = own != null ? own.view(s.stderrTailBytes()) : StderrTail.reading(child.stderr(), s.stderrTailBytes());
        } catch (InvalidArgumentException | ConsumerConflictException notOurs) {
            tail = StderrTail.reading(null, s.stderrTailBytes()); // stderr goes where the builder said
        }
        Member<Q, R> m = new Member<>(child, tail, System.nanoTime());
        members.add(m);
        child.onExit().whenComplete((status, e) -> onLoop(() -> exited(m, status)));
        try {
            m.session = s.exchange().open(child);
        } catch (RuntimeException e) {
            crashed(m, "the exchange could not open on it: " + e, e);
            return;
        }
        if (s.warmUpRequest() != null) {
            warmUp(m);
        } else {
            becomeReady(m);
        }
        updateCounts();
    }

    private void warmUp(Member<Q, R> m) {
        Timeout timer = schedule(() -> crashed(m, "no reply to the warm-up request '" + s.warmUpRequest() + "' within "
                + s.warmUpTimeout(), null), s.warmUpTimeout().toNanos(), TimeUnit.NANOSECONDS);
        LoopFuture<R> reply;
        try {
            reply = m.session.request(s.warmUpRequest());
        } catch (RuntimeException e) {
            reply = LoopFuture.failed(e);
        }
        reply.whenComplete((v, e) -> onLoop(() -> {
            timer.cancel();
            if (m.killed || m.lost || m.ready) {
                return;
            }
            if (e != null) {
                crashed(m, "its warm-up request '" + s.warmUpRequest() + "' failed: " + unwrap(e), unwrap(e));
                return;
            }
            boolean ok;
            try {
                ok = s.warmUpCheck().test(v);
            } catch (RuntimeException refused) {
                ok = false;
            }
            if (!ok) {
                crashed(m, "its reply to the warm-up request '" + s.warmUpRequest() + "' was refused: '" + v + "'", null);
                return;
            }
            succeeded();
            becomeReady(m);
        }));
    }

    private void becomeReady(Member<Q, R> m) {
        if (m.killed || m.lost || state.ordinal() >= PoolState.STOPPING.ordinal()) {
            return;
        }
        m.ready = true;
        if (s.recycleAfterAge() != null) {
            // counted from here: a child retired before it ever served would only churn
            m.ageTimer = schedule(() -> retire(m), s.recycleAfterAge().toNanos(), TimeUnit.NANOSECONDS);
        }
        // capacity held: a child waiting for its replacement may go now
        for (Member<Q, R> old : members) {
            if (old != m && old.retiring && !old.draining) {
                old.draining = true;
                afterWork(old);
                break;
            }
        }
        updateCounts();
        dispatch();
    }

    private void retire(Member<Q, R> m) {
        if (!m.active()) {
            return;
        }
        m.retiring = true;
        recycled.incrementAndGet();
        reconcile(); // its replacement; it keeps serving until that one is ready
    }

    /** The pool gives the child up (a failed warm-up, a broken exchange): a crash, counted by the breaker. */
    private void crashed(Member<Q, R> m, String why, Throwable cause) {
        if (m.killed || m.lost) {
            return;
        }
        crash(new ChildLostException("child pid " + m.pid + " of '" + program + "' was given up: " + why + m.stderr.describe(),
                cause, m.pid, null, m.stderr.text()));
        kill(m, why, true);
    }

    /** Kills {@code m} now: its requests fail at once, and a replacement starts. */
    private void kill(Member<Q, R> m, String why, boolean restart) {
        if (m.killed || m.buried) {
            return;
        }
        m.killed = true;
        if (restart && !m.lost) {
            restarts.incrementAndGet();
        }
        failInFlight(m, new ChildLostException("child pid " + m.pid + " of '" + program + "' was killed because " + why
                + ", with this request in flight on it" + m.stderr.describe(), null, m.pid, null, m.stderr.text()),
                FailureCause.CHILD_LOST);
        m.child.close();
        updateCounts();
        reconcile();
        dispatch();
    }

    /** {@code m} will not answer again (its stdout ended, its exchange broke, it exited). */
    private void lose(Member<Q, R> m) {
        if (m.lost) {
            return;
        }
        m.lost = true;
        if (!m.endExpected() && state.ordinal() < PoolState.STOPPING.ordinal()) {
            m.crashed = true;
            restarts.incrementAndGet();
        }
        updateCounts();
        if (m.child.isAlive() && m.killTimer == null) {
            m.killTimer = schedule(m.child::close, LOST_GRACE_NANOS, TimeUnit.NANOSECONDS);
        }
        if (!m.crashed) {
            reconcile(); // a crash's replacement waits for the breaker, which hears of it when the child is reaped
        }
    }

    private void exited(Member<Q, R> m, io.dualpipe.process.ExitStatus status) {
        m.exit = status;
        lose(m);
        Timeout t = schedule(() -> bury(m), STDERR_WAIT_NANOS, TimeUnit.NANOSECONDS);
        m.stderr.ended().whenComplete((v, e) -> onLoop(() -> {
            t.cancel();
            bury(m);
        }));
    }

    /** Reaped and its stderr read: its requests fail with what is known, and it leaves the pool. */
    private void bury(Member<Q, R> m) {
        if (m.buried) {
            return;
        }
        m.buried = true;
        m.cancelTimers();
        String tail = m.stderr.text();
        String what = m.crashed ? "exited unasked (" + m.exit + ")" : m.killed ? "was killed (" + m.exit + ")" : "exited (" + m.exit + ")";
        ChildLostException lost = new ChildLostException("child pid " + m.pid + " of '" + program + "' " + what
                + " before it answered this request" + m.stderr.describe(), null, m.pid, m.exit, tail);
        failInFlight(m, lost, FailureCause.CHILD_LOST);
        if (m.crashed) {
            crash(new ChildLostException("child pid " + m.pid + " of '" + program + "' " + what + m.stderr.describe(),
                    null, m.pid, m.exit, tail));
        }
        members.remove(m);
        if (m.session != null) {
            try {
                m.session.close();
            } catch (RuntimeException e) {
                LOG.debug("closing the exchange of {}", m, e);
            }
        }
        m.child.close();
        updateCounts();
        reconcile();
        dispatch();
        checkDrained();
        checkTerminated();
    }

    private void failInFlight(Member<Q, R> m, Throwable e, FailureCause cause) {
        for (Call<Q, R> c : new ArrayList<>(m.inFlight)) {
            finish(c, null, e);
        }
    }

    private void crash(ChildLostException cause) {
        if (loop.isClosed()) {
            return;
        }
        long now = System.nanoTime();
        boolean opened = breaker.onCrash(now, cause);
        nextSpawnAt = now + breaker.backoffNanos();
        breakerState = breaker.state();
        if (opened) {
            openBreaker(cause);
        } else {
            LOG.warn("{}; restarting in {} ms", cause.getMessage(), TimeUnit.NANOSECONDS.toMillis(breaker.backoffNanos()));
        }
    }

    private void crash(RuntimeException spawnFailure) {
        crash(new ChildLostException("a child of '" + program + "' could not start: " + spawnFailure.getMessage(),
                spawnFailure, -1, null, ""));
    }

    private void openBreaker(Throwable cause) {
        BreakerOpenException b = new BreakerOpenException("children of '" + program + "' crashed " + breaker.recentCrashes()
                + " times within " + breaker.window() + ": the pool starts none for " + breaker.openFor()
                + " and fails requests at once meanwhile; the last: " + cause.getMessage(), cause);
        breakerOpen = b;
        LOG.error("{}", b.getMessage());
        if (ready == 0) {
            failQueued(b, FailureCause.BREAKER_OPEN);
            failRoomWaiters(b);
        }
        if (spawnTimer != null) {
            spawnTimer.cancel();
            spawnTimer = null;
        }
        breakerTimer = schedule(() -> {
            breakerTimer = null;
            breaker.halfOpen();
            breakerState = breaker.state();
            breakerOpen = null;
            nextSpawnAt = System.nanoTime();
            reconcile();
        }, breaker.openFor().toNanos(), TimeUnit.NANOSECONDS);
    }

    /** Starts children until the pool has its size again, as the backoff and the breaker allow. */
    private void reconcile() {
        if (loop.isClosed()) {
            return; // closing the loop kills and reaps the children: nothing to replace
        }
        PoolState st = state;
        if (st == PoolState.STOPPING || st == PoolState.CLOSED || (st == PoolState.DRAINING && queue.isEmpty())) {
            return;
        }
        if (breaker.state() == CrashBreaker.State.OPEN || spawnTimer != null) {
            return;
        }
        int active = 0;
        for (Member<Q, R> m : members) {
            if (m.active()) {
                active++;
            }
        }
        int want = breaker.state() == CrashBreaker.State.HALF_OPEN ? 1 : s.children();
        while (active < want && breaker.state() != CrashBreaker.State.OPEN) {
            long wait = nextSpawnAt - System.nanoTime();
            if (wait > 0) {
                spawnTimer = schedule(() -> {
                    spawnTimer = null;
                    reconcile();
                }, wait, TimeUnit.NANOSECONDS);
                return;
            }
            spawned.incrementAndGet();
            ChildProcess child;
            try {
                child = s.child().start();
            } catch (RuntimeException e) {
                crash(e);
                continue;
            }
            adopt(child);
            active++;
        }
    }

    private void stop(Member<Q, R> m) {
        if (m.stopping || m.buried) {
            return;
        }
        m.stopping = true;
        updateCounts();
        try {
            m.child.stdin().shutdownOutput();
        } catch (RuntimeException notAPipe) {
            // the grace below still ends it
        }
        m.killTimer = schedule(() -> {
            if (m.child.isAlive()) {
                m.child.terminate(s.stopGrace());
            }
        }, s.stopGrace().toNanos(), TimeUnit.NANOSECONDS);
    }

    // ---- loop thread: the pool's end ----

    private void checkDrained() {
        if (state != PoolState.DRAINING || queued.get() > 0 || inFlight.get() != 0) {
            return;
        }
        if (!moveTo(PoolState.STOPPING)) {
            return;
        }
        if (spawnTimer != null) {
            spawnTimer.cancel();
            spawnTimer = null;
        }
        for (Member<Q, R> m : new ArrayList<>(members)) {
            stop(m);
        }
        checkTerminated();
    }

    private void abort(String why) {
        deadlineTimer = null;
        if (state.ordinal() >= PoolState.CLOSED.ordinal()) {
            return;
        }
        moveTo(PoolState.STOPPING);
        PoolShutdownException e = new PoolShutdownException("the pool was shut down before this request was answered: " + why);
        failQueued(e, FailureCause.SHUTDOWN);
        for (Member<Q, R> m : new ArrayList<>(members)) {
            failInFlight(m, e, FailureCause.SHUTDOWN);
            stop(m);
        }
        checkTerminated();
    }

    private void checkTerminated() {
        if (state.ordinal() < PoolState.STOPPING.ordinal() || !members.isEmpty() || terminated.isDone()) {
            return;
        }
        cancelPoolTimers();
        updateCounts();
        deliver(terminated, null, null);
    }

    private void cancelPoolTimers() {
        for (Timeout t : new Timeout[] {spawnTimer, breakerTimer, deadlineTimer}) {
            if (t != null) {
                t.cancel();
            }
        }
        spawnTimer = null;
        breakerTimer = null;
        deadlineTimer = null;
    }

    private void failQueued(Throwable e, FailureCause cause) {
        while (!queue.isEmpty()) {
            Call<Q, R> c = queue.poll();
            queued.decrementAndGet();
            finish(c, null, e);
        }
    }

    private void failRoomWaiters(DualPipeException e) {
        while (!roomWaiters.isEmpty()) {
            RoomWaiter<Q, R> w = roomWaiters.poll();
            count(e);
            deliver(w.outer(), null, e);
        }
    }

    /**
     * The loop closed under the pool (the user closed it first): it killed and reaped the children,
     * and no task will run on it again, so what is left fails here, on whichever thread saw the end.
     */
    private synchronized void loopEnded() {
        if (terminated.isDone()) {
            return;
        }
        state = PoolState.CLOSED;
        LoopClosedException e = new LoopClosedException("the pool's event loop closed before this request was answered");
        Call<Q, R> c;
        while ((c = queue.poll()) != null) {
            queued.decrementAndGet();
            finish(c, null, e);
        }
        for (Member<Q, R> m : new ArrayList<>(members)) {
            for (Call<Q, R> x : new ArrayList<>(m.inFlight)) {
                finish(x, null, e);
            }
        }
        RoomWaiter<Q, R> w;
        while ((w = roomWaiters.poll()) != null) {
            w.outer().completeExceptionally(e);
        }
        members.clear();
        updateCounts();
        terminated.complete(null);
    }

    private void updateCounts() {
        int r = 0;
        List<Long> p = new ArrayList<>(members.size());
        for (Member<Q, R> m : members) {
            if (m.eligible(Integer.MAX_VALUE, 0) || (m.ready && !m.lost && !m.killed && !m.stopping && m.retiring && !m.draining)) {
                r++;
            }
            if (!m.lost && !m.killed) {
                p.add(m.pid);
            }
        }
        ready = r;
        alive = members.size();
        pids = List.copyOf(p);
    }

    private static Throwable unwrap(Throwable e) {
        return e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
    }
}
