package io.dualpipe.nats.internal;

import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.worker.WorkerPool;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * Which local worker runs which of an agent's tasks, so that an envelope a worker sends on its own
 * (progress) can be given to the task it belongs to. The agent places each task itself
 * ({@link WorkerPool#submitTo}) on the live worker holding the fewest of its tasks, and forgets it
 * when its future completes: on the pool's loop thread, as the worker's reply is read, so before
 * anything the worker sends afterwards. An envelope is thus matched to the one task its worker held
 * when it sent it. A worker holding several tasks (maxInFlightPerWorker above 1) sends envelopes no
 * single task owns. Thread-safe.
 */
public final class WorkerTasks {
    /** A task held by a worker: its id and where its worker's envelopes go (null: to every submitter). */
    public record Held(String taskId, String progressSubject) {
    }

    private final WorkerPool pool;
    private final Map<Long, List<Held>> byWorker = new HashMap<>(); // guarded by this

    public WorkerTasks(WorkerPool pool) {
        this.pool = pool;
    }

    /**
     * Runs {@code payload} for {@code task} on the live worker holding the fewest tasks (queued behind
     * them if all hold some, as while a dead worker's replacement starts); on whichever worker the pool
     * chooses if none is alive (it may then fail at once, the breaker open). Completes as
     * {@link WorkerPool#submit} does.
     */
    public CompletableFuture<Object> submit(Held task, Object payload) {
        for (int attempt = 0; attempt < 3; attempt++) {
            long pid = place(task);
            if (pid == 0) {
                break;
            }
            CompletableFuture<Object> f = pool.submitTo(pid, payload);
            if (f.isCompletedExceptionally() && refusedAsGone(f)) {
                forget(pid, task); // it exited between the choice and the call: choose again
                continue;
            }
            f.whenComplete((v, e) -> forget(pid, task));
            return f;
        }
        return pool.submit(payload);
    }

    /** The task {@code workerPid} runs if it runs exactly one of this agent's; else null. */
    public synchronized Held soleTaskOf(long workerPid) {
        List<Held> l = byWorker.get(workerPid);
        return l != null && l.size() == 1 ? l.get(0) : null;
    }

    private synchronized long place(Held task) {
        long best = 0;
        int load = Integer.MAX_VALUE;
        for (long pid : pool.workerPids()) {
            List<Held> l = byWorker.get(pid);
            int n = l == null ? 0 : l.size();
            if (n < load) {
                best = pid;
                load = n;
            }
        }
        if (best != 0) {
            byWorker.computeIfAbsent(best, k -> new ArrayList<>()).add(task);
        }
        return best;
    }

    private synchronized void forget(long pid, Held task) {
        List<Held> l = byWorker.get(pid);
        if (l != null && l.remove(task) && l.isEmpty()) {
            byWorker.remove(pid);
        }
    }

    private static boolean refusedAsGone(CompletableFuture<Object> failed) {
        try {
            failed.join();
            return false;
        } catch (CompletionException e) {
            return e.getCause() instanceof InvalidArgumentException;
        } catch (RuntimeException e) {
            return e instanceof InvalidArgumentException;
        }
    }
}
