package io.dualpipe.examples.bench;

import java.io.EOFException;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The W5 workloads as a plain JDK NIO program: the baseline {@link MessageBench} compares DualPipe
 * with. A {@link ServerSocketChannel} on a {@link UnixDomainSocketAddress}, {@link SocketChannel}
 * clients, one {@link Selector} thread serving the server's connections and (with {@code loops=1})
 * the clients too, or a second one for the clients ({@code loops=2}), as DualPipe's side runs.
 *
 * <p>The frames are DualPipe's own, byte for byte (10-byte header, bytes body with the sequence
 * number), so both sides move the same bytes. What a competent hand-written loop does and no more:
 * a direct read and write buffer per connection, every whole frame in a read handled at once, the
 * replies (or next requests) it produces written in one {@code write}, OP_WRITE only while bytes
 * wait. The server echoes each request's body into its reply; a client checks each reply (flags,
 * id, body) and sends its next request from there. Replies come in request order on a connection,
 * so a client matches them by counting rather than through a table.
 */
final class NioW5 implements MessageBench.W5 {
    private static final int BUFFER = 64 * 1024;
    private static final byte TYPE_BYTES = 0x01;
    private static final byte FLAG_REQUEST = 0x01;
    private static final byte FLAG_REPLY = 0x02;

    private final SelectorLoop serverLoop;
    private final SelectorLoop clientLoop;
    private final ServerSocketChannel server;
    private final List<Client> clients = new ArrayList<>();
    private final CompletableFuture<Void> broken = new CompletableFuture<>();
    private final int size;

    NioW5(Path sock, int clientCount, int loops, int size) throws Exception {
        this.size = size;
        serverLoop = new SelectorLoop("nio-server");
        clientLoop = loops >= 2 ? new SelectorLoop("nio-clients") : serverLoop;
        serverLoop.start();
        if (clientLoop != serverLoop) {
            clientLoop.start();
        }
        UnixDomainSocketAddress address = UnixDomainSocketAddress.of(sock);
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(address);
        for (int i = 0; i < clientCount; i++) {
            SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX);
            c.connect(address);
            SocketChannel s = server.accept();
            c.configureBlocking(false);
            s.configureBlocking(false);
            Served served = new Served(s);
            Client client = new Client(c);
            served.key = serverLoop.call(() -> s.register(serverLoop.selector, SelectionKey.OP_READ, served));
            client.key = clientLoop.call(() -> c.register(clientLoop.selector, SelectionKey.OP_READ, client));
            clients.add(client);
        }
    }

    @Override
    public String name() {
        return "nio";
    }

    @Override
    public MessageBench.Round round(int msgs, int window) throws Exception {
        CompletableFuture<?>[] all = new CompletableFuture<?>[clients.size()];
        CompletableFuture<Long> started = new CompletableFuture<>();
        for (int i = 0; i < clients.size(); i++) {
            all[i] = clients.get(i).done = new CompletableFuture<>();
        }
        // Every client started from its loop in one pass, as on DualPipe's side.
        clientLoop.execute(() -> {
            started.complete(System.nanoTime());
            for (Client c : clients) {
                c.start(msgs, window, null);
            }
        });
        CompletableFuture.allOf(all).applyToEither(broken, v -> v).get(600, TimeUnit.SECONDS);
        long end = 0;
        long mismatches = 0;
        for (Client c : clients) {
            end = Math.max(end, c.finishedAt);
            mismatches += c.mismatches;
        }
        return new MessageBench.Round(end - started.get(), mismatches);
    }

    @Override
    public long[] pingPong(int iters) throws Exception {
        Client c = clients.get(0);
        long[] latencies = new long[iters];
        c.done = new CompletableFuture<>();
        clientLoop.execute(() -> c.start(iters, 1, latencies));
        c.done.applyToEither(broken, v -> v).get(600, TimeUnit.SECONDS);
        if (c.mismatches != 0) {
            throw new IllegalStateException("nio: " + c.mismatches + " replies did not match their requests");
        }
        return latencies;
    }

    @Override
    public long[] loopThreadIds() {
        return clientLoop == serverLoop ? new long[] {serverLoop.getId()} : new long[] {serverLoop.getId(), clientLoop.getId()};
    }

    @Override
    public void close() throws Exception {
        if (clientLoop != serverLoop) {
            clientLoop.shutdown();
        }
        serverLoop.shutdown();
        server.close();
    }

    /** A selector and the thread that selects on it; other threads hand it tasks. */
    private static final class SelectorLoop extends Thread {
        final Selector selector;
        private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
        private final Consumer<SelectionKey> ready = k -> ((Conn) k.attachment()).ready(k);
        private volatile boolean running = true;

        SelectorLoop(String name) throws IOException {
            super(name);
            setDaemon(true);
            selector = Selector.open();
        }

        void execute(Runnable task) {
            tasks.add(task);
            selector.wakeup();
        }

        <T> T call(Callable<T> task) throws Exception {
            CompletableFuture<T> f = new CompletableFuture<>();
            execute(() -> {
                try {
                    f.complete(task.call());
                } catch (Exception e) {
                    f.completeExceptionally(e);
                }
            });
            return f.get(10, TimeUnit.SECONDS);
        }

        @Override
        public void run() {
            try {
                while (running) {
                    selector.select(ready);
                    for (Runnable t; (t = tasks.poll()) != null; ) {
                        t.run();
                    }
                }
            } catch (IOException e) {
                e.printStackTrace();
            } finally {
                for (SelectionKey k : selector.keys()) {
                    try {
                        k.channel().close();
                    } catch (IOException ignored) {
                        // closing anyway
                    }
                }
                try {
                    selector.close();
                } catch (IOException ignored) {
                    // closing anyway
                }
            }
        }

        void shutdown() throws InterruptedException {
            running = false;
            selector.wakeup();
            join(10_000);
        }
    }

    /**
     * One connection: bytes in, whole frames handled, what they produce written at once. Interest
     * is OP_READ while nothing waits to be written, OP_WRITE alone while something does (the frames
     * already read wait in {@code in} meanwhile, so a peer that does not read holds this side back).
     */
    private abstract class Conn {
        final SocketChannel ch;
        final ByteBuffer in = ByteBuffer.allocateDirect(BUFFER);
        final ByteBuffer out = ByteBuffer.allocateDirect(BUFFER);
        SelectionKey key;

        Conn(SocketChannel ch) {
            this.ch = ch;
        }

        final void ready(SelectionKey k) {
            try {
                if (k.isReadable() && ch.read(in) < 0) {
                    throw new EOFException(this + ": end of stream");
                }
                in.flip();
                handleFrames();
                in.compact();
                flush();
            } catch (IOException | RuntimeException e) {
                k.cancel();
                broken.completeExceptionally(e);
            }
        }

        /** Consumes whole frames from {@code in} (flipped) while {@code out} has room for what they produce. */
        abstract void handleFrames();

        /** The body length of the whole frame at {@code in}'s position, or -1 if it has not all arrived. */
        final int wholeFrame() {
            if (in.remaining() < MessageBench.HEADER) {
                return -1;
            }
            int len = in.getInt(in.position() + 6);
            if (len < 0 || len > BUFFER - MessageBench.HEADER) {
                throw new IllegalStateException(this + ": frame length " + len);
            }
            return in.remaining() < MessageBench.HEADER + len ? -1 : len;
        }

        final void flush() throws IOException {
            out.flip();
            if (out.hasRemaining()) {
                ch.write(out);
            }
            out.compact();
            int ops = out.position() > 0 ? SelectionKey.OP_WRITE : SelectionKey.OP_READ;
            if (key.interestOps() != ops) {
                key.interestOps(ops);
            }
        }
    }

    /** The server's end of a connection: each request's body echoed in its reply. */
    private final class Served extends Conn {
        Served(SocketChannel ch) {
            super(ch);
        }

        @Override
        void handleFrames() {
            int len;
            while ((len = wholeFrame()) >= 0 && out.remaining() >= MessageBench.HEADER + len) {
                int at = in.position();
                out.put(in.get(at)).put(FLAG_REPLY).putInt(in.getInt(at + 2)).putInt(len);
                out.put(out.position(), in, at + MessageBench.HEADER, len);
                out.position(out.position() + len);
                in.position(at + MessageBench.HEADER + len);
            }
        }
    }

    /** A client: keeps `window` requests in flight, sending the next as each reply is checked. */
    private final class Client extends Conn {
        CompletableFuture<Void> done;
        long[] latencies;
        int msgs;
        int sent;
        int received;
        long mismatches;
        long sentAt;
        long finishedAt;

        Client(SocketChannel ch) {
            super(ch);
        }

        void start(int msgs, int window, long[] latencies) {
            this.msgs = msgs;
            this.latencies = latencies;
            sent = 0;
            received = 0;
            mismatches = 0;
            for (int i = 0; i < window && sent < msgs && out.remaining() >= size; i++) {
                send();
            }
            try {
                flush();
            } catch (IOException e) {
                broken.completeExceptionally(e);
            }
        }

        private void send() {
            long seq = sent++;
            byte[] body = MessageBench.body(size, seq);
            out.put(TYPE_BYTES).put(FLAG_REQUEST).putInt((int) (seq + 1)).putInt(body.length).put(body);
            if (latencies != null) {
                sentAt = System.nanoTime();
            }
        }

        @Override
        void handleFrames() {
            int len;
            while ((len = wholeFrame()) >= 0 && out.remaining() >= size) {
                int at = in.position();
                long seq = received;
                int body = at + MessageBench.HEADER;
                boolean ok = in.get(at + 1) == FLAG_REPLY && in.getInt(at + 2) == (int) (seq + 1) && len == size - MessageBench.HEADER
                        && in.getLong(body) == seq && in.getLong(body + len - 8) == ~seq;
                if (!ok) {
                    mismatches++;
                }
                in.position(body + len);
                if (latencies != null) {
                    latencies[received] = System.nanoTime() - sentAt;
                }
                if (++received == msgs) {
                    finishedAt = System.nanoTime();
                    done.complete(null);
                } else if (sent < msgs) {
                    send();
                }
            }
        }
    }
}
