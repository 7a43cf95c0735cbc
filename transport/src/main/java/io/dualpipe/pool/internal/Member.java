package io.dualpipe.pool.internal;

import io.dualpipe.core.LoopClosedException;
import io.dualpipe.core.Timeout;
import io.dualpipe.pool.Exchange;
import io.dualpipe.process.ChildProcess;
import io.dualpipe.process.ExitStatus;
import io.dualpipe.process.internal.StderrTail;

import java.util.ArrayList;
import java.util.List;

/**
 * One child of a pool and what the pool knows of it. Loop thread only.
 *
 * <p>Life: starting (warm-up pending) → ready (takes work) → draining (finishes its work, takes no
 * more) → stopping (stdin closed, then SIGTERM/SIGKILL after the grace) → gone (reaped). A child is
 * <em>lost</em> from the moment the pool knows it will never answer again (it exited, its stdout
 * ended, the pool killed it); its requests then fail and a replacement starts.
 */
final class Member<Q, R> {
    final ChildProcess child;
    final long pid;
    final StderrTail stderr;
    final long startedAt;
    Exchange.Session<Q, R> session;
    final List<Call<Q, R>> inFlight = new ArrayList<>(2);
    boolean ready;      // warm-up passed (or none)
    boolean retiring;   // wants replacing (age or request count); serves until its replacement is ready
    boolean draining;   // takes no more work; stops once in-flight is empty
    boolean stopping;   // asked to exit: stdin closed / terminated
    boolean killed;     // the pool killed it (a timeout, a failed warm-up, close)
    boolean lost;       // will never answer again
    boolean crashed;    // lost without the pool asking: counted by the breaker
    boolean buried;
    long served;        // requests given to it
    ExitStatus exit;
    Throwable exitError; // why its exit status is unknown (the loop closed and killed it), when it is
    Timeout ageTimer;
    Timeout killTimer;

    Member(ChildProcess child, StderrTail stderr, long startedAt) {
        this.child = child;
        this.pid = child.pid();
        this.stderr = stderr;
        this.startedAt = startedAt;
    }

    /** Counts towards the pool's size: not leaving, for whatever reason. */
    boolean active() {
        return !lost && !killed && !stopping && !draining && !retiring;
    }

    /** May be given a request now. */
    boolean eligible(int maxInFlight, long maxRequests) {
        return ready && !lost && !killed && !stopping && !draining && inFlight.size() < maxInFlight
                && (maxRequests == 0 || served < maxRequests);
    }

    /** A pool decision ended it, or the closing of its loop, as opposed to a crash. */
    boolean endExpected() {
        return killed || stopping || exitError instanceof LoopClosedException;
    }

    /** Its exit status for messages: as reaped, or why it is unknown; never "null". */
    String status() {
        if (exit != null) {
            return exit.toString();
        }
        return exitError != null ? "status unknown: " + exitError.getMessage() : "not reaped yet";
    }

    void cancelTimers() {
        if (ageTimer != null) {
            ageTimer.cancel();
        }
        if (killTimer != null) {
            killTimer.cancel();
        }
    }

    @Override
    public String toString() {
        return "child pid " + pid;
    }
}
