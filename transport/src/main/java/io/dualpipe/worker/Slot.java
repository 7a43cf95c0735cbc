package io.dualpipe.worker;

import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.message.MessageChannel;
import io.dualpipe.process.ChildProcess;
import io.dualpipe.process.ExitStatus;
import io.dualpipe.process.internal.StderrTail;

import java.util.ArrayDeque;

/** One worker child of a {@link WorkerPool} and its bookkeeping. Loop thread only, except {@link #alive}. */
final class Slot {
    final ChildProcess child;
    /** The pool's own copy of the child's exit future. */
    final LoopFuture<ExitStatus> exit;
    /** The last bytes of its stderr, quoted when it dies; set once, before the slot is published. */
    StderrTail stderr;
    MessageChannel channel;
    final ArrayDeque<Task> waiting = new ArrayDeque<>(); // submitTo's tasks
    int inFlight;
    /** Written on the loop thread; read by submitTo and sendTo to refuse an exited worker at once. */
    volatile boolean alive = true;
    /** The pool or the user sent it DIE: its exit is asked for, not a crash, and it is not replaced. */
    volatile boolean dieSent;
    /** The pool killed it (a task timed out): its exit is not a crash, but it is replaced. */
    boolean killed;
    /** Its exit was handled (replacement decided). */
    boolean exitHandled;

    Slot(ChildProcess child) {
        this.child = child;
        this.exit = child.onExit();
    }
}
