package io.dualpipe.net;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.codec.CodecRegistry;
import io.dualpipe.core.message.MessageChannel;

import java.net.SocketAddress;
import java.util.List;

/**
 * A server in the main process that many clients (typically its children) connect to over a Unix
 * socket, or TCP where Unix sockets are not an option. Every connection is a {@link MessageChannel}
 * with the server's codecs and handlers, so a handler answers with {@code ctx.reply(...)} and can push
 * messages to any connection.
 *
 * <pre>{@code
 * MessageServer server = MessageServer.builder(codecs)
 *         .handle(Codecs.JSON, Map.class, (ctx, m) -> ctx.reply(Map.of("hello", m.get("name"))))
 *         .onOpen(conn -> log.info("{} connected", conn.peer()))
 *         .bind(Path.of("/run/app.sock"));
 * }</pre>
 *
 * <p><b>Loops.</b> The listening socket and every connection are plain fds on the server's
 * {@link EventLoop} (default {@link EventLoop#shared()}), next to the loop's pipes and children. With
 * {@link MessageServerBuilder#group group(EventLoopGroup)} each accepted connection is placed on the
 * group's next loop instead, so connections are served by several threads at once, and each one stays
 * on its loop ({@link MessageChannel#loop()}) for life. Accepting never spins: when the process runs out of file descriptors (EMFILE/ENFILE) the server
 * stops accepting, logs once, and retries after its back-off; connections wait in the backlog.
 *
 * <p><b>Idle and slow clients.</b> There is no idle or handshake limit: a client that connects and
 * sends nothing, or stops in the middle of a frame, keeps its connection (its fd, and what it sent of
 * the frame, at most {@link MessageServerBuilder#maxFrameSize maxFrameSize}) until it or the server
 * closes it. Limit who may connect ({@link MessageServerBuilder#socketMode socketMode},
 * {@link MessageServerBuilder#allowUids allowUids}), or close idle connections yourself (a timer
 * started in {@code onOpen}). A client that stops reading costs bounded memory only if the server
 * paces what it pushes ({@link MessageChannel#isWritable()}); its own requests are held back, then the
 * connection closes with a {@link io.dualpipe.core.message.PeerStalledException} (see "Backpressure"
 * in {@link MessageChannel}).
 *
 * <p><b>Unix sockets.</b> Each connection's {@link MessageChannel#peer()} carries the client's pid,
 * uid and gid (SO_PEERCRED on Linux, getpeereid and LOCAL_PEERPID on macOS); an allow-list of uids closes other clients right after accept. The
 * socket file is created with mode 0600 by default. A file left by a dead server (a connect to it is
 * refused) is replaced; a live server's is never taken over ({@link AddressInUseException}). The file
 * is removed when the server closes, unless another file has replaced it meanwhile. Over TCP (bound
 * to loopback unless told otherwise) peers' ids are unknown (-1).
 *
 * <p><b>Threading.</b> Every method is thread-safe. A connection's handlers and its open and close
 * callbacks run on that connection's loop thread, in order: on one server loop, all on that thread;
 * with a group, a connection's never overlap each other, but two connections' may run at the same
 * time, so state the callbacks share needs synchronisation (or keep the server on one loop). The
 * reject callback runs on the server's loop.
 */
public interface MessageServer extends AutoCloseable {

    /**
     * A builder for a server using {@code codecs}.
     *
     * @param codecs the codecs of every connection
     * @return a builder with the defaults
     */
    static MessageServerBuilder builder(CodecRegistry codecs) {
        return new MessageServerBuilder(codecs);
    }

    /**
     * {@return the bound address: a {@link java.net.UnixDomainSocketAddress}, or an
     * {@link java.net.InetSocketAddress} with the actual port}
     */
    SocketAddress localAddress();

    /** {@return the loop serving the listening socket (and the connections, unless a group spreads them)} */
    EventLoop loop();

    /** {@return the open connections, a snapshot} */
    List<MessageChannel> connections();

    /** {@return true until {@link #stop()} or {@link #close()}} */
    boolean isOpen();

    /**
     * Graceful: stops accepting (and removes the socket file), lets every connection's queued frames
     * reach the kernel, then closes them. A client that reads none of its queued bytes for the stall
     * timeout ({@link MessageServerBuilder#stallTimeout}, 10 s by default) is closed anyway, with a {@link io.dualpipe.core.message.PeerStalledException}
     * (see {@link MessageChannel#closeGracefully()}), so the future completes even then.
     *
     * @return completes when every connection has closed
     */
    LoopFuture<Void> stop();

    /**
     * Immediate: stops accepting, removes the socket file, closes every connection (their pending
     * requests fail with {@link io.dualpipe.core.ChannelClosedException}). Idempotent; waits for the
     * loop to do it, and for every connection to close (on a group, each on its own loop), unless
     * called on a loop thread (another loop's thread gets it done asynchronously). If the loop is
     * already shutting down, waits for the shutdown to end and finishes after it.
     */
    @Override
    void close();

    /**
     * Completes when the server and all its connections have closed. Each call returns a new future:
     * cancelling or completing one changes nobody else's.
     *
     * @return a new future
     */
    LoopFuture<Void> closeFuture();
}
