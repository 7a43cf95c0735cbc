package io.dualpipe.nats.internal;

import io.dualpipe.nats.StreamUnavailableException;
import io.nats.client.JetStream;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamSubscription;
import io.nats.client.Options;
import io.nats.client.PullSubscribeOptions;
import io.nats.client.api.ConsumerConfiguration;

import java.io.IOException;

/**
 * One agent's hold on its pool: the connection (reconnecting for ever), the streams and the agents'
 * consumer set up unless another side did, the pull subscription bound to that consumer, and the
 * delivery numbers the consumer dictates. The consumer may have been made by another side, with
 * other limits than this agent's builder: its configuration as the server has it rules, so every
 * agent of a pool heartbeats and gives up alike. Immutable; the connection and subscription are the
 * NATS client's, thread-safe as it makes them.
 *
 * @param connect         the agent's connection
 * @param js              JetStream on it, for the results
 * @param subscription    the pull subscription bound to the agents' consumer
 * @param maxDeliver      deliveries after which a task whose worker keeps dying is failed, not handed back
 * @param heartbeatMillis the period of the {@code inProgress} heartbeats of a running task
 */
public record AgentLink(Connect connect, JetStream js, JetStreamSubscription subscription, long maxDeliver, long heartbeatMillis) {

    /**
     * Connects agent {@code agent} to {@code server} (or with the caller's {@code options}, if not
     * null), sets up the pool's streams and consumer with {@code limits} unless they exist, and binds
     * to the consumer. A set-up that fails closes the connection it opened.
     *
     * @throws StreamUnavailableException if the server cannot be reached or refuses the set-up
     */
    public static AgentLink open(String agent, String server, Options options, Layout layout, Layout.Limits limits) {
        Connect connect;
        try {
            connect = Connect.open(server, options, "dualpipe-agent-" + agent);
        } catch (IOException e) {
            throw new StreamUnavailableException("agent " + agent + ": cannot connect to NATS at " + (options != null ? options.getServers() : server) + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StreamUnavailableException("agent " + agent + ": interrupted while connecting to NATS", e);
        }
        try {
            JetStream js = connect.connection().jetStream();
            layout.ensure(connect.connection().jetStreamManagement(), limits);
            ConsumerConfiguration cc = layout.agentsConsumer(connect.connection().jetStreamManagement()).getConsumerConfiguration();
            JetStreamSubscription subscription = js.subscribe(null, PullSubscribeOptions.bind(layout.taskStream(), Layout.AGENTS_CONSUMER));
            // the consumer has one delivery more than the user's bound (see Layout): that last one only fails the task
            long serverMax = cc.getMaxDeliver();
            long maxDeliver = serverMax <= 1 ? Long.MAX_VALUE : serverMax - 1;
            // a third of the ack wait: a heartbeat lost (a reconnect, a busy timer) is made good by the next in time
            long heartbeatMillis = Math.max(100, cc.getAckWait().toMillis() / 3);
            return new AgentLink(connect, js, subscription, maxDeliver, heartbeatMillis);
        } catch (IOException | JetStreamApiException | RuntimeException e) {
            Connect.closeQuietly(connect.connection());
            throw new StreamUnavailableException("agent " + agent + ": cannot set up pool \"" + layout.pool() + "\" on NATS: " + e.getMessage(), e);
        }
    }
}
