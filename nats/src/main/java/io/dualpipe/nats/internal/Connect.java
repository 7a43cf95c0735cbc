package io.dualpipe.nats.internal;

import io.nats.client.Connection;
import io.nats.client.ConnectionListener;
import io.nats.client.Nats;
import io.nats.client.Options;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;

/**
 * Opens a NATS connection that reconnects for ever (a restarted server is found again, the
 * client's subscriptions renewed) and lets a thread wait, bounded, until it is connected again.
 * Thread-safe.
 */
public final class Connect {
    private static final Logger LOG = LoggerFactory.getLogger(Connect.class);
    private final Object lock = new Object();
    private Connection connection;
    private volatile Runnable onReconnect = () -> { };

    private Connect() {
    }

    /**
     * Connects with {@code base} (a caller's options, or null) to {@code server}, reconnecting for
     * ever every {@code reconnectWait}; {@code name} names the connection in the server's monitoring.
     */
    public static Connect open(String server, Options base, String name) throws IOException, InterruptedException {
        Connect c = new Connect();
        Options.Builder b = base != null ? new Options.Builder(base) : new Options.Builder().server(server);
        if (base == null) {
            b.maxReconnects(-1).reconnectWait(Duration.ofMillis(100)).connectionTimeout(Duration.ofSeconds(2))
                    .errorListener(new Slf4jErrors(name));
        }
        ConnectionListener user = base != null ? base.getConnectionListener() : null;
        b.connectionName(name).connectionListener((conn, event) -> {
            LOG.debug("{}: {}", name, event);
            synchronized (c.lock) {
                c.lock.notifyAll();
            }
            if (event == ConnectionListener.Events.RECONNECTED) {
                c.onReconnect.run();
            }
            if (user != null) {
                user.connectionEvent(conn, event);
            }
        });
        c.connection = Nats.connect(b.build());
        return c;
    }

    public Connection connection() {
        return connection;
    }

    /** Runs {@code r} on the client's connection-event thread after each reconnection; it must not block. */
    public void onReconnect(Runnable r) {
        this.onReconnect = r;
    }

    /**
     * Closes {@code c}, for a side that gives up (a failed set-up, a stop): nothing is left to tell the
     * caller, and an interrupt is kept for the caller's thread to see.
     */
    public static void closeQuietly(Connection c) {
        try {
            c.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Waits until the connection is up (true) or closed (false), at most {@code timeout}. */
    public boolean awaitConnected(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (lock) {
            while (true) {
                Connection.Status s = connection.getStatus();
                if (s == Connection.Status.CONNECTED) {
                    return true;
                }
                if (s == Connection.Status.CLOSED) {
                    return false;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                lock.wait(Math.max(1, left / 1_000_000));
            }
        }
    }
}
