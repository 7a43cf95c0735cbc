package io.dualpipe.nats.internal;

import io.dualpipe.nats.StreamUnavailableException;
import io.dualpipe.worker.PoolSaturatedException;
import io.nats.client.JetStream;
import io.nats.client.JetStreamApiException;
import io.nats.client.PublishOptions;
import io.nats.client.api.PublishAck;
import io.nats.client.impl.Headers;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Stores a submitter's tasks in the pool's work-queue stream: retries (same message id, so
 * JetStream keeps one copy within its duplicate window) while the stream is full and the task may
 * wait for room, or while the server does not answer and the publish timeout is ahead; otherwise
 * fails the task in {@link Pending}, typed. Thread-safe; retries run on the submitter's scheduler.
 */
public final class TaskPublisher {
    private final JetStream js;
    private final Layout layout;
    private final String submitter;
    private final Pending pending;
    private final ScheduledExecutorService retries;
    private final Duration waitForRoom;
    private final Duration publishTimeout;
    private final BooleanSupplier closed;
    private final String limits;

    /**
     * Publishes the tasks of {@code submitter}, whose results and progress come back on its own subjects;
     * {@code limits} names the stream's limits in the saturation error ({@link Layout#describeLimits}).
     */
    public TaskPublisher(JetStream js, Layout layout, String submitter, Pending pending, ScheduledExecutorService retries,
                         Duration waitForRoom, Duration publishTimeout, BooleanSupplier closed, String limits) {
        this.limits = limits;
        this.js = js;
        this.layout = layout;
        this.submitter = submitter;
        this.pending = pending;
        this.retries = retries;
        this.waitForRoom = waitForRoom;
        this.publishTimeout = publishTimeout;
        this.closed = closed;
    }

    /**
     * Starts storing the task {@code taskId} with its payload {@code json}, and with the headers that tell
     * an agent where its result and its worker's envelopes go ({@link Wire}); its outcome, if the store
     * fails, goes to {@link Pending}.
     */
    public void publish(String taskId, byte[] json) {
        Headers h = new Headers().add(Wire.TASK, taskId).add(Wire.REPLY, layout.resultsSubject(submitter))
                .add(Wire.PROGRESS, layout.progressSubject(submitter));
        long now = System.nanoTime();
        publish(taskId, h, json, now + waitForRoom.toNanos(), now + publishTimeout.toNanos(), 1);
    }

    private void publish(String taskId, Headers h, byte[] json, long roomBy, long giveUpBy, int attempt) {
        if (!pending.contains(taskId)) {
            return; // closed meanwhile
        }
        CompletableFuture<PublishAck> ack;
        try {
            ack = js.publishAsync(layout.tasksSubject(), h, json,
                    PublishOptions.builder().messageId(taskId).streamTimeout(Duration.ofSeconds(2)).build());
        } catch (RuntimeException e) {
            ack = CompletableFuture.failedFuture(e);
        }
        ack.whenComplete((a, e) -> {
            if (e == null || !pending.contains(taskId)) {
                return; // stored: now the result will come; or closed meanwhile, the future failed already
            }
            long now = System.nanoTime();
            JetStreamApiException api = Wire.apiError(e);
            long backoff = Math.min(200, 10L << Math.min(attempt, 4));
            if (api != null && Wire.isStreamFull(api)) {
                if (now - roomBy < 0 && !closed.getAsBoolean()) {
                    retry(() -> publish(taskId, h, json, roomBy, giveUpBy, attempt + 1), backoff);
                } else {
                    pending.withdraw(taskId, new PoolSaturatedException("task " + taskId + " refused: stream " + layout.taskStream()
                            + " is full (" + api.getErrorDescription() + "): it holds at most " + limits
                            + (waitForRoom.isZero() ? "; waitForRoom is zero" : ", and stayed full for waitForRoom " + waitForRoom)));
                }
            } else if (api == null && now - giveUpBy < 0 && !closed.getAsBoolean()) {
                retry(() -> publish(taskId, h, json, roomBy, giveUpBy, attempt + 1), backoff); // the server is away: it comes back
            } else {
                pending.withdraw(taskId, new StreamUnavailableException("task " + taskId + " not stored by JetStream"
                        + (api != null ? ": " + api.getMessage() : " within publishTimeout " + publishTimeout + ": " + e), e));
            }
        });
    }

    private void retry(Runnable r, long millis) {
        try {
            retries.schedule(r, millis, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException closedMeanwhile) {
            // close() failed every pending future already
        }
    }
}
