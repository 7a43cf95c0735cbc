package io.dualpipe.net.internal;

import io.dualpipe.core.ChannelClosedException;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopClosedException;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.internal.FdStream;
import io.dualpipe.core.internal.Futures;
import io.dualpipe.core.message.MessageChannel;
import io.dualpipe.core.message.internal.ChannelSettings;
import io.dualpipe.net.MessageClient;
import io.dualpipe.net.MessageClientBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.SocketAddress;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The {@link MessageClient}: one {@link MessageChannel} at a time over a connected socket, and, with
 * reconnect on, a queue of operations that wait for the next connection.
 *
 * <p>{@code lock} guards the current channel, the connect in progress and the waiting queue. An
 * operation goes straight to an open channel when nothing waits; otherwise it joins the queue, which
 * the connect's completion drains in order while holding the lock, so a send made after the
 * connection is up can never overtake one queued before it.
 */
public final class DefaultMessageClient implements MessageClient {
    private static final Logger LOG = LoggerFactory.getLogger(DefaultMessageClient.class);

    private final EventLoop loop;
    private final ChannelSettings settings;
    private final SocketAddress address;
    private final String text;
    private final int attempts;
    private final Duration retryDelay;
    private final Duration connectTimeout;
    private final boolean reconnect;

    private final Object lock = new Object();
    private volatile MessageChannel channel;    // the latest connection, open or not; written under lock
    private volatile boolean queueing;          // operations wait for a connection; written under lock
    private boolean draining;                   // queued operations are being run outside the lock; guarded by lock
    private Connector connecting;               // in progress, or null
    private final ArrayDeque<Waiting<?>> waiting = new ArrayDeque<>();
    /** Operations that may wait for a (re)connection before further ones fail at once. */
    static final int MAX_WAITING = 65_536;
    private boolean closed;
    private int connections;

    private DefaultMessageClient(MessageClientBuilder b, ChannelSettings settings, SocketAddress address) {
        this.loop = b.loop();
        this.settings = settings;
        this.address = address;
        this.text = Sockets.describe(address);
        this.attempts = b.attempts();
        this.retryDelay = b.retryDelay();
        this.connectTimeout = b.connectTimeout();
        this.reconnect = b.reconnect();
    }

    public static LoopFuture<MessageClient> connect(MessageClientBuilder b, ChannelSettings settings, SocketAddress requested) {
        Sockets.requireSupported();
        DefaultMessageClient client = new DefaultMessageClient(b, settings, Sockets.validate(requested));
        LoopFuture<MessageClient> f = new LoopFuture<>();
        client.withChannel(ch -> LoopFuture.completed((Void) null)).whenComplete((v, e) -> {
            if (e != null) {
                f.completeExceptionally(Futures.unwrap(e));
            } else if (!f.complete(client)) {
                client.close(); // the caller gave up on it: nobody else can ever close this connection
            }
        });
        f.whenComplete((c, e) -> {
            if (f.isCancelled()) {
                client.close(); // stops the retries too
            }
        });
        return f;
    }

    // =========================================================================================
    // Operations
    // =========================================================================================

    // Each operation tries the open channel first (two volatile reads, no lock, no lambda); the
    // queue is for the moments without one.

    @Override
    public LoopFuture<Void> send(Object message) {
        MessageChannel ch = open();
        return ch != null ? ch.send(message) : withChannel(c -> c.send(message));
    }

    @Override
    public LoopFuture<Void> send(int type, Object message) {
        MessageChannel ch = open();
        return ch != null ? ch.send(type, message) : withChannel(c -> c.send(type, message));
    }

    @Override
    public LoopFuture<Object> request(Object message) {
        MessageChannel ch = open();
        return ch != null ? ch.request(message) : withChannel(c -> c.request(message));
    }

    @Override
    public <R> LoopFuture<R> request(Object message, Class<R> replyClass) {
        MessageChannel ch = open();
        return ch != null ? ch.request(message, replyClass) : withChannel(c -> c.request(message, replyClass));
    }

    @Override
    public <R> LoopFuture<R> request(int type, Object message, Class<R> replyClass, Duration timeout) {
        MessageChannel ch = open();
        return ch != null ? ch.request(type, message, replyClass, timeout) : withChannel(c -> c.request(type, message, replyClass, timeout));
    }

    /**
     * The connection, if it is open and nothing waits for one. A thread whose earlier operation is
     * queued sees {@code queueing} (set before that operation returned), so it cannot overtake it.
     */
    private MessageChannel open() {
        MessageChannel ch = channel;
        return ch != null && !queueing && ch.isOpen() ? ch : null;
    }

    /** Runs {@code op} on the open channel, or queues it for the next connection (starting one if allowed). */
    private <T> LoopFuture<T> withChannel(Function<MessageChannel, LoopFuture<T>> op) {
        MessageChannel ch;
        synchronized (lock) {
            ch = channel;
            boolean usable = ch != null && ch.isOpen();
            if (!usable || !waiting.isEmpty() || draining) {
                if (closed) {
                    return LoopFuture.failed(new ChannelClosedException("client of " + text + " is closed"));
                }
                if (!usable && ch != null && !reconnect && connecting == null) {
                    return LoopFuture.failed(new ChannelClosedException("client of " + text
                            + " is disconnected and reconnect is off"));
                }
                if (waiting.size() >= MAX_WAITING) {
                    // A server that stays away must not turn a busy sender into an unbounded queue.
                    return LoopFuture.failed(new ChannelClosedException("client of " + text + ": " + waiting.size()
                            + " operations already wait for a connection (limit " + MAX_WAITING + ")"));
                }
                Waiting<T> w = new Waiting<>(op);
                waiting.add(w);
                queueing = true;
                if (!usable && connecting == null) {
                    startConnect();
                }
                return w.result;
            }
        }
        return op.apply(ch);
    }

    /** Under lock. */
    private void startConnect() {
        Connector c = Connector.start(loop, address, attempts, retryDelay, connectTimeout);
        connecting = c;
        c.result().whenComplete((conn, e) -> connectDone(c, conn, e));
    }

    private void connectDone(Connector c, Connector.Connected conn, Throwable error) {
        List<Waiting<?>> failed = null;
        List<Waiting<?>> toRun = null;
        MessageChannel opened = null;
        MessageChannel orphan = null;
        Throwable cause = Futures.unwrap(error);
        synchronized (lock) {
            if (connecting == c) {
                connecting = null;
            }
            if (cause == null && closed) {
                cause = new ChannelClosedException("client of " + text + " was closed while connecting");
                orphan = open(conn);
            }
            if (cause != null) {
                failed = new ArrayList<>(waiting);
                waiting.clear();
                queueing = false;
            } else {
                opened = open(conn);
                channel = opened;
                // Run outside the lock (they may complete callers' futures inline); `draining` keeps
                // operations made meanwhile queued behind these, so order is kept.
                toRun = new ArrayList<>(waiting);
                waiting.clear();
                draining = true;
            }
        }
        if (orphan != null) {
            orphan.close();
        }
        while (toRun != null) {
            for (Waiting<?> w : toRun) {
                w.run(opened);
            }
            synchronized (lock) {
                if (waiting.isEmpty()) {
                    draining = false;
                    queueing = false;
                    toRun = null;
                } else {
                    toRun = new ArrayList<>(waiting);
                    waiting.clear();
                }
            }
        }
        if (failed != null) {
            LOG.debug("client of {}: connect failed: {}", text, cause.getMessage());
            for (Waiting<?> w : failed) {
                w.result.completeExceptionally(cause);
            }
        }
    }

    private MessageChannel open(Connector.Connected conn) {
        String name = "client#" + (++connections) + " of " + text;
        FdStream stream = FdStream.duplex(loop, conn.channel(), name, FdStream.DEFAULT_READ_LIMIT,
                FdStream.DEFAULT_HIGH_WATER, FdStream.DEFAULT_LOW_WATER);
        MessageChannel ch = settings.open(stream, stream, name, conn.peer());
        ch.closeFuture().whenComplete((v, e) -> {
            if (!isClosed()) {
                LOG.info("{}: disconnected{}", name, e == null ? "" : " (" + e.getMessage() + ")");
            }
        });
        return ch;
    }

    private boolean isClosed() {
        synchronized (lock) {
            return closed;
        }
    }

    // =========================================================================================
    // State
    // =========================================================================================

    @Override
    public SocketAddress remoteAddress() {
        return address;
    }

    @Override
    public MessageChannel channel() {
        synchronized (lock) {
            if (channel != null && channel.isOpen()) {
                return channel;
            }
            throw new ChannelClosedException("client of " + text + (closed ? " is closed" : " is not connected"));
        }
    }

    @Override
    public boolean isConnected() {
        synchronized (lock) {
            return channel != null && channel.isOpen();
        }
    }

    @Override
    public void close() {
        MessageChannel ch;
        Connector c;
        List<Waiting<?>> failed;
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            ch = channel;
            c = connecting;
            failed = new ArrayList<>(waiting);
            waiting.clear();
            queueing = false;
            draining = false;
        }
        if (c != null) {
            c.cancel();
        }
        if (!failed.isEmpty()) {
            // Futures complete on the loop thread (MessageClient's promise), unless there is none any more.
            Runnable fail = () -> {
                ChannelClosedException e = new ChannelClosedException("client of " + text + " was closed");
                for (Waiting<?> w : failed) {
                    w.result.completeExceptionally(e);
                }
            };
            try {
                loop.runOnLoop(fail);
            } catch (LoopClosedException closedLoop) {
                fail.run();
            }
        }
        if (ch != null) {
            ch.close();
        }
    }

    @Override
    public String toString() {
        return "MessageClient[" + text + "]";
    }

    /** An operation waiting for a connection, and the future its caller holds. */
    private static final class Waiting<T> {
        final Function<MessageChannel, LoopFuture<T>> op;
        final LoopFuture<T> result = new LoopFuture<>();

        Waiting(Function<MessageChannel, LoopFuture<T>> op) {
            this.op = op;
        }

        void run(MessageChannel ch) {
            LoopFuture<T> f;
            try {
                f = op.apply(ch);
            } catch (RuntimeException e) {
                result.completeExceptionally(e);
                return;
            }
            f.whenComplete((v, e) -> {
                if (e != null) {
                    result.completeExceptionally(Futures.unwrap(e));
                } else {
                    result.complete(v);
                }
            });
        }
    }
}
