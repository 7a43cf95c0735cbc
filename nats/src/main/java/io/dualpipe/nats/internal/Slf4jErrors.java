package io.dualpipe.nats.internal;

import io.dualpipe.core.internal.LogLimiter;
import io.nats.client.Connection;
import io.nats.client.Consumer;
import io.nats.client.ErrorListener;
import io.nats.client.JetStreamSubscription;
import io.nats.client.support.Status;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;

/**
 * The NATS client's error reports through SLF4J instead of its default java.util.logging output.
 * Heartbeat alarms of finished fetches (the client reports them after a short pull has expired)
 * and pull statuses are routine here: the pulling loop pulls again. Stateless.
 */
final class Slf4jErrors implements ErrorListener {
    private static final Logger LOG = LoggerFactory.getLogger("io.dualpipe.nats.client");
    // A publisher's flood makes a consumer slow, again and again; a server may repeat one error per
    // publish: bounded per connection and error text.
    private static final LogLimiter SERVER_ERRORS_LOGGED = new LogLimiter(20, Duration.ofMinutes(1));
    private static final LogLimiter SLOW_CONSUMERS_LOGGED = new LogLimiter(20, Duration.ofMinutes(1));
    private final String name;

    Slf4jErrors(String name) {
        this.name = name;
    }

    @Override
    public void errorOccurred(Connection conn, String error) {
        long notLogged = SERVER_ERRORS_LOGGED.acquire(name + ": " + error);
        if (notLogged >= 0) {
            LOG.warn("{}: server error: {}{}", name, error, LogLimiter.note(notLogged));
        } else {
            LOG.debug("{}: server error: {}", name, error);
        }
    }

    @Override
    public void exceptionOccurred(Connection conn, Exception exp) {
        LOG.debug("{}: {}", name, exp.toString());
    }

    @Override
    public void slowConsumerDetected(Connection conn, Consumer consumer) {
        long notLogged = SLOW_CONSUMERS_LOGGED.acquire(name);
        if (notLogged >= 0) {
            LOG.warn("{}: slow consumer: messages dropped by the client{}", name, LogLimiter.note(notLogged));
        } else {
            LOG.debug("{}: slow consumer: messages dropped by the client", name);
        }
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
