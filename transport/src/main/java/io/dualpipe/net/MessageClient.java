package io.dualpipe.net;

import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.codec.CodecRegistry;
import io.dualpipe.core.message.MessageChannel;

import java.net.SocketAddress;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A connection to a {@link MessageServer}, typically from a child process: send messages and
 * requests, and handle what the server pushes (handlers from the builder).
 *
 * <pre>{@code
 * MessageClient client = MessageClient.builder(codecs)
 *         .retry(10, Duration.ofMillis(100))   // the server may still be starting
 *         .connect(Path.of("/run/app.sock")).get();
 * client.send(Map.of("hello", "world"));
 * }</pre>
 *
 * <p><b>When the server is gone.</b> Connecting fails with a {@link ConnectionRefusedException}
 * (ECONNREFUSED: nothing listens; ENOENT: no socket file) after the configured attempts, at once
 * if the path is not a socket file. Once connected, if the connection drops, every pending request
 * fails with a {@link io.dualpipe.core.ChannelClosedException}. Without a reconnect policy later sends fail the
 * same way. With {@link MessageClientBuilder#reconnect(boolean) reconnect} on, the next send or
 * request reconnects (with the same retry policy); frames sent meanwhile wait, in order, and go out
 * once connected, or fail with the connect error. Nothing is resent: a request that was pending when
 * the connection dropped has failed and stays failed.
 *
 * <p><b>Threading.</b> Every method is thread-safe; futures complete and handlers run on the loop
 * thread. See {@link MessageChannel} for batching and backpressure, which apply to
 * {@link #channel()}.
 */
public interface MessageClient extends AutoCloseable {

    /**
     * A builder for a client using {@code codecs}.
     *
     * @param codecs the codecs of both directions
     * @return a builder with the defaults
     */
    static MessageClientBuilder builder(CodecRegistry codecs) {
        return new MessageClientBuilder(codecs);
    }

    /**
     * Connects to a Unix socket with the default settings. Cancelling the returned future stops the
     * attempts and closes a connection made anyway. If the loop closes first, the future fails
     * with a {@link io.dualpipe.core.LoopClosedException}.
     *
     * @param socketFile the server's socket file
     * @param codecs     the codecs of both directions
     * @return the connected client; fails with a {@link ConnectionRefusedException} when nobody
     *         accepts
     */
    static LoopFuture<MessageClient> connect(Path socketFile, CodecRegistry codecs) {
        return builder(codecs).connect(socketFile);
    }

    /** {@return the server's address} */
    SocketAddress remoteAddress();

    /**
     * The current connection.
     *
     * @return the connection's channel
     * @throws io.dualpipe.core.ChannelClosedException if the client is closed, or disconnected and
     *     not yet reconnected
     */
    MessageChannel channel();

    /** {@return true while a connection is open} */
    boolean isConnected();

    /**
     * Sends a one-way message, as {@link MessageChannel#send(Object)}; reconnects first if so
     * configured.
     *
     * @param message the message; reusable by the caller once this returns
     * @return completes when the frame is in the kernel
     */
    LoopFuture<Void> send(Object message);

    /**
     * Sends a one-way message, as {@link MessageChannel#send(int, Object)}; reconnects first if so
     * configured.
     *
     * @param type    the type byte
     * @param message the message, of that codec's class; reusable by the caller once this returns
     * @return completes when the frame is in the kernel
     */
    LoopFuture<Void> send(int type, Object message);

    /**
     * Sends a request, as {@link MessageChannel#request(Object)}; reconnects first if so configured.
     *
     * @param message the request; reusable by the caller once this returns
     * @return the decoded reply
     */
    LoopFuture<Object> request(Object message);

    /**
     * Sends a request, as {@link MessageChannel#request(Object, Class)}; reconnects first if so
     * configured.
     *
     * @param <R>        the reply's class
     * @param message    the request; reusable by the caller once this returns
     * @param replyClass the class the reply must be of
     * @return the reply
     */
    <R> LoopFuture<R> request(Object message, Class<R> replyClass);

    /**
     * Sends a request, as {@link MessageChannel#request(int, Object, Class, Duration)}; reconnects
     * first if so configured.
     *
     * @param <R>        the reply's class
     * @param type       the request's type byte
     * @param message    the request, of that codec's class; reusable by the caller once this returns
     * @param replyClass the class the reply must be of
     * @param timeout    how long to wait for the reply, or null for no limit
     * @return the reply
     */
    <R> LoopFuture<R> request(int type, Object message, Class<R> replyClass, Duration timeout);

    /**
     * Closes the connection (pending requests fail) and stops reconnecting. Operations still waiting
     * for a connection fail with a {@link io.dualpipe.core.ChannelClosedException}, on the loop
     * thread (on the caller's if the loop has closed), so possibly after this method returns; an
     * operation started after {@code close()} fails at once on the caller's thread, which may be
     * before those. Idempotent.
     */
    @Override
    void close();
}
