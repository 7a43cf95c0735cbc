package io.dualpipe.nats.internal;

import io.nats.client.Connection;
import io.nats.client.Consumer;
import io.nats.client.ErrorListener;
import io.nats.client.JetStreamSubscription;
import io.nats.client.support.Status;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The NATS client's error reports through SLF4J instead of its default java.util.logging output.
 * Heartbeat alarms of finished fetches (the client reports them after a short pull has expired)
 * and pull statuses are routine here: the pulling loop pulls again. Stateless.
 */
final class Slf4jErrors implements ErrorListener {
    private static final Logger LOG = LoggerFactory.getLogger("io.dualpipe.nats.client");
    private final String name;

    Slf4jErrors(String name) {
        this.name = name;
    }

    @Override
    public void errorOccurred(Connection conn, String error) {
        LOG.warn("{}: server error: {}", name, error);
    }

    @Override
    public void exceptionOccurred(Connection conn, Exception exp) {
        LOG.debug("{}: {}", name, exp.toString());
    }

    @Override
    public void slowConsumerDetected(Connection conn, Consumer consumer) {
        LOG.warn("{}: slow consumer: messages dropped by the client", name);
    }

    @Override
    public void heartbeatAlarm(Connection conn, JetStreamSubscription sub, long lastStreamSequence, long lastConsumerSequence) {
        LOG.debug("{}: heartbeat alarm on a pull (stream seq {})", name, lastStreamSequence);
    }

    @Override
    public void pullStatusWarning(Connection conn, JetStreamSubscription sub, Status status) {
        LOG.debug("{}: pull status {}", name, status);
    }

    @Override
    public void pullStatusError(Connection conn, JetStreamSubscription sub, Status status) {
        LOG.debug("{}: pull status {}", name, status);
    }

    @Override
    public void unhandledStatus(Connection conn, JetStreamSubscription sub, Status status) {
        LOG.debug("{}: status {}", name, status);
    }
}
