package io.dualpipe.worker;

import com.fasterxml.jackson.databind.util.RawValue;
import io.dualpipe.core.ChannelClosedException;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.codec.EncodeException;
import io.dualpipe.core.internal.Futures;

/**
 * A {@link WorkerPool}'s one-way envelopes, which no worker answers: {@code sendTo} one worker
 * (a word of the application's, or DIE to stop that worker) and {@code broadcast} to every live
 * one. Checks and serialises on the caller's thread, writes on the loop thread.
 *
 * <p><b>Threading.</b> Any thread. A refused {@code sendTo} fails on the caller's thread, except
 * one that raced {@code shutdown()} or {@code close()} to the loop; its future completes on the
 * loop thread once the frame is in the kernel's pipe. Envelopes sent from one thread to one worker
 * arrive in call order, as each goes through the loop's task queue.
 *
 * <p><b>Buffers.</b> The caller's data is serialised here ({@link PayloadEncoder}) into an
 * immutable value, which the worker's channel writes as it is.
 */
final class EnvelopePost {
    private final EventLoop loop;
    private final long parentPid;
    private final PoolLifecycle lifecycle;
    private final WorkerSupervisor workers;
    private final PayloadEncoder encoder;

    EnvelopePost(EventLoop loop, long parentPid, PoolLifecycle lifecycle, WorkerSupervisor workers, PayloadEncoder encoder) {
        this.loop = loop;
        this.parentPid = parentPid;
        this.lifecycle = lifecycle;
        this.workers = workers;
        this.encoder = encoder;
    }

    /** See {@link WorkerPool#sendTo}. */
    LoopFuture<Void> sendTo(long workerPid, String request, Object data) {
        LoopFuture<Void> f = new LoopFuture<>();
        Slot target = workers.byPid(workerPid);
        if (request == null || request.isEmpty() || request.equals(Envelope.DO)) {
            f.completeExceptionally(new InvalidArgumentException("sendTo: request " + (request == null ? "null" : "\"" + request + "\"")
                    + " is not allowed: name a one-way word (\"CONFIG\", " + Envelope.DIE + "); a " + Envelope.DO
                    + " is a task, which wants a reply: use submitTo(workerPid, data)"));
            return f;
        }
        if (!lifecycle.running()) {
            f.completeExceptionally(lifecycle.refusal("sendTo")); // before the pid: after close() no worker is alive
            return f;
        }
        if (target == null || !target.alive) {
            f.completeExceptionally(workers.notALiveWorker("sendTo", workerPid, target));
            return f;
        }
        Envelope envelope;
        try {
            envelope = new Envelope(request, parentPid, workerPid, encoder.encode(request, data));
        } catch (EncodeException e) {
            f.completeExceptionally(e);
            return f;
        }
        try {
            loop.runOnLoop(() -> {
                if (workers.stopped()) {
                    f.completeExceptionally(lifecycle.refusal("sendTo")); // it raced shutdown() or close() to the loop
                } else if (!target.alive || !target.channel.isOpen()) {
                    f.completeExceptionally(new WorkerExitedException("sendTo: worker " + workerPid
                            + " exited before the \"" + request + "\" envelope could be sent", null));
                } else {
                    if (Envelope.DIE.equals(request)) {
                        workers.retire(target); // asked for: not a crash, and not replaced
                    }
                    target.channel.send(envelope).whenComplete((v, e) -> {
                        if (e == null) {
                            f.complete(null);
                            return;
                        }
                        Throwable cause = Futures.unwrap(e);
                        f.completeExceptionally(cause instanceof ChannelClosedException && !(cause instanceof WorkerExitedException)
                                ? new WorkerExitedException("sendTo: worker " + workerPid + " went away before the \""
                                        + request + "\" envelope was written", cause)
                                : cause);
                    });
                }
            });
        } catch (RuntimeException e) {
            f.completeExceptionally(e); // a closed loop
        }
        return f;
    }

    /** See {@link WorkerPool#broadcast}. */
    void broadcast(String request, Object data) {
        InvalidArgumentException.requireNonNull("request", request);
        RawValue payload = encoder.encode(request, data);
        new Envelope(request, parentPid, 0, null); // checks the word here rather than on the loop, where nobody would see the error
        loop.runOnLoop(() -> {
            for (Slot s : workers.slots()) {
                if (s.alive) {
                    s.channel.send(new Envelope(request, parentPid, s.child.pid(), payload));
                }
            }
        });
    }
}
