package io.dualpipe.net;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.codec.CodecRegistry;
import io.dualpipe.core.message.MessageErrorListener;
import io.dualpipe.core.message.MessageHandler;
import io.dualpipe.core.message.internal.ChannelSettings;
import io.dualpipe.net.internal.DefaultMessageClient;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Configures a {@link MessageClient} and connects it.
 *
 * <p>Not thread-safe: configure it on one thread. Each {@code connect} makes a new client with the
 * settings of that moment.
 */
public final class MessageClientBuilder {
    private final ChannelSettings.Builder settings;
    private EventLoop loop;
    private int attempts = 1;
    private Duration retryDelay = Duration.ofMillis(100);
    private Duration connectTimeout = Duration.ofSeconds(10);
    private boolean reconnect;

    MessageClientBuilder(CodecRegistry codecs) {
        this.settings = ChannelSettings.builder(codecs);
    }

    /**
     * The loop to serve the connection. Default {@link EventLoop#shared()}.
     *
     * @param eventLoop the loop, not null
     * @return this builder
     */
    public MessageClientBuilder loop(EventLoop eventLoop) {
        this.loop = InvalidArgumentException.requireNonNull("loop", eventLoop);
        return this;
    }

    /**
     * The largest body accepted from the server, and sent to it. Default 16 MiB.
     *
     * @param bytes the limit, {@code > 0}
     * @return this builder
     */
    public MessageClientBuilder maxFrameSize(int bytes) {
        settings.maxFrameSize(bytes);
        return this;
    }

    /**
     * Backpressure marks (see {@link io.dualpipe.core.message.MessageChannel#isWritable()}). Default 32/64 KiB.
     *
     * @param low  the low water mark, 0 to {@code high}
     * @param high the high water mark, {@code > 0}
     * @return this builder
     */
    public MessageClientBuilder writeWaterMarks(int low, int high) {
        settings.writeWaterMarks(low, high);
        return this;
    }

    /**
     * How long the client's connection waits for the server to take any of its queued bytes before
     * it closes with a {@link io.dualpipe.core.message.PeerStalledException}: when the server's held
     * requests have filled the connection's backlog, and during
     * {@link io.dualpipe.core.message.MessageChannel#closeGracefully()} (see
     * {@link io.dualpipe.core.message.MessageChannelBuilder#stallTimeout}, which says how slow a
     * reader still counts as reading). Default 10 s.
     *
     * @param timeout the wait, positive
     * @return this builder
     */
    public MessageClientBuilder stallTimeout(Duration timeout) {
        settings.stallTimeout(timeout);
        return this;
    }

    /**
     * Handles messages of {@code type} the server pushes (see {@link io.dualpipe.core.message.MessageChannel#handle}).
     *
     * @param <T>          the class the handler takes
     * @param type         the type byte, 1..255
     * @param messageClass what the handler takes
     * @param handler      called on the loop thread for each such message
     * @return this builder
     * @throws InvalidArgumentException as {@link io.dualpipe.core.message.MessageChannel#handle} does
     */
    public <T> MessageClientBuilder handle(int type, Class<T> messageClass, MessageHandler<? super T> handler) {
        settings.handle(type, messageClass, handler);
        return this;
    }

    /**
     * Handles pushed messages whose type has no handler of its own.
     *
     * @param handler called on the loop thread for each such message
     * @return this builder
     */
    public MessageClientBuilder handleAny(MessageHandler<Object> handler) {
        settings.handleAny(handler);
        return this;
    }

    /**
     * Hears about undeliverable pushed messages. Default: log at WARN.
     *
     * @param listener called on the loop thread, not null
     * @return this builder
     */
    public MessageClientBuilder onError(MessageErrorListener listener) {
        settings.onError(listener);
        return this;
    }

    /**
     * Tries up to {@code attempts} times while the server refuses (not listening yet, no socket file
     * yet), waiting {@code delay} between tries. Default: 1 attempt. A delay too long to count in
     * nanoseconds (over 292 years) waits forever.
     *
     * @param attempts how many connects to try, {@code > 0}
     * @param delay    the pause between them, {@code >= 0}
     * @return this builder
     */
    public MessageClientBuilder retry(int attempts, Duration delay) {
        this.attempts = InvalidArgumentException.requirePositive("attempts", attempts);
        InvalidArgumentException.requireNonNull("delay", delay);
        if (delay.isNegative()) {
            throw new InvalidArgumentException("retry delay < 0: " + delay);
        }
        this.retryDelay = delay;
        return this;
    }

    /**
     * How long one connect may take (a TCP handshake, a full Unix backlog). Default 10 s. A timeout
     * too long to count in nanoseconds (over 292 years) never expires.
     *
     * @param timeout the limit per connect, positive
     * @return this builder
     */
    public MessageClientBuilder connectTimeout(Duration timeout) {
        InvalidArgumentException.requireNonNull("connectTimeout", timeout);
        if (timeout.isNegative() || timeout.isZero()) {
            throw new InvalidArgumentException("connectTimeout <= 0: " + timeout);
        }
        this.connectTimeout = timeout;
        return this;
    }

    /**
     * After the connection drops, reconnect on the next send or request (see {@link MessageClient}).
     * Default off: the client is then done once disconnected.
     *
     * @param on true to reconnect
     * @return this builder
     */
    public MessageClientBuilder reconnect(boolean on) {
        this.reconnect = on;
        return this;
    }

    /**
     * Connects to the Unix socket at {@code socketFile}, as {@link #connect(SocketAddress)}.
     *
     * @param socketFile the server's socket file
     * @return the connected client
     */
    public LoopFuture<MessageClient> connect(Path socketFile) {
        return connect(UnixDomainSocketAddress.of(InvalidArgumentException.requireNonNull("socketFile", socketFile)));
    }

    /**
     * Connects over TCP to {@code port} on the loopback interface, as {@link #connect(SocketAddress)}.
     *
     * @param port the server's port, 1..65535
     * @return the connected client
     * @throws InvalidArgumentException if {@code port} is not in 1..65535
     */
    public LoopFuture<MessageClient> connectTcp(int port) {
        if (port < 1 || port > 65535) {
            throw new InvalidArgumentException("port not in 1..65535: " + port);
        }
        return connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
    }

    /**
     * Connects to a {@link UnixDomainSocketAddress} or an {@link InetSocketAddress}. The future fails
     * with a {@link ConnectionRefusedException} or {@link ConnectTimeoutException} once the attempts
     * are used up.
     *
     * @param address the server's address
     * @return the connected client
     */
    public LoopFuture<MessageClient> connect(SocketAddress address) {
        return DefaultMessageClient.connect(this, settings.build(), address);
    }

    // ---- read by the implementation ----
    /** {@return the loop set, or {@link EventLoop#shared()}} */
    public EventLoop loop() {
        return loop != null ? loop : EventLoop.shared();
    }

    /** {@return how many connects are tried} */
    public int attempts() {
        return attempts;
    }

    /** {@return the pause between connects} */
    public Duration retryDelay() {
        return retryDelay;
    }

    /** {@return the limit per connect} */
    public Duration connectTimeout() {
        return connectTimeout;
    }

    /** {@return whether the client reconnects after the connection drops} */
    public boolean reconnect() {
        return reconnect;
    }
}
