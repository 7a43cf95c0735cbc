package io.dualpipe.nats.internal;

import io.nats.client.JetStreamSubscription;
import io.nats.client.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Iterator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * An agent's pulling thread: pulls at most as many tasks as it has room for (its capacity less the
 * tasks held, {@link #release()} giving room back) and hands each to {@code start}, until
 * {@link #stop()}. Thread-safe; {@code start} runs on the pulling thread.
 */
public final class Puller {
    private static final Logger LOG = LoggerFactory.getLogger(Puller.class);
    private static final Duration FETCH_EXPIRY = Duration.ofSeconds(1);
    private final String agent;
    private final JetStreamSubscription subscription;
    private final Connect connect;
    private final Semaphore free;
    private final Consumer<Message> start;
    private final AtomicBoolean stopping = new AtomicBoolean();
    private final CountDownLatch stopSignal = new CountDownLatch(1);
    private final CompletableFuture<Void> stopped = new CompletableFuture<>();
    private final Thread thread;

    public Puller(String agent, JetStreamSubscription subscription, Connect connect, int capacity, Consumer<Message> start) {
        this.agent = agent;
        this.subscription = subscription;
        this.connect = connect;
        this.free = new Semaphore(capacity);
        this.start = start;
        this.thread = new Thread(this::pull, "dualpipe-agent-" + agent + "-pull");
        thread.setDaemon(true);
    }

    public void start() {
        thread.start();
    }

    /** A task ended: room for one more. */
    public void release() {
        free.release();
    }

    /** No more pulls; a message that arrives from a pull already made is handed back. Idempotent. */
    public void stop() {
        if (stopping.compareAndSet(false, true)) {
            stopSignal.countDown();
            free.release(); // wakes the thread if it waits for room
        }
    }

    /**
     * Stops at once, for an agent closing: wakes the pulling thread wherever it waits and waits for it
     * to end, at most {@code timeout}. A message it pulled meanwhile is left unacknowledged (JetStream
     * delivers it again after the ack wait).
     */
    public void close(Duration timeout) {
        stop();
        if (Thread.currentThread() == thread) {
            return;
        }
        thread.interrupt();
        try {
            thread.join(timeout.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) {
            LOG.warn("agent {}: pulling thread still running {} after close", agent, timeout);
        }
    }

    public boolean isStopping() {
        return stopping.get();
    }

    /** Completes once the pulling thread has ended: no task can start any more. */
    public CompletableFuture<Void> stopped() {
        return stopped;
    }

    private void pull() {
        try {
            while (!stopping.get()) {
                free.acquire();
                if (stopping.get()) {
                    break;
                }
                int n = 1 + free.drainPermits();
                int got = 0;
                try {
                    // One subscription for every pull: a message the server sends as a pull expires lands
                    // in its queue and is taken by the next pull, where a fresh subscription per fetch
                    // would drop it and leave it unacknowledged (and its submitter waiting) for an ack wait.
                    Iterator<Message> fetch = subscription.iterate(n, FETCH_EXPIRY);
                    while (fetch.hasNext()) {
                        Message m = fetch.next();
                        got++;
                        if (stopping.get()) {
                            m.nak(); // pulled as the drain began: for another agent
                            free.release();
                        } else {
                            start.accept(m);
                        }
                    }
                } catch (RuntimeException e) {
                    if (!stopping.get()) {
                        LOG.debug("agent {}: pull failed ({}); waiting for the connection", agent, e.toString());
                        connect.awaitConnected(Duration.ofSeconds(5));
                        stopSignal.await(100, TimeUnit.MILLISECONDS); // a back-off, cut short by a drain
                    }
                } finally {
                    free.release(n - got);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            stopped.complete(null);
        }
    }
}
