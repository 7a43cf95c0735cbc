package io.dualpipe.net.internal;

import io.dualpipe.core.message.internal.ChannelSettings;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.FdChannel;
import io.dualpipe.core.IoHandler;
import io.dualpipe.core.LoopClosedException;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.NativeIoException;
import io.dualpipe.core.internal.CallbackFailureLog;
import io.dualpipe.core.internal.Durations;
import io.dualpipe.core.internal.FdStream;
import io.dualpipe.core.internal.LogLimiter;
import io.dualpipe.core.internal.LoopFutures;
import io.dualpipe.core.internal.Native;
import io.dualpipe.core.message.MessageChannel;
import io.dualpipe.core.message.Peer;
import io.dualpipe.net.AddressInUseException;
import io.dualpipe.net.MessageServer;
import io.dualpipe.net.MessageServerBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SelectionKey;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The {@link MessageServer}: a listening socket on the loop's selector, accepted by us so that an
 * accepted fd is born non-blocking and never leaks into a child ({@code accept4(fd, NULL, NULL,
 * SOCK_NONBLOCK | SOCK_CLOEXEC)} on Linux, accept + fcntl on macOS), then served as an
 * {@link FdStream} over our own {@link FdChannel} under a {@link MessageChannel}.
 *
 * <p>A Unix socket's address is bound by jnr-unixsocket (it knows each OS's {@code sockaddr_un}) and
 * its peer's credentials are read through it on Linux; see {@link Sockets}. Its server channel is not
 * used: its accept returns null on every error, so a level-triggered loop would spin under EMFILE,
 * where ours backs off; it would put accepted fds back into blocking mode; and its close calls
 * shutdown. The listening fd is ours from socket() to close().
 *
 * <p>Accept state (the key, the back-off, the connection counter) is confined to the server's loop;
 * the connections, on their own loops with a group, are {@link ServerConnections}'.
 */
public final class DefaultMessageServer implements MessageServer, IoHandler {
    private static final Logger LOG = LoggerFactory.getLogger(DefaultMessageServer.class);
    // A client refused for its uid can reconnect in a loop: its warnings are bounded (onReject sees every one).
    private static final LogLimiter REJECTIONS_LOGGED = new LogLimiter(20, Duration.ofMinutes(1));
    private static final CallbackFailureLog FAILURES = new CallbackFailureLog();
    /** Accepts per readiness event, so a connection storm cannot starve the loop's other fds. */
    private static final int MAX_ACCEPTS_PER_EVENT = 64;

    private final EventLoop loop;
    private final SocketAddress address;
    private final String addressText;
    private final Path socketFile;
    private final Object socketFileIdentity;
    private final FdChannel listener;
    private final Consumer<Peer> onReject;
    private final int[] allowedUids;
    private final long backoffNanos;
    private final ServerConnections connections;
    private final LoopFuture<Void> closeFuture = new LoopFuture<>(); // ours alone: callers get copies
    private volatile boolean open = true;
    private volatile SelectionKey key;

    // ---- loop thread only ----
    private long sequence;
    private boolean backingOff;
    private long failedAccepts; // in the current back-off episode: until an accept finds the backlog empty
    private volatile long acceptBackoffs; // ever; read by tests

    private DefaultMessageServer(MessageServerBuilder b, ChannelSettings settings, EventLoop loop, SocketAddress address, Path socketFile, Object identity,
                                 FdChannel listener) {
        this.loop = loop;
        this.address = address;
        this.addressText = Sockets.describe(address);
        this.socketFile = socketFile;
        this.socketFileIdentity = identity;
        this.listener = listener;
        this.onReject = b.onReject();
        this.allowedUids = b.allowedUids();
        this.backoffNanos = Durations.saturatedNanos(b.acceptBackoff());
        this.connections = new ServerConnections(loop, b.group(), settings, b.onOpen(), b.onClose(),
                () -> open, () -> closeFuture.complete(null));
    }

    /** Binds, listens and registers with the loop; see {@link MessageServerBuilder#bind(SocketAddress)}. */
    public static MessageServer bind(MessageServerBuilder b, ChannelSettings settings, SocketAddress requested) {
        Sockets.requireSupported();
        SocketAddress address = Sockets.validate(requested);
        EventLoop loop = b.loop(); // once: with a group, each call places anew; a closed group fails here, before any fd
        Path file = address instanceof UnixDomainSocketAddress u ? u.getPath() : null;
        if (file != null) {
            UnixSocketFile.prepare(file);
        }
        FdChannel channel = new FdChannel(Sockets.open(address), SelectionKey.OP_ACCEPT);
        int fd = channel.getFD();
        Object identity = null;
        boolean bound = false;
        try {
            if (file == null) {
                TcpSockets.setReuseAddress(fd); // a restarted server must not wait out TIME_WAIT
            }
            try {
                Sockets.bind(fd, address);
            } catch (NativeIoException e) {
                if (e.errno() == Sockets.EADDRINUSE) {
                    String text = Sockets.describe(address);
                    throw new AddressInUseException(text, text + " is in use (" + e.getMessage() + ")", e);
                }
                throw e;
            }
            bound = true;
            if (file != null) {
                // Before listen(): until then connects are refused, so nobody gets in under the umask's mode.
                UnixSocketFile.setMode(file, b.socketMode());
                identity = UnixSocketFile.identity(file);
            }
            Sockets.listen(fd, b.backlog(), address);
            SocketAddress actual = file == null ? TcpSockets.local(fd) : address;
            DefaultMessageServer server = new DefaultMessageServer(b, settings, loop, actual, file, identity, channel);
            server.register();
            LOG.debug("{}: listening", server.addressText);
            return server;
        } catch (RuntimeException e) {
            closeQuietly(channel);
            if (bound && file != null) {
                UnixSocketFile.removeIfOurs(file, identity != null ? identity : UnixSocketFile.identity(file));
            }
            throw e;
        }
    }

    /**
     * Registers without waiting, so that bind() may be called from any thread, another loop's
     * included. Registration is the loop's first task for this server, so it precedes any close.
     */
    private void register() {
        LoopFuture<SelectionKey> f = loop.register(listener, SelectionKey.OP_ACCEPT, this);
        if (f.isCompletedExceptionally()) {
            try {
                f.join();
            } catch (CompletionException e) {
                throw e.getCause() instanceof RuntimeException r ? r
                        : new io.dualpipe.core.DualPipeException(addressText + ": cannot register with " + loop, e.getCause());
            }
        }
        f.whenComplete((k, e) -> {
            if (e == null) {
                key = k;
            } else if (open) {
                LOG.error("{}: could not register with {}; closing", addressText, loop, e);
                onLoop(this::closeNow);
            }
        });
    }

    // =========================================================================================
    // Accepting (loop thread)
    // =========================================================================================

    @Override
    public void ready(int readyOps) {
        for (int i = 0; i < MAX_ACCEPTS_PER_EVENT && open && !backingOff; i++) {
            int fd = Sockets.accept(listener.getFD());
            if (fd >= 0) {
                accepted(fd);
                continue;
            }
            int errno = -fd;
            if (errno == Sockets.EAGAIN || errno == Sockets.EWOULDBLOCK) {
                // The episode ends once the backlog is drained without running out: a process hovering
                // at its limit accepts one client per back-off with the fd just freed, then fails
                // again, and must not log every such round as a new episode.
                if (failedAccepts > 0) {
                    LOG.info("{}: accepting again after {} failed attempt(s)", addressText, failedAccepts);
                    failedAccepts = 0;
                }
                return;
            }
            if (errno == Sockets.EINTR || errno == Sockets.ECONNABORTED || errno == Sockets.EPROTO) {
                continue; // that client gave up, or a signal: the next one may be fine
            }
            backOff(errno);
            return;
        }
    }

    /**
     * Out of descriptors (EMFILE, ENFILE) or kernel memory, or an unexpected error: the listening
     * socket stays readable, so a level-triggered selector would call us again at once, forever. Stop
     * asking for OP_ACCEPT, and try again after the back-off; clients wait in the backlog meanwhile.
     * Warns at the first failure of an episode, which lasts until the backlog has been drained.
     */
    private void backOff(int errno) {
        failedAccepts++;
        acceptBackoffs++;
        if (failedAccepts == 1) {
            LOG.warn("{}: {} failed: {} ({}); pausing accepts for {} ms, retrying until it succeeds (logged once)",
                    addressText, Sockets.ACCEPT_CALL, Native.errnoName(errno), Native.LIBC.strerror(errno), TimeUnit.NANOSECONDS.toMillis(backoffNanos));
        }
        backingOff = true;
        SelectionKey k = key;
        if (k != null && k.isValid()) {
            k.interestOps(0);
        }
        loop.schedule(this::resumeAccepting, backoffNanos, TimeUnit.NANOSECONDS);
    }

    private void resumeAccepting() {
        backingOff = false;
        SelectionKey k = key;
        if (open && k != null && k.isValid()) {
            k.interestOps(SelectionKey.OP_ACCEPT);
        }
    }

    private void accepted(int fd) {
        String name = addressText + "#" + (++sequence);
        Peer peer;
        try {
            if (socketFile != null) {
                peer = UnixSockets.peerCredentials(fd, name);
            } else {
                TcpSockets.setNoDelay(fd);
                peer = Peer.unknown(Sockets.describe(TcpSockets.remote(fd)));
            }
        } catch (NativeIoException e) {
            LOG.debug("{}: client vanished before it could be served: {}", name, e.getMessage());
            Native.closeQuietly(fd);
            return;
        }
        if (allowedUids != null && Arrays.binarySearch(allowedUids, peer.uid()) < 0) {
            Native.closeQuietly(fd);
            long notLogged = REJECTIONS_LOGGED.acquire(addressText + " uid " + peer.uid()); // one uid's flood hides no other's
            if (notLogged >= 0) {
                LOG.warn("{}: rejected a client: uid {} (pid {}, gid {}) is not in the allow-list {}{}",
                        name, peer.uid(), peer.pid(), peer.gid(), Arrays.toString(allowedUids), LogLimiter.note(notLogged));
            } else {
                LOG.debug("{}: rejected a client: uid {} (pid {}, gid {})", name, peer.uid(), peer.pid(), peer.gid());
            }
            call(onReject, peer, "onReject");
            return;
        }
        connections.place(fd, name, peer);
    }

    private <T> void call(Consumer<T> callback, T value, String what) {
        try {
            callback.accept(value);
        } catch (Throwable t) {
            FAILURES.threw(LOG, callback, t, "{}: {} callback threw", addressText, what);
        }
    }

    // =========================================================================================
    // Closing
    // =========================================================================================

    @Override
    public LoopFuture<Void> stop() {
        onLoop(() -> {
            stopListening();
            for (MessageChannel c : connections.snapshot()) {
                c.closeGracefully();
            }
            terminateIfDone();
        });
        return closeFuture();
    }

    @Override
    public void close() {
        if (loop.inEventLoop()) {
            closeNow();
            return;
        }
        LoopFuture<Void> done = new LoopFuture<>();
        onLoop(() -> {
            try {
                closeNow();
            } finally {
                done.complete(null);
            }
        });
        if (!(Thread.currentThread() instanceof io.dualpipe.core.internal.LoopThread)) {
            // Another loop's thread must not block: it gets the close asynchronously. Any other waits,
            // also when the loop is shutting down, so the server is closed when this returns; with a
            // group, its connections close on their own loops, and it waits for those too.
            done.join();
            closeFuture.join();
        }
    }

    private void closeNow() {
        stopListening();
        for (MessageChannel c : connections.snapshot()) {
            c.close();
        }
        terminateIfDone();
    }

    @Override
    public void loopClosed(LoopClosedException cause) {
        stopListening();
        // The connections hear of it through their own streams; their close callbacks finish us.
        terminateIfDone();
    }

    private void stopListening() {
        if (!open) {
            return;
        }
        open = false;
        SelectionKey k = key;
        if (k != null) {
            k.cancel();
        }
        closeQuietly(listener);
        if (socketFile != null) {
            UnixSocketFile.removeIfOurs(socketFile, socketFileIdentity);
        }
        LOG.debug("{}: stopped listening", addressText);
    }

    private void terminateIfDone() {
        if (!open && connections.isEmpty()) {
            closeFuture.complete(null);
        }
    }

    private void onLoop(Runnable r) {
        // Once the loop is closing (telling handlers, closing keys), r runs after it has ended.
        ServerConnections.onLoopOf(loop, r);
    }

    private static void closeQuietly(FdChannel channel) {
        try {
            channel.close();
        } catch (java.io.IOException e) {
            LOG.debug("{}: close failed", channel, e);
        }
    }

    // =========================================================================================
    // Accessors
    // =========================================================================================

    @Override
    public SocketAddress localAddress() {
        return address;
    }

    @Override
    public EventLoop loop() {
        return loop;
    }

    @Override
    public List<MessageChannel> connections() {
        return connections.snapshot();
    }

    @Override
    public boolean isOpen() {
        return open;
    }

    @Override
    public LoopFuture<Void> closeFuture() {
        return LoopFutures.copyOf(closeFuture); // a caller's cancel must not tell others the server closed
    }

    /** How many accepts failed and paused accepting (EMFILE and friends), since the start. For tests and metrics. */
    public long acceptBackoffs() {
        return acceptBackoffs;
    }

    @Override
    public String toString() {
        return "MessageServer[" + addressText + (open ? "" : ", closed") + "]";
    }
}
