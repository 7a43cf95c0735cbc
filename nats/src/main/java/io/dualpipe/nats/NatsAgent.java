package io.dualpipe.nats;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.message.RemoteException;
import io.dualpipe.nats.internal.AgentLink;
import io.dualpipe.nats.internal.AgentNames;
import io.dualpipe.nats.internal.AgentThreads;
import io.dualpipe.nats.internal.Connect;
import io.dualpipe.nats.internal.Layout;
import io.dualpipe.nats.internal.Puller;
import io.dualpipe.nats.internal.Relay;
import io.dualpipe.nats.internal.TaskRunner;
import io.dualpipe.nats.internal.WorkerTasks;
import io.dualpipe.process.ChildProcessBuilder;
import io.dualpipe.process.ExitStatus;
import io.dualpipe.worker.WorkerPool;
import io.nats.client.Connection;
import io.nats.client.Options;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
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
 * pool. An envelope a worker sends on its own (progress) while it runs a task goes to that task's
 * submitter with the task's id ({@link NatsWorkerPool#submit(Object, java.util.function.Consumer)}):
 * the agent places each task on a worker itself, the one holding the fewest; one sent while it runs
 * no task (or several) goes to every submitter's {@code onMessage}. DIE ({@link NatsWorkerPool#shutdown()}) or {@link #drain()} drains: no more
 * pulls, the tasks held are finished and acknowledged, the local workers get DIE and are reaped,
 * the connection is closed, and {@link #terminated()} completes with the workers' exit statuses.
 *
 * <p><b>Threading.</b> Thread-safe. The agent runs one pulling thread, one thread that publishes
 * results and one timer thread for the heartbeats, all daemons; the local pool uses its event loop.
 */
public final class NatsAgent implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(NatsAgent.class);

    // The agent itself is the lifecycle: wiring the parts, drain and stop. Connecting and binding to the
    // consumer is AgentLink's, pulling Puller's, running and answering tasks TaskRunner's, and the
    // core-NATS traffic to and from the local workers Relay's, its own threads AgentThreads'.
    private final String name;
    private final Connection conn;
    private final WorkerPool pool;
    private final AgentThreads threads;
    private final Puller puller;
    private final TaskRunner runner;
    private final AtomicBoolean draining = new AtomicBoolean();
    private final CompletableFuture<Void> emptied = new CompletableFuture<>();
    private final CompletableFuture<List<ExitStatus>> terminated = new CompletableFuture<>();

    private NatsAgent(Builder b) {
        Layout layout = new Layout(b.pool);
        this.name = b.name != null ? b.name : AgentNames.defaultName();
        int capacity = b.workers * b.maxInFlightPerWorker;
        AgentLink link = AgentLink.open(name, b.server, b.options, layout, b.settings.limits());
        Connect connect = link.connect();
        this.conn = connect.connection();
        Relay relay = new Relay(name, layout, conn, this::drain);

        WorkerPool.Builder pb = WorkerPool.builder(b.worker).workers(b.workers).maxInFlightPerWorker(b.maxInFlightPerWorker)
                .maxQueued(capacity).onMessage(relay::onProgress);
        if (b.loop != null) {
            pb.loop(b.loop);
        }
        try {
            this.pool = pb.start();
        } catch (RuntimeException e) {
            Connect.closeQuietly(conn);
            throw e;
        }
        WorkerTasks workerTasks = new WorkerTasks(pool);
        this.threads = new AgentThreads(name);
        this.runner = new TaskRunner(name, link.js(), conn, workerTasks, threads.results(), threads.timer(), link.maxDeliver(),
                link.heartbeatMillis(), b.redeliveryDelay, b.publishTimeout, this::taskDone);
        this.puller = new Puller(name, link.subscription(), connect, capacity, runner::start);
        connect.onReconnect(() -> threads.onTimer(runner::heartbeatAll));
        relay.attach(pool, workerTasks); // a DIE from here on drains: the puller and runner it stops exist
        puller.stopped().thenRun(this::maybeEmptied);
        emptied.thenRunAsync(this::stop, threads.results());
        puller.start();
        LOG.info("agent {} serves pool \"{}\" with {} workers, capacity {}, maxDeliver {}", name, layout.pool(), b.workers, capacity,
                link.maxDeliver());
    }

    /**
     * An agent whose local workers are started from {@code worker} (called once per worker).
     *
     * @param worker makes the builder of each local worker, as for {@link WorkerPool#builder}
     * @return a builder with the defaults
     */
    public static Builder builder(Supplier<ChildProcessBuilder> worker) {
        return new Builder(worker);
    }

    /** {@return the agent's name (host and pid unless the builder named it)} */
    public String name() {
        return name;
    }

    /** {@return the pids of the live local workers, in start order} */
    public List<Long> workerPids() {
        return pool.workerPids();
    }

    /** {@return the tasks this agent holds now (pulled, not yet acknowledged or handed back)} */
    public int held() {
        return runner.held();
    }

    /**
     * Stops pulling, finishes the tasks held (results published, tasks acknowledged), sends the local
     * workers DIE and closes the connection; {@link #terminated()} completes then. Idempotent; what
     * DIE from the pool does. Each call gets a fresh future: a caller's cancel stays with that caller.
     *
     * @return a new future of the local workers' exit statuses, as {@link #terminated()}
     */
    public CompletableFuture<List<ExitStatus>> drain() {
        if (draining.compareAndSet(false, true)) {
            LOG.info("agent {}: draining ({} tasks held)", name, runner.held());
            puller.stop();
            maybeEmptied();
        }
        return terminated.copy();
    }

    /**
     * Completes with the local workers' exit statuses once the agent has drained and stopped. A fresh
     * future per call, so that a caller's cancel or complete reaches neither the agent nor other callers.
     *
     * @return a new future of the local workers' exit statuses, in start order
     */
    public CompletableFuture<List<ExitStatus>> terminated() {
        return terminated.copy();
    }

    /**
     * Stops at once: kills the local workers, closes the connection and ends the pulling thread before
     * it returns (its other threads end right after). The tasks held are not acknowledged: JetStream
     * delivers them again after the ack wait.
     */
    @Override
    public void close() {
        draining.set(true);
        pool.close();
        Connect.closeQuietly(conn);
        puller.close(Duration.ofSeconds(5)); // a pull in progress ends with the connection
        threads.stopNow();
        terminated.complete(List.of());
    }

    private void taskDone() {
        puller.release();
        maybeEmptied();
    }

    /**
     * Completes {@link #emptied} once the drain has begun, the puller has stopped (so no task can
     * start any more) and no task is held: checked wherever one of the three changes.
     */
    private void maybeEmptied() {
        if (draining.get() && puller.stopped().isDone() && runner.held() == 0) {
            emptied.complete(null);
        }
    }

    /** After the drain: every task answered and the puller gone. */
    private void stop() {
        pool.shutdown().whenComplete((statuses, e) -> threads.results().execute(() -> {
            try {
                conn.flush(Duration.ofSeconds(5)); // the last acknowledgements
            } catch (Exception flushFailed) {
                LOG.warn("agent {}: last acknowledgements not confirmed: {}", name, flushFailed.toString());
            }
            Connect.closeQuietly(conn);
            threads.stopGently();
            LOG.info("agent {}: drained; workers exited: {}", name, statuses);
            if (e != null) {
                terminated.completeExceptionally(e);
            } else {
                terminated.complete(statuses);
            }
        }));
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

        /**
         * The NATS server's URL. Default {@code nats://127.0.0.1:4222}.
         *
         * @param url the URL, not null
         * @return this builder
         */
        public Builder server(String url) {
            this.server = InvalidArgumentException.requireNonNull("server", url);
            return this;
        }

        /**
         * Connection options of the caller's own (TLS, credentials, servers).
         *
         * @param natsOptions the options, not null
         * @return this builder
         */
        public Builder options(Options natsOptions) {
            this.options = InvalidArgumentException.requireNonNull("options", natsOptions);
            return this;
        }

        /**
         * The pool whose tasks this agent runs. Default {@code "work"}.
         *
         * @param poolName 1 to 64 of A-Z a-z 0-9 _ -
         * @return this builder
         */
        public Builder pool(String poolName) {
            new Layout(poolName);
            this.pool = poolName;
            return this;
        }

        /**
         * The agent's name in results, logs and progress subjects (letters, digits, _ and -). Default: host and pid.
         *
         * @param agentName 1 to 64 of A-Z a-z 0-9 _ -
         * @return this builder
         */
        public Builder name(String agentName) {
            this.name = AgentNames.check(agentName);
            return this;
        }

        /**
         * Local workers. Default: the number of available processors.
         *
         * @param n how many, {@code > 0}
         * @return this builder
         */
        public Builder workers(int n) {
            this.workers = InvalidArgumentException.requirePositive("workers", n);
            return this;
        }

        /**
         * Tasks one local worker holds at once; capacity = workers × this. Default 1.
         *
         * @param n how many, {@code > 0}
         * @return this builder
         */
        public Builder maxInFlightPerWorker(int n) {
            this.maxInFlightPerWorker = InvalidArgumentException.requirePositive("maxInFlightPerWorker", n);
            return this;
        }

        /**
         * How long a task handed back (its worker died) waits before JetStream delivers it again. Default 100 ms.
         *
         * @param d the delay, {@code >= 0}
         * @return this builder
         */
        public Builder redeliveryDelay(Duration d) {
            this.redeliveryDelay = Settings.nonNegative("redeliveryDelay", d);
            return this;
        }

        /**
         * How long a result is retried while the server does not confirm it. Default 30 s.
         *
         * @param d the timeout, positive
         * @return this builder
         */
        public Builder publishTimeout(Duration d) {
            this.publishTimeout = Settings.positive("publishTimeout", d);
            return this;
        }

        /**
         * As {@link NatsWorkerPool.Builder#ackWait}, used if this agent creates the consumer.
         *
         * @param d the ack wait, at least 300 ms
         * @return this builder
         */
        public Builder ackWait(Duration d) {
            settings.ackWait(d);
            return this;
        }

        /**
         * As {@link NatsWorkerPool.Builder#maxDeliver}, used if this agent creates the consumer.
         *
         * @param n the deliveries, {@code > 0}
         * @return this builder
         */
        public Builder maxDeliver(int n) {
            settings.maxDeliver(n);
            return this;
        }

        /**
         * As {@link NatsWorkerPool.Builder#maxQueued}, used if this agent creates the stream.
         *
         * @param n how many tasks, {@code > 0}
         * @return this builder
         */
        public Builder maxQueued(long n) {
            settings.maxQueued(n);
            return this;
        }

        /**
         * The loop serving the local workers. Default {@link EventLoop#shared()}.
         *
         * @param eventLoop the loop, not null
         * @return this builder
         */
        public Builder loop(EventLoop eventLoop) {
            this.loop = InvalidArgumentException.requireNonNull("loop", eventLoop);
            return this;
        }

        /**
         * Connects, creates the streams and consumer unless they exist, starts the local workers and
         * begins pulling.
         *
         * @return the running agent
         * @throws InvalidArgumentException if {@code workers × maxInFlightPerWorker} is over {@link Integer#MAX_VALUE}
         * @throws StreamUnavailableException if the server cannot be reached or refuses the set-up
         */
        public NatsAgent start() {
            long capacity = (long) workers * maxInFlightPerWorker;
            if (capacity > Integer.MAX_VALUE) {
                throw new InvalidArgumentException("workers " + workers + " * maxInFlightPerWorker " + maxInFlightPerWorker + " = "
                        + capacity + " > " + Integer.MAX_VALUE + ": the tasks an agent holds at once must fit an int");
            }
            return new NatsAgent(this);
        }
    }
}
