package io.dualpipe.nats.internal;

import io.dualpipe.worker.Envelope;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

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
    private final Map<String, Entry> tasks = new ConcurrentHashMap<>();
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

    /** A task's future, and the listener of the envelopes its worker sends while it runs it (or null). */
    private record Entry(CompletableFuture<Object> future, Consumer<Envelope> listener) {
    }

    /**
     * Books {@code future} under {@code taskId}, with the {@code listener} (or null) of the envelopes
     * its worker sends while running it; the task was {@link #reserve reserved} first.
     */
    public void add(String taskId, CompletableFuture<Object> future, Consumer<Envelope> listener) {
        tasks.put(taskId, new Entry(future, listener));
    }

    /** The listener given with the task, while the task waits for its outcome; else null. */
    public Consumer<Envelope> listener(String taskId) {
        Entry e = tasks.get(taskId);
        return e == null ? null : e.listener();
    }

    /** True while the task waits for its outcome. */
    public boolean contains(String taskId) {
        return tasks.containsKey(taskId);
    }

    /** Completes the task's future once: a later outcome for the same id is a duplicate, dropped. */
    public void complete(String taskId, Object result, Throwable error) {
        Entry entry = tasks.remove(taskId);
        if (entry == null) {
            duplicates.incrementAndGet();
            LOG.debug("{}: result for {} dropped: already completed", submitter, taskId);
            return;
        }
        if (error == null) {
            entry.future().complete(result);
        } else {
            entry.future().completeExceptionally(error);
        }
        release();
    }

    /** Fails the task with {@code error} if it still waits; not a duplicate if it does not (a race with close). */
    public void withdraw(String taskId, Throwable error) {
        Entry entry = tasks.remove(taskId);
        if (entry != null) {
            entry.future().completeExceptionally(error);
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
