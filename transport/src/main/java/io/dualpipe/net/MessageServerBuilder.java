package io.dualpipe.net;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.EventLoopGroup;
import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.codec.CodecRegistry;
import io.dualpipe.core.message.MessageChannel;
import io.dualpipe.core.message.MessageErrorListener;
import io.dualpipe.core.message.MessageHandler;
import io.dualpipe.core.message.Peer;
import io.dualpipe.core.message.internal.ChannelSettings;
import io.dualpipe.net.internal.DefaultMessageServer;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * Configures a {@link MessageServer} and binds it. The handlers, limits and callbacks apply to every
 * connection the server accepts.
 *
 * <p>Not thread-safe: configure it on one thread. Each {@code bind} starts a new server with the
 * settings of that moment.
 */
public final class MessageServerBuilder {
    private final ChannelSettings.Builder settings;
    private EventLoop loop;
    private EventLoopGroup group;
    private Consumer<MessageChannel> onOpen = c -> { };
    private BiConsumer<MessageChannel, Throwable> onClose = (c, e) -> { };
    private Consumer<Peer> onReject = p -> { };
    private int[] allowedUids;
    private int socketMode = 0600;
    private int backlog = 1024;
    private Duration acceptBackoff = Duration.ofMillis(100);

    MessageServerBuilder(CodecRegistry codecs) {
        this.settings = ChannelSettings.builder(codecs);
    }

    /**
     * The loop to serve the server: its listening socket, and its connections unless a
     * {@link #group} spreads them. Default {@link EventLoop#shared()}, or with a group the group's
     * {@code next()} loop, taken at {@code bind}.
     *
     * @param eventLoop the loop, not null
     * @return this builder
     */
    public MessageServerBuilder loop(EventLoop eventLoop) {
        this.loop = InvalidArgumentException.requireNonNull("loop", eventLoop);
        return this;
    }

    /**
     * Spreads the connections over {@code group}: each accepted connection is placed on
     * {@code group.next()} and served there for life, so the handlers, {@code onOpen} and
     * {@code onClose} of one connection always run on one thread, while different connections run on
     * different threads at once (state they share needs its own synchronisation). The listening
     * socket stays on {@link #loop} if one is given, else on a loop of the group. Default: no group,
     * every connection on the server's loop.
     *
     * @param loops the group, not null
     * @return this builder
     */
    public MessageServerBuilder group(EventLoopGroup loops) {
        this.group = InvalidArgumentException.requireNonNull("group", loops);
        return this;
    }

    /**
     * The largest body accepted from a client, and sent to one. Default 16 MiB.
     *
     * @param bytes the limit, {@code > 0}
     * @return this builder
     */
    public MessageServerBuilder maxFrameSize(int bytes) {
        settings.maxFrameSize(bytes);
        return this;
    }

    /**
     * Each connection's backpressure marks (see {@link MessageChannel#isWritable()}). Default 32/64 KiB.
     *
     * @param low  the low water mark, 0 to {@code high}
     * @param high the high water mark, {@code > 0}
     * @return this builder
     */
    public MessageServerBuilder writeWaterMarks(int low, int high) {
        settings.writeWaterMarks(low, high);
        return this;
    }

    /**
     * How long a connection waits for its client to take any of its queued bytes before it closes
     * with a {@link io.dualpipe.core.message.PeerStalledException}: when the client's held requests
     * have filled the connection's backlog, and during {@link MessageServer#stop()} (see
     * {@link io.dualpipe.core.message.MessageChannelBuilder#stallTimeout}, which says how slow a
     * reader still counts as reading). Default 10 s.
     *
     * @param timeout the wait, positive
     * @return this builder
     */
    public MessageServerBuilder stallTimeout(Duration timeout) {
        settings.stallTimeout(timeout);
        return this;
    }

    /**
     * Routes messages of {@code type} on every connection to {@code handler} (see {@link MessageChannel#handle}).
     *
     * @param <T>          the class the handler takes
     * @param type         the type byte, 1..255
     * @param messageClass what the handler takes
     * @param handler      called on the connection's loop thread for each such message
     * @return this builder
     * @throws InvalidArgumentException as {@link MessageChannel#handle} does
     */
    public <T> MessageServerBuilder handle(int type, Class<T> messageClass, MessageHandler<? super T> handler) {
        settings.handle(type, messageClass, handler);
        return this;
    }

    /**
     * Takes every message whose type has no handler of its own, on every connection.
     *
     * @param handler called on the connection's loop thread for each such message
     * @return this builder
     */
    public MessageServerBuilder handleAny(MessageHandler<Object> handler) {
        settings.handleAny(handler);
        return this;
    }

    /**
     * Hears about undeliverable messages on any connection. Default: log at WARN.
     *
     * @param listener called on the connection's loop thread, not null
     * @return this builder
     */
    public MessageServerBuilder onError(MessageErrorListener listener) {
        settings.onError(listener);
        return this;
    }

    /**
     * Called on the connection's loop for each accepted connection, before any of its messages is handled.
     * What it throws is logged (WARN, at most 20 times a minute per callback class; the rest at DEBUG).
     *
     * @param callback the callback, not null
     * @return this builder
     */
    public MessageServerBuilder onOpen(Consumer<MessageChannel> callback) {
        this.onOpen = InvalidArgumentException.requireNonNull("onOpen", callback);
        return this;
    }

    /**
     * Called on the connection's loop when a connection has closed, with null for an orderly close (either side,
     * or the server's) or what broke it (a {@link io.dualpipe.core.codec.ProtocolException}, an I/O error,
     * a {@link io.dualpipe.core.message.PeerStalledException}).
     * What it throws is logged (WARN, at most 20 times a minute per callback class; the rest at DEBUG).
     *
     * @param callback the callback, not null
     * @return this builder
     */
    public MessageServerBuilder onClose(BiConsumer<MessageChannel, Throwable> callback) {
        this.onClose = InvalidArgumentException.requireNonNull("onClose", callback);
        return this;
    }

    /**
     * Called on the server's loop with the credentials of each client the allow-list turned away.
     * What it throws is logged (WARN, at most 20 times a minute per callback class; the rest at DEBUG).
     *
     * @param callback the callback, not null
     * @return this builder
     */
    public MessageServerBuilder onReject(Consumer<Peer> callback) {
        this.onReject = InvalidArgumentException.requireNonNull("onReject", callback);
        return this;
    }

    /**
     * Unix sockets only: accept only clients running as one of these uids; others are closed right
     * after accept, and logged. Default: anyone who can open the socket file.
     *
     * @param uids the uids allowed
     * @return this builder
     * @throws InvalidArgumentException if empty (that would turn every client away)
     */
    public MessageServerBuilder allowUids(int... uids) {
        InvalidArgumentException.requireNonNull("uids", uids);
        if (uids.length == 0) {
            throw new InvalidArgumentException("allowUids is empty: it would reject every client");
        }
        int[] sorted = uids.clone();
        Arrays.sort(sorted);
        this.allowedUids = sorted;
        return this;
    }

    /**
     * Permission bits of the socket file (connecting needs write permission). Default 0600: the owner only.
     *
     * @param mode the bits, 0 to 0777 (write them in octal)
     * @return this builder
     */
    public MessageServerBuilder socketMode(int mode) {
        if (mode < 0 || mode > 0777) {
            throw new InvalidArgumentException("socketMode not in 0..0777: 0" + Integer.toOctalString(mode));
        }
        this.socketMode = mode;
        return this;
    }

    /**
     * The listen backlog: connections the kernel holds while the loop has not accepted them. Default 1024.
     *
     * @param connections the backlog, {@code > 0}
     * @return this builder
     */
    public MessageServerBuilder backlog(int connections) {
        this.backlog = InvalidArgumentException.requirePositive("backlog", connections);
        return this;
    }

    /**
     * How long accepting pauses when the process is out of file descriptors. Default 100 ms. A delay
     * too long to count in nanoseconds (over 292 years) pauses forever.
     *
     * @param delay the pause, positive
     * @return this builder
     */
    public MessageServerBuilder acceptBackoff(Duration delay) {
        InvalidArgumentException.requireNonNull("acceptBackoff", delay);
        if (delay.isNegative() || delay.isZero()) {
            throw new InvalidArgumentException("acceptBackoff <= 0: " + delay);
        }
        this.acceptBackoff = delay;
        return this;
    }

    /**
     * Binds a Unix socket at {@code socketFile} and starts accepting.
     *
     * <p>A socket file left by a dead server (a connect to it is refused) is removed first. Checking,
     * removing, binding and listening are separate steps, and a server's file refuses connects
     * between its bind and its listen, so this is safe against dead servers and live ones, but not
     * against two servers starting on the same path at the same moment (in one process or two): one
     * may take the other's file for stale and remove it, and both then bind without an error, the
     * first one listening on a file nobody can reach any more. Start one server per path, or
     * serialise their starts yourself (a lock file, a supervisor).
     *
     * @param socketFile where to create the socket file
     * @return the accepting server
     * @throws AddressInUseException if a live server has the path, or it is not a socket file
     * @throws io.dualpipe.core.NativeIoException if the socket cannot be created there (EACCES, a missing directory...)
     * @throws InvalidArgumentException if the path is longer than a socket address holds (107 bytes)
     */
    public MessageServer bind(Path socketFile) {
        return bind(UnixDomainSocketAddress.of(InvalidArgumentException.requireNonNull("socketFile", socketFile)));
    }

    /**
     * Binds TCP on the loopback interface; port 0 picks a free one ({@link MessageServer#localAddress()} tells which).
     *
     * @param port the port, 0..65535
     * @return the accepting server
     * @throws AddressInUseException if the port is taken
     * @throws InvalidArgumentException if {@code port} is not in 0..65535
     */
    public MessageServer bindTcp(int port) {
        if (port < 0 || port > 65535) {
            throw new InvalidArgumentException("port not in 0..65535: " + port);
        }
        return bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
    }

    /**
     * Binds a {@link UnixDomainSocketAddress} or an {@link InetSocketAddress}, and starts accepting.
     *
     * @param address the address
     * @return the accepting server
     * @throws AddressInUseException if the address is taken
     * @throws InvalidArgumentException if {@link #allowUids} was set and the address is not a Unix socket
     */
    public MessageServer bind(SocketAddress address) {
        if (allowedUids != null && !(address instanceof UnixDomainSocketAddress)) {
            throw new InvalidArgumentException("allowUids needs a Unix socket: TCP peers have no uid (" + address + ")");
        }
        return DefaultMessageServer.bind(this, settings.build(), address);
    }

    // ---- read by the implementation ----
    /**
     * {@return the listening socket's loop} With a group and no loop, each call takes the group's
     * {@code next()}.
     */
    public EventLoop loop() {
        return loop != null ? loop : group != null ? group.next() : EventLoop.shared();
    }

    /** {@return the group connections are spread over, or null: all on the server's loop} */
    public EventLoopGroup group() {
        return group;
    }

    /** {@return the open callback (a no-op by default)} */
    public Consumer<MessageChannel> onOpen() {
        return onOpen;
    }

    /** {@return the close callback (a no-op by default)} */
    public BiConsumer<MessageChannel, Throwable> onClose() {
        return onClose;
    }

    /** {@return the reject callback (a no-op by default)} */
    public Consumer<Peer> onReject() {
        return onReject;
    }

    /** {@return a sorted copy of the allowed uids, or null when every uid is allowed} */
    public int[] allowedUids() {
        return allowedUids == null ? null : allowedUids.clone();
    }

    /** {@return the socket file's permission bits} */
    public int socketMode() {
        return socketMode;
    }

    /** {@return the listen backlog} */
    public int backlog() {
        return backlog;
    }

    /** {@return how long accepting pauses when out of file descriptors} */
    public Duration acceptBackoff() {
        return acceptBackoff;
    }
}
