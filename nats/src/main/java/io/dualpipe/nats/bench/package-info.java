/**
 * A benchmark program, not API: {@link io.dualpipe.nats.bench.NatsPoolBench} compares the local
 * worker pool with the NATS pool on one machine.
 */
package io.dualpipe.nats.bench;
