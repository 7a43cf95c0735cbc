package io.dualpipe.net.internal;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.EventLoopGroup;
import io.dualpipe.core.FdChannel;
import io.dualpipe.core.LoopClosedException;
import io.dualpipe.core.internal.CallbackFailureLog;
import io.dualpipe.core.internal.FdStream;
import io.dualpipe.core.internal.Futures;
import io.dualpipe.core.internal.Native;
import io.dualpipe.core.message.MessageChannel;
import io.dualpipe.core.message.Peer;
import io.dualpipe.core.message.internal.ChannelSettings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.channels.SelectionKey;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * A server's accepted connections: each placed on its loop (the server's, or a group's next one),
 * built there, and counted until it has closed, so the server knows when the last one is gone.
 *
 * <p>A connection is built, opened ({@code onOpen}) and forgotten ({@code onClose}) on its own loop,
 * so its callbacks share one thread with its handlers. With a group that thread is not the server's:
 * the set and the count of connections still on their way to their loop are concurrent, and whichever
 * thread sees the last of them go tells the server ({@code whenEmpty}).
 */
final class ServerConnections {
    private static final Logger LOG = LoggerFactory.getLogger(ServerConnections.class);
    private static final CallbackFailureLog FAILURES = new CallbackFailureLog();

    private final EventLoop home;
    private final EventLoopGroup group; // null: every connection on `home`
    private final ChannelSettings settings;
    private final Consumer<MessageChannel> onOpen;
    private final BiConsumer<MessageChannel, Throwable> onClose;
    private final BooleanSupplier accepting;
    private final Runnable whenEmpty;
    private final Set<MessageChannel> open = ConcurrentHashMap.newKeySet();
    /** Accepted and handed to their loop, not yet in {@code open}. */
    private final AtomicInteger settingUp = new AtomicInteger();

    ServerConnections(EventLoop home, EventLoopGroup group, ChannelSettings settings, Consumer<MessageChannel> onOpen,
                      BiConsumer<MessageChannel, Throwable> onClose, BooleanSupplier accepting, Runnable whenEmpty) {
        this.home = home;
        this.group = group;
        this.settings = settings;
        this.onOpen = onOpen;
        this.onClose = onClose;
        this.accepting = accepting;
        this.whenEmpty = whenEmpty;
    }

    /** The server's loop, for an accepted, admitted fd: serves it as a connection on its loop, or closes it. */
    void place(int fd, String name, Peer peer) {
        EventLoop target;
        try {
            target = group != null ? group.next() : home;
        } catch (LoopClosedException e) {
            Native.closeQuietly(fd);
            LOG.warn("{}: closed a new connection: {}", name, e.getMessage());
            return;
        }
        settingUp.incrementAndGet();
        try {
            target.runOnLoop(() -> open(target, fd, name, peer));
        } catch (LoopClosedException e) {
            settingUp.decrementAndGet();
            Native.closeQuietly(fd);
            LOG.warn("{}: closed a new connection: {}", name, e.getMessage());
        }
    }

    /**
     * On the connection's loop: its stream and channel, then onOpen, in one task, so that onOpen
     * runs before the loop reads any of its bytes, and on the thread its handlers will run on.
     */
    private void open(EventLoop target, int fd, String name, Peer peer) {
        MessageChannel channel;
        FdStream stream = null;
        try {
            stream = FdStream.duplex(target, new FdChannel(fd, SelectionKey.OP_READ | SelectionKey.OP_WRITE), name,
                    FdStream.DEFAULT_READ_LIMIT, FdStream.DEFAULT_HIGH_WATER, FdStream.DEFAULT_LOW_WATER);
            channel = settings.open(stream, stream, name, peer);
        } catch (RuntimeException e) {
            if (stream != null) {
                stream.close();
            } else {
                Native.closeQuietly(fd);
            }
            settingUp.decrementAndGet();
            tellIfEmpty();
            LOG.warn("{}: could not serve the connection", name, e);
            return;
        }
        // In `open` before it leaves `settingUp`: isEmpty() reads them in the other order, so it
        // never misses a connection that exists.
        open.add(channel);
        settingUp.decrementAndGet();
        if (!accepting.getAsBoolean()) {
            // The server stopped while the connection was on its way to this loop, and its close may
            // have missed it (not in `open` yet). Closed before the user heard of it: no onOpen, no onClose.
            open.remove(channel);
            channel.close();
            tellIfEmpty();
            return;
        }
        call(onOpen, channel);
        channel.closeFuture().whenComplete((v, e) -> onLoopOf(channel.loop(), () -> closed(channel, e)));
    }

    /** The connection's loop. */
    private void closed(MessageChannel channel, Throwable e) {
        if (!open.contains(channel)) {
            return;
        }
        Throwable cause = Futures.unwrap(e);
        try {
            onClose.accept(channel, cause);
        } catch (Throwable t) {
            FAILURES.threw(LOG, onClose, t, "{}: onClose callback threw", channel.name());
        }
        // Only after onClose: a connection on another loop that sees the set empty completes the
        // server's close, and close() must not return while this callback still runs.
        open.remove(channel);
        tellIfEmpty();
    }

    private void tellIfEmpty() {
        if (!accepting.getAsBoolean() && isEmpty()) {
            whenEmpty.run();
        }
    }

    /** No connection open or on its way. Any thread. */
    boolean isEmpty() {
        return settingUp.get() == 0 && open.isEmpty();
    }

    /** The open connections, a snapshot. Any thread. */
    List<MessageChannel> snapshot() {
        return List.copyOf(open);
    }

    private static void call(Consumer<MessageChannel> callback, MessageChannel channel) {
        try {
            callback.accept(channel);
        } catch (Throwable t) {
            FAILURES.threw(LOG, callback, t, "{}: onOpen callback threw", channel.name());
        }
    }

    /** Runs {@code r} on {@code target}, or, once it is closing, after it has ended (nothing else then touches the state). */
    static void onLoopOf(EventLoop target, Runnable r) {
        try {
            target.runOnLoop(r);
        } catch (LoopClosedException e) {
            target.terminationFuture().whenComplete((v, t) -> r.run());
        }
    }
}
