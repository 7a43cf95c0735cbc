package io.dualpipe.nats.internal;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A submitter's tasks that wait for their result, by task id: the one place a task's future is
 * completed, so that it completes once. The first outcome for an id wins and takes the id out of
 * the book; a later one (a task run twice, a result that came after a failure) is counted as a
 * duplicate and dropped. Also counts the tasks outstanding, for {@code maxPending} and
 * {@code whenIdle}. Thread-safe: callers' threads, the NATS dispatcher and the publish callbacks.
 */
public final class Pending {
    private static final Logger LOG = LoggerFactory.getLogger(Pending.class);
    private final String submitter;
    private final Map<String, CompletableFuture<Object>> tasks = new ConcurrentHashMap<>();
    private final AtomicInteger outstanding = new AtomicInteger();
    private final AtomicLong duplicates = new AtomicLong();
    private final List<CompletableFuture<Void>> idleWaiters = new ArrayList<>(); // guarded by itself

    public Pending(String submitter) {
        this.submitter = submitter;
    }

    /** Counts one more task outstanding, unless {@code max} are already: then false, and nothing counted. */
    public boolean reserve(int max) {
        if (outstanding.incrementAndGet() > max) {
            release();
            return false;
        }
        return true;
    }

    /** Books {@code future} under {@code taskId}; the task was {@link #reserve reserved} first. */
    public void add(String taskId, CompletableFuture<Object> future) {
        tasks.put(taskId, future);
    }

    /** True while the task waits for its outcome. */
    public boolean contains(String taskId) {
        return tasks.containsKey(taskId);
    }

    /** Completes the task's future once: a later outcome for the same id is a duplicate, dropped. */
    public void complete(String taskId, Object result, Throwable error) {
        CompletableFuture<Object> f = tasks.remove(taskId);
        if (f == null) {
            duplicates.incrementAndGet();
            LOG.debug("{}: result for {} dropped: already completed", submitter, taskId);
            return;
        }
        if (error == null) {
            f.complete(result);
        } else {
            f.completeExceptionally(error);
        }
        release();
    }

    /** Fails the task with {@code error} if it still waits; not a duplicate if it does not (a race with close). */
    public void withdraw(String taskId, Throwable error) {
        CompletableFuture<Object> f = tasks.remove(taskId);
        if (f != null) {
            f.completeExceptionally(error);
            release();
        }
    }

    /** Fails every task still waiting with {@code error}. */
    public void failAll(Throwable error) {
        for (String taskId : List.copyOf(tasks.keySet())) {
            withdraw(taskId, error);
        }
    }

    /** Results dropped because their task had completed already. */
    public long duplicates() {
        return duplicates.get();
    }

    public boolean isIdle() {
        return outstanding.get() == 0;
    }

    /** A fresh future, completed once no task is outstanding. */
    public CompletableFuture<Void> whenIdle() {
        CompletableFuture<Void> f = new CompletableFuture<>();
        synchronized (idleWaiters) {
            if (outstanding.get() == 0) {
                f.complete(null);
            } else {
                idleWaiters.add(f);
            }
        }
        return f;
    }

    /** One task less outstanding; wakes the idle waiters at zero. */
    public void release() {
        List<CompletableFuture<Void>> wake = null;
        synchronized (idleWaiters) {
            if (outstanding.decrementAndGet() == 0 && !idleWaiters.isEmpty()) {
                wake = new ArrayList<>(idleWaiters);
                idleWaiters.clear();
            }
        }
        if (wake != null) {
            wake.forEach(w -> w.complete(null));
        }
    }
}
