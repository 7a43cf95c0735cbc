package io.dualpipe.nats;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.util.RawValue;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.message.RemoteException;
import io.dualpipe.nats.internal.Connect;
import io.dualpipe.nats.internal.Layout;
import io.dualpipe.nats.internal.Wire;
import io.dualpipe.process.ChildProcessBuilder;
import io.dualpipe.process.ExitStatus;
import io.dualpipe.worker.Envelope;
import io.dualpipe.worker.EnvelopeCodec;
import io.dualpipe.worker.UnexpectedReplyException;
import io.dualpipe.worker.WorkerPool;
import io.nats.client.Connection;
import io.nats.client.JetStream;
import io.nats.client.JetStreamApiException;
import io.nats.client.Message;
import io.nats.client.Options;
import io.nats.client.PublishOptions;
import io.nats.client.api.ConsumerInfo;
import io.nats.client.impl.Headers;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * Runs the tasks of a {@link NatsWorkerPool} on this machine: pulls them from the pool's JetStream
 * stream, at most its local capacity ({@code workers × maxInFlightPerWorker}) unacknowledged at once,
 * runs each on a local {@link WorkerPool} (Java or Python workers, unchanged), and publishes the
 * result to the submitter's result stream, acknowledging the task only once JetStream has stored the
 * result. Start one per machine, with {@link NatsAgentMain} or from code.
 *
 * <p><b>Delivery.</b> While a task runs the agent tells JetStream it is still working on it
 * ({@code inProgress}) every third of the consumer's ack wait, so a long task is not delivered
 * twice; an agent that dies stops the heartbeats and its tasks go to another agent after the ack
 * wait. A task whose worker died (or that this agent could not run) is handed back ({@code nak})
 * for any agent, unless it has had {@code maxDeliver} deliveries: then the agent publishes a
 * {@link TaskFailedException} result and terminates it ({@code term}). A task that threw in its
 * worker is a result (a {@link RemoteException} at the submitter), not retried.
 *
 * <p><b>Control.</b> Broadcasts from {@link NatsWorkerPool#broadcast} reach every worker of the local
 * pool; envelopes workers send on their own (progress) are published for the submitters'
 * {@code onMessage}. DIE ({@link NatsWorkerPool#shutdown()}) or {@link #drain()} drains: no more
 * pulls, the tasks held are finished and acknowledged, the local workers get DIE and are reaped,
 * the connection is closed, and {@link #terminated()} completes with the workers' exit statuses.
 *
 * <p><b>Threading.</b> Thread-safe. The agent runs one pulling thread, one thread that publishes
 * results and one timer thread for the heartbeats, all daemons; the local pool uses its event loop.
 */
public final class NatsAgent implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(NatsAgent.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final EnvelopeCodec ENVELOPES = new EnvelopeCodec();
    private static final Duration FETCH_EXPIRY = Duration.ofSeconds(1);

    private final String name;
    private final Layout layout;
    private final Connect connect;
    private final Connection conn;
    private final JetStream js;
    private final io.nats.client.JetStreamSubscription subscription;
    private final long maxDeliver;
    private final long heartbeatMillis;
    private final Duration redeliveryDelay;
    private final Duration publishTimeout;
    private final int capacity;
    private final Semaphore free;
    private final AtomicInteger held = new AtomicInteger();
    private final WorkerPool pool;
    private final ExecutorService results;
    private final ScheduledExecutorService timer;
    private final Thread puller;
    private final AtomicBoolean draining = new AtomicBoolean();
    private final CountDownLatch stopping = new CountDownLatch(1);
    private final CompletableFuture<Void> pullerDone = new CompletableFuture<>();
    private final CompletableFuture<Void> emptied = new CompletableFuture<>();
    private final CompletableFuture<List<ExitStatus>> terminated = new CompletableFuture<>();

    private NatsAgent(Builder b) {
        this.layout = new Layout(b.pool);
        this.name = b.name != null ? b.name : defaultName();
        this.capacity = b.workers * b.maxInFlightPerWorker;
        this.free = new Semaphore(capacity);
        this.redeliveryDelay = b.redeliveryDelay;
        this.publishTimeout = b.publishTimeout;
        try {
            this.connect = Connect.open(b.server, b.options, "dualpipe-agent-" + name);
        } catch (IOException e) {
            throw new StreamUnavailableException("agent " + name + ": cannot connect to NATS at " + b.server + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StreamUnavailableException("agent " + name + ": interrupted while connecting to NATS", e);
        }
        this.conn = connect.connection();
        ConsumerInfo info;
        try {
            this.js = conn.jetStream();
            layout.ensure(conn.jetStreamManagement(), b.settings.limits());
            info = layout.agentsConsumer(conn.jetStreamManagement());
            this.subscription = js.subscribe(null, io.nats.client.PullSubscribeOptions.bind(layout.taskStream(), Layout.AGENTS_CONSUMER));
        } catch (IOException | JetStreamApiException | RuntimeException e) {
            NatsWorkerPool.closeQuietly(conn);
            throw new StreamUnavailableException("agent " + name + ": cannot set up pool \"" + b.pool + "\" on NATS: " + e.getMessage(), e);
        }
        // the consumer may have been made by another side: its numbers rule (it has one delivery more, see Layout)
        long serverMax = info.getConsumerConfiguration().getMaxDeliver();
        this.maxDeliver = serverMax <= 1 ? Long.MAX_VALUE : serverMax - 1;
        this.heartbeatMillis = Math.max(100, info.getConsumerConfiguration().getAckWait().toMillis() / 3);

        WorkerPool.Builder pb = WorkerPool.builder(b.worker).workers(b.workers).maxInFlightPerWorker(b.maxInFlightPerWorker)
                .maxQueued(capacity).onMessage(this::onProgress);
        if (b.loop != null) {
            pb.loop(b.loop);
        }
        try {
            this.pool = pb.start();
        } catch (RuntimeException e) {
            NatsWorkerPool.closeQuietly(conn);
            throw e;
        }
        this.results = Executors.newSingleThreadExecutor(daemon("dualpipe-agent-" + name + "-results"));
        this.timer = Executors.newSingleThreadScheduledExecutor(daemon("dualpipe-agent-" + name + "-heartbeats"));
        conn.createDispatcher(this::onControl).subscribe(layout.controlSubject());
        this.puller = daemon("dualpipe-agent-" + name + "-pull").newThread(this::pull);
        CompletableFuture.allOf(pullerDone, emptied).thenRunAsync(this::stop, results);
        puller.start();
        LOG.info("agent {} serves pool \"{}\" with {} workers, capacity {}, maxDeliver {}", name, layout.pool(), b.workers, capacity, maxDeliver);
    }

    /** An agent whose local workers are started from {@code worker} (called once per worker). */
    public static Builder builder(Supplier<ChildProcessBuilder> worker) {
        return new Builder(worker);
    }

    /** The agent's name (host and pid unless the builder named it). */
    public String name() {
        return name;
    }

    /** The pids of the local workers, in start order. */
    public List<Long> workerPids() {
        return pool.workerPids();
    }

    /** Tasks this agent holds now (pulled, not yet acknowledged or handed back). */
    public int held() {
        return held.get();
    }

    /**
     * Stops pulling, finishes the tasks held (results published, tasks acknowledged), sends the local
     * workers DIE and closes the connection; {@link #terminated()} completes then. Idempotent; what
     * DIE from the pool does.
     */
    public CompletableFuture<List<ExitStatus>> drain() {
        if (draining.compareAndSet(false, true)) {
            LOG.info("agent {}: draining ({} tasks held)", name, held.get());
            stopping.countDown();
            free.release(); // wakes the puller if it waits for room
            maybeEmptied();
        }
        return terminated;
    }

    /** Completes with the local workers' exit statuses once the agent has drained and stopped. */
    public CompletableFuture<List<ExitStatus>> terminated() {
        return terminated;
    }

    /**
     * Stops at once: kills the local workers and closes the connection. The tasks held are not
     * acknowledged: JetStream delivers them again after the ack wait.
     */
    @Override
    public void close() {
        draining.set(true);
        stopping.countDown();
        pool.close();
        NatsWorkerPool.closeQuietly(conn);
        results.shutdownNow();
        timer.shutdownNow();
        terminated.complete(List.of());
    }

    // ---- the puller thread ----

    private void pull() {
        try {
            while (!draining.get()) {
                free.acquire();
                if (draining.get()) {
                    break;
                }
                int n = 1 + free.drainPermits();
                int got = 0;
                try {
                    // One subscription for every pull: a message the server sends as a pull expires lands
                    // in its queue and is taken by the next pull, where a fresh subscription per fetch
                    // would drop it and leave it unacknowledged (and its submitter waiting) for an ack wait.
                    java.util.Iterator<Message> fetch = subscription.iterate(n, FETCH_EXPIRY);
                    while (fetch.hasNext()) {
                        Message m = fetch.next();
                        got++;
                        if (draining.get()) {
                            m.nak(); // pulled as the drain began: for another agent
                            free.release();
                        } else {
                            start(m);
                        }
                    }
                } catch (RuntimeException e) {
                    if (!draining.get()) {
                        LOG.debug("agent {}: pull failed ({}); waiting for the connection", name, e.toString());
                        connect.awaitConnected(Duration.ofSeconds(5));
                        stopping.await(100, TimeUnit.MILLISECONDS); // a back-off, cut short by a drain
                    }
                } finally {
                    free.release(n - got);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            pullerDone.complete(null);
            maybeEmptied();
        }
    }

    /**
     * Completes {@link #emptied} once the drain has begun, the puller has stopped (so no task can
     * start any more) and no task is held: checked wherever one of the three changes.
     */
    private void maybeEmptied() {
        if (draining.get() && pullerDone.isDone() && held.get() == 0) {
            emptied.complete(null);
        }
    }

    private void start(Message m) {
        String taskId = Wire.header(m, Wire.TASK);
        String reply = Wire.header(m, Wire.REPLY);
        long delivered = m.metaData().deliveredCount();
        held.incrementAndGet();
        if (taskId == null || reply == null) {
            LOG.warn("agent {}: message without {} / {} headers on {}: terminated", name, Wire.TASK, Wire.REPLY, m.getSubject());
            m.term();
            done(null);
            return;
        }
        if (delivered > maxDeliver) {
            // the previous holder died before it could say so (an agent SIGKILLed at the last delivery)
            fail(m, taskId, reply, delivered, null, "task " + taskId + " delivered " + delivered + " times: its worker or agent died on each of"
                    + " maxDeliver " + maxDeliver + " deliveries before answering");
            return;
        }
        ScheduledFuture<?> heartbeat = timer.scheduleAtFixedRate(m::inProgress, heartbeatMillis, heartbeatMillis, TimeUnit.MILLISECONDS);
        CompletableFuture<Object> run;
        try {
            // the body is JSON already: a RawValue goes to the worker as it is
            run = pool.submit(new RawValue(new String(m.getData(), StandardCharsets.UTF_8)));
        } catch (RuntimeException e) {
            run = CompletableFuture.failedFuture(e);
        }
        run.whenCompleteAsync((result, e) -> finish(m, taskId, reply, delivered, heartbeat, result, e), results);
    }

    // ---- the results thread ----

    private void finish(Message m, String taskId, String reply, long delivered, ScheduledFuture<?> heartbeat, Object result, Throwable e) {
        Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
        try {
            if (cause == null) {
                publishResult(m, taskId, reply, heartbeat, headers(taskId, Wire.FINISHED), JSON.writeValueAsBytes(result));
            } else if (cause instanceof RemoteException r) {
                publishResult(m, taskId, reply, heartbeat, headers(taskId, Wire.ERROR), r.remoteText().getBytes(StandardCharsets.UTF_8));
            } else if (cause instanceof UnexpectedReplyException u && u.reply() != null) {
                publishResult(m, taskId, reply, heartbeat, headers(taskId, Wire.UNEXPECTED).add(Wire.WORD, u.reply().request()),
                        JSON.writeValueAsBytes(u.reply().data()));
            } else if (delivered >= maxDeliver) {
                heartbeat.cancel(false);
                fail(m, taskId, reply, delivered, cause, "task " + taskId + " failed on each of maxDeliver " + maxDeliver
                        + " deliveries; the last, on agent " + name + ": " + cause);
            } else {
                heartbeat.cancel(false);
                LOG.debug("agent {}: task {} (delivery {}) handed back: {}", name, taskId, delivered, cause.toString());
                m.nakWithDelay(redeliveryDelay);
                done(null);
            }
        } catch (JsonProcessingException je) {
            fail(m, taskId, reply, delivered, je, "task " + taskId + ": result not JSON-serialisable: " + je.getOriginalMessage());
        }
    }

    private void fail(Message m, String taskId, String reply, long delivered, Throwable cause, String text) {
        if (cause != null) {
            LOG.warn("agent {}: {}", name, text);
        }
        Headers h = headers(taskId, Wire.FAILED).add(Wire.DELIVERIES, Long.toString(delivered));
        publish(reply, taskId, h, text.getBytes(StandardCharsets.UTF_8), System.nanoTime() + publishTimeout.toNanos(), 1,
                ok -> {
                    if (ok) {
                        m.term(); // a poison task: JetStream drops it
                    }
                    done(null);
                });
    }

    private void publishResult(Message m, String taskId, String reply, ScheduledFuture<?> heartbeat, Headers h, byte[] body) {
        publish(reply, taskId, h, body, System.nanoTime() + publishTimeout.toNanos(), 1, ok -> {
            if (ok) {
                m.ack(); // only now: a result JetStream stored cannot be lost with the task
            } // else: not acknowledged, the task is delivered again after the ack wait
            done(heartbeat);
        });
    }

    /** Publishes a result (message id: its task's, so JetStream keeps one copy), retrying while the server is away. */
    private void publish(String subject, String taskId, Headers h, byte[] body, long giveUpBy, int attempt, java.util.function.Consumer<Boolean> then) {
        CompletableFuture<io.nats.client.api.PublishAck> ack;
        try {
            ack = js.publishAsync(subject, h, body, PublishOptions.builder().messageId("result." + taskId).streamTimeout(Duration.ofSeconds(2)).build());
        } catch (RuntimeException e) {
            ack = CompletableFuture.failedFuture(e);
        }
        ack.whenCompleteAsync((a, e) -> {
            if (e == null) {
                then.accept(true);
            } else if (System.nanoTime() - giveUpBy < 0 && conn.getStatus() != Connection.Status.CLOSED) {
                timer.schedule(() -> results.execute(() -> publish(subject, taskId, h, body, giveUpBy, attempt + 1, then)),
                        Math.min(500, 20L << Math.min(attempt, 4)), TimeUnit.MILLISECONDS);
            } else {
                LOG.warn("agent {}: result of task {} not stored by JetStream ({}): the task will be delivered again", name, taskId, e.toString());
                then.accept(false);
            }
        }, results);
    }

    private Headers headers(String taskId, String status) {
        return new Headers().add(Wire.TASK, taskId).add(Wire.STATUS, status).add(Wire.AGENT, name);
    }

    private void done(ScheduledFuture<?> heartbeat) {
        if (heartbeat != null) {
            heartbeat.cancel(false);
        }
        free.release();
        held.decrementAndGet();
        maybeEmptied();
    }

    /** After the drain: every task answered and the puller gone. */
    private void stop() {
        pool.shutdown().whenComplete((statuses, e) -> results.execute(() -> {
            try {
                conn.flush(Duration.ofSeconds(5)); // the last acknowledgements
            } catch (Exception flushFailed) {
                LOG.warn("agent {}: last acknowledgements not confirmed: {}", name, flushFailed.toString());
            }
            NatsWorkerPool.closeQuietly(conn);
            timer.shutdownNow();
            results.shutdown();
            LOG.info("agent {}: drained; workers exited: {}", name, statuses);
            if (e != null) {
                terminated.completeExceptionally(e);
            } else {
                terminated.complete(statuses);
            }
        }));
    }

    // ---- NATS dispatcher thread and the pool's loop thread ----

    private void onControl(Message m) {
        String word = Wire.header(m, Wire.WORD);
        if (word == null || word.isEmpty()) {
            return;
        }
        if (word.equals(Envelope.DIE)) {
            drain();
            return;
        }
        try {
            pool.broadcast(word, new RawValue(new String(m.getData(), StandardCharsets.UTF_8)));
        } catch (RuntimeException e) {
            LOG.warn("agent {}: broadcast \"{}\" not passed to the workers: {}", name, word, e.toString());
        }
    }

    private void onProgress(Envelope e) {
        try {
            ByteBuffer b = ENVELOPES.encode(e);
            byte[] bytes = new byte[b.remaining()];
            b.get(bytes);
            conn.publish(layout.progressSubject(name), new Headers().add(Wire.AGENT, name), bytes);
        } catch (RuntimeException ex) {
            LOG.debug("agent {}: progress not published: {}", name, ex.toString());
        }
    }

    private static java.util.concurrent.ThreadFactory daemon(String threadName) {
        return r -> {
            Thread t = new Thread(r, threadName);
            t.setDaemon(true);
            return t;
        };
    }

    private static String defaultName() {
        String host;
        try {
            host = java.net.InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            host = "host";
        }
        return (host + "-" + ProcessHandle.current().pid()).replaceAll("[^A-Za-z0-9_-]", "_");
    }

    /** Configures a {@link NatsAgent}. Not thread-safe. */
    public static final class Builder {
        private final Supplier<ChildProcessBuilder> worker;
        private String server = "nats://127.0.0.1:4222";
        private Options options;
        private String pool = "work";
        private String name;
        private int workers = Runtime.getRuntime().availableProcessors();
        private int maxInFlightPerWorker = 1;
        private Duration redeliveryDelay = Duration.ofMillis(100);
        private Duration publishTimeout = Duration.ofSeconds(30);
        private EventLoop loop;
        private final Settings settings = new Settings();

        private Builder(Supplier<ChildProcessBuilder> worker) {
            this.worker = InvalidArgumentException.requireNonNull("worker", worker);
        }

        /** The NATS server's URL. Default {@code nats://127.0.0.1:4222}. */
        public Builder server(String url) {
            this.server = InvalidArgumentException.requireNonNull("server", url);
            return this;
        }

        /** Connection options of the caller's own (TLS, credentials, servers). */
        public Builder options(Options natsOptions) {
            this.options = InvalidArgumentException.requireNonNull("options", natsOptions);
            return this;
        }

        /** The pool whose tasks this agent runs. Default {@code "work"}. */
        public Builder pool(String poolName) {
            new Layout(poolName);
            this.pool = poolName;
            return this;
        }

        /** The agent's name in results, logs and progress subjects (letters, digits, _ and -). Default: host and pid. */
        public Builder name(String agentName) {
            InvalidArgumentException.requireNonNull("name", agentName);
            if (!agentName.matches("[A-Za-z0-9_-]{1,64}")) {
                throw new InvalidArgumentException("name \"" + agentName + "\": use 1 to 64 of A-Z a-z 0-9 _ -");
            }
            this.name = agentName;
            return this;
        }

        /** Local workers. Default: the number of available processors. */
        public Builder workers(int n) {
            this.workers = InvalidArgumentException.requirePositive("workers", n);
            return this;
        }

        /** Tasks one local worker holds at once; capacity = workers × this. Default 1. */
        public Builder maxInFlightPerWorker(int n) {
            this.maxInFlightPerWorker = InvalidArgumentException.requirePositive("maxInFlightPerWorker", n);
            return this;
        }

        /** How long a task handed back (its worker died) waits before JetStream delivers it again. Default 100 ms. */
        public Builder redeliveryDelay(Duration d) {
            this.redeliveryDelay = Settings.nonNegative("redeliveryDelay", d);
            return this;
        }

        /** How long a result is retried while the server does not confirm it. Default 30 s. */
        public Builder publishTimeout(Duration d) {
            this.publishTimeout = Settings.positive("publishTimeout", d);
            return this;
        }

        /** As {@link NatsWorkerPool.Builder#ackWait}, used if this agent creates the consumer. */
        public Builder ackWait(Duration d) {
            settings.ackWait(d);
            return this;
        }

        /** As {@link NatsWorkerPool.Builder#maxDeliver}, used if this agent creates the consumer. */
        public Builder maxDeliver(int n) {
            settings.maxDeliver(n);
            return this;
        }

        /** As {@link NatsWorkerPool.Builder#maxQueued}, used if this agent creates the stream. */
        public Builder maxQueued(long n) {
            settings.maxQueued(n);
            return this;
        }

        /** The loop serving the local workers. Default {@link EventLoop#shared()}. */
        public Builder loop(EventLoop eventLoop) {
            this.loop = InvalidArgumentException.requireNonNull("loop", eventLoop);
            return this;
        }

        /**
         * Connects, creates the streams and consumer unless they exist, starts the local workers and
         * begins pulling.
         *
         * @throws StreamUnavailableException if the server cannot be reached or refuses the set-up
         */
        public NatsAgent start() {
            return new NatsAgent(this);
        }
    }
}
