/**
 * The worker pool beyond one machine: a {@link io.dualpipe.nats.NatsWorkerPool} publishes tasks to a
 * NATS JetStream work queue, and {@link io.dualpipe.nats.NatsAgent}s (one per machine, or
 * {@link io.dualpipe.nats.NatsAgentMain} as a program) pull them and run them on local
 * {@link io.dualpipe.worker.WorkerPool}s. Delivery is at least once.
 */
package io.dualpipe.nats;
