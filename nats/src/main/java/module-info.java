/**
 * DualPipe's worker pool beyond one machine: tasks on a NATS JetStream work queue
 * ({@link io.dualpipe.nats.NatsWorkerPool}) and the agents that run them on local worker pools
 * ({@link io.dualpipe.nats.NatsAgent}, {@link io.dualpipe.nats.NatsAgentMain}).
 *
 * <p>A named module, not an automatic one, so that the core can export its log budget
 * ({@code io.dualpipe.core.internal}) to it alone: whatever a NATS publisher sends, the warnings it
 * triggers are bounded. The NATS client ({@code io.nats.jnats}) is an automatic module.
 */
module io.dualpipe.nats {
    requires transitive io.dualpipe.transport;
    // Its Options are part of the builders' API.
    requires transitive io.nats.jnats;
    requires com.fasterxml.jackson.databind;
    // For the bench program (io.dualpipe.nats.bench) alone, which runs on the class path.
    requires static java.management;

    exports io.dualpipe.nats;
}
