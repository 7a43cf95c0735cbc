package io.dualpipe.pool.internal;

import io.dualpipe.core.ConsumerConflictException;
import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.LoopClosedException;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.Timeout;
import io.dualpipe.core.internal.Futures;
import io.dualpipe.process.ChildExitedException;
import io.dualpipe.process.ChildProcess;
import io.dualpipe.process.ExitStatus;
import io.dualpipe.process.internal.PosixChildProcess;
import io.dualpipe.process.internal.StderrTail;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The children of a pool through their lives (see {@link Member}): adopted, warmed up, ready,
 * retired, stopped, killed, lost, reaped and buried. Loop thread only, except {@link #all} as read
 * by {@link Drain#loopEnded} once the loop is gone.
 */
final class Members<Q, R> {
    private static final Logger LOG = LoggerFactory.getLogger(PoolCore.class);
    /** A child whose stdout ended gets this long to exit by itself (and show its status) before SIGKILL. */
    private static final long LOST_GRACE_NANOS = TimeUnit.MILLISECONDS.toNanos(200);
    /** After a child exits, how long its last stderr bytes may take to be read before its requests fail. */
    private static final long STDERR_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(200);

    private final PoolContext<Q, R> ctx;
    private final PoolCore.Settings<Q, R> s;
    private final PoolCounters n;
    private final String program;
    private final List<Member<Q, R>> members = new ArrayList<>();

    Members(PoolContext<Q, R> ctx) {
        this.ctx = ctx;
        this.s = ctx.s;
        this.n = ctx.counters;
        this.program = ctx.program;
    }

    List<Member<Q, R>> all() {
        return members;
    }

    boolean isEmpty() {
        return members.isEmpty();
    }

    /** Children serving or about to: not leaving, for whatever reason. */
    int active() {
        int active = 0;
        for (Member<Q, R> m : members) {
            if (m.active()) {
                active++;
            }
        }
        return active;
    }

    void adopt(ChildProcess child) {
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
        child.onExit().whenComplete((status, e) -> ctx.onLoop(() -> exited(m, status, e)));
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
        Timeout timer = ctx.schedule(() -> crashed(m, "no reply to the warm-up request '" + s.warmUpRequest() + "' within "
                + s.warmUpTimeout(), null), s.warmUpTimeout().toNanos(), TimeUnit.NANOSECONDS);
        LoopFuture<R> reply;
        try {
            reply = m.session.request(s.warmUpRequest());
        } catch (RuntimeException e) {
            reply = LoopFuture.failed(e);
        }
        reply.whenComplete((v, e) -> ctx.onLoop(() -> {
            timer.cancel();
            if (m.killed || m.lost || m.ready) {
                return;
            }
            if (e != null) {
                Throwable cause = Futures.unwrap(e);
                crashed(m, "its warm-up request '" + s.warmUpRequest() + "' failed: " + cause, cause);
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
            ctx.respawner.succeeded();
            becomeReady(m);
        }));
    }

    private void becomeReady(Member<Q, R> m) {
        if (m.killed || m.lost || ctx.atLeast(PoolContext.Phase.STOPPING)) {
            return;
        }
        m.ready = true;
        if (s.recycleAfterAge() != null) {
            // counted from here: a child retired before it ever served would only churn
            m.ageTimer = ctx.schedule(() -> retire(m), s.recycleAfterAge().toNanos(), TimeUnit.NANOSECONDS);
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
        ctx.dispatcher.dispatch();
    }

    private void retire(Member<Q, R> m) {
        if (!m.active()) {
            return;
        }
        m.retiring = true;
        n.recycled.incrementAndGet();
        ctx.respawner.reconcile(); // its replacement; it keeps serving until that one is ready
    }

    /** {@code m} was just given its last request: its replacement starts now, and it stops once that is answered. */
    void retireAfterThis(Member<Q, R> m) {
        m.retiring = true;
        n.recycled.incrementAndGet();
        m.draining = true;
        updateCounts();
        ctx.respawner.reconcile();
    }

    /** A draining child with nothing left in flight is stopped. */
    void afterWork(Member<Q, R> m) {
        if (m.draining && m.inFlight.isEmpty() && !m.stopping && !m.lost) {
            stop(m);
        }
    }

    /** The pool gives the child up (a failed warm-up, a broken exchange): a crash, counted by the breaker. */
    private void crashed(Member<Q, R> m, String why, Throwable cause) {
        if (m.killed || m.lost) {
            return;
        }
        ctx.respawner.crash(new ChildExitedException("child pid " + m.pid + " of '" + program + "' was given up: " + why
                + m.stderr.describe(), cause, m.pid, null, m.stderr.text()));
        kill(m, why, true);
    }

    /** Kills {@code m} now: its requests fail at once, and a replacement starts. */
    void kill(Member<Q, R> m, String why, boolean restart) {
        if (m.killed || m.buried) {
            return;
        }
        m.killed = true;
        if (restart && !m.lost) {
            n.restarts.incrementAndGet();
        }
        failInFlight(m, new ChildExitedException("child pid " + m.pid + " of '" + program + "' was killed because " + why
                + ", with this request in flight on it" + m.stderr.describe(), null, m.pid, null, m.stderr.text()));
        m.child.close();
        updateCounts();
        ctx.respawner.reconcile();
        ctx.dispatcher.dispatch();
    }

    /** {@code m} will not answer again (its stdout ended, its exchange broke, it exited). */
    void lose(Member<Q, R> m) {
        if (m.lost) {
            return;
        }
        m.lost = true;
        if (!m.endExpected() && !ctx.atLeast(PoolContext.Phase.STOPPING)) {
            m.crashed = true;
            n.restarts.incrementAndGet();
        }
        updateCounts();
        if (m.child.isAlive() && m.killTimer == null) {
            m.killTimer = ctx.schedule(m.child::close, LOST_GRACE_NANOS, TimeUnit.NANOSECONDS);
        }
        if (!m.crashed) {
            ctx.respawner.reconcile(); // a crash's replacement waits for the breaker, which hears of it when the child is reaped
        }
    }

    /** {@code m} was reaped with {@code status}, or its exit failed with {@code error} (the loop closing killed it). */
    private void exited(Member<Q, R> m, ExitStatus status, Throwable error) {
        m.exit = status;
        m.exitError = error == null ? null : Futures.unwrap(error);
        lose(m);
        Timeout t = ctx.schedule(() -> bury(m), STDERR_WAIT_NANOS, TimeUnit.NANOSECONDS);
        m.stderr.ended().whenComplete((v, e) -> ctx.onLoop(() -> {
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
        String status = "(" + m.status() + ")";
        String what = m.exitError instanceof LoopClosedException ? "was killed as its event loop closed " + status
                : m.crashed ? "exited unasked " + status : m.killed ? "was killed " + status : "exited " + status;
        ChildExitedException lost = new ChildExitedException("child pid " + m.pid + " of '" + program + "' " + what
                + " before it answered this request" + m.stderr.describe(), null, m.pid, m.exit, tail);
        failInFlight(m, lost);
        if (m.crashed) {
            ctx.respawner.crash(new ChildExitedException("child pid " + m.pid + " of '" + program + "' " + what
                    + m.stderr.describe(), null, m.pid, m.exit, tail));
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
        ctx.respawner.reconcile();
        ctx.dispatcher.dispatch();
        ctx.drain.checkDrained();
        ctx.drain.checkTerminated();
    }

    void failInFlight(Member<Q, R> m, Throwable e) {
        for (Call<Q, R> c : new ArrayList<>(m.inFlight)) {
            ctx.dispatcher.finish(c, null, e);
        }
    }

    /** Asks {@code m} to exit: its stdin is closed, and it is terminated after the grace. */
    void stop(Member<Q, R> m) {
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
        m.killTimer = ctx.schedule(() -> {
            if (m.child.isAlive()) {
                m.child.terminate(s.stopGrace());
            }
        }, s.stopGrace().toNanos(), TimeUnit.NANOSECONDS);
    }

    void updateCounts() {
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
        n.ready = r;
        n.alive = members.size();
        n.pids = List.copyOf(p);
    }
}
