package io.dualpipe.examples.bench;

import java.io.EOFException;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * W5L with blocking JDK sockets, the classic way: a server thread that reads a frame and writes its
 * reply, the caller's thread writing a request and reading the reply. The same frames as DualPipe's
 * (10-byte header, bytes body), one read and one write per frame on each side where the kernel
 * hands the frame over whole.
 */
final class BlockingW5L {
    private BlockingW5L() {
    }

    static long[] pingPong(Path sock, int warmup, int iters, int size) throws Exception {
        UnixDomainSocketAddress address = UnixDomainSocketAddress.of(sock);
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(address);
            CompletableFuture<Void> served = new CompletableFuture<>();
            Thread t = new Thread(() -> {
                try (SocketChannel s = server.accept()) {
                    serve(s, size);
                    served.complete(null);
                } catch (Throwable e) {
                    served.completeExceptionally(e);
                }
            }, "blocking-server");
            t.setDaemon(true);
            t.start();
            long[] latencies = new long[iters];
            try (SocketChannel c = SocketChannel.open(address)) {
                ByteBuffer out = ByteBuffer.allocateDirect(size);
                ByteBuffer in = ByteBuffer.allocateDirect(size);
                for (int i = 0; i < warmup + iters; i++) {
                    long seq = i;
                    byte[] body = MessageBench.body(size, seq);
                    long t0 = System.nanoTime();
                    out.clear();
                    out.put((byte) 0x01).put((byte) 0x01).putInt((int) (seq + 1)).putInt(body.length).put(body).flip();
                    while (out.hasRemaining()) {
                        c.write(out);
                    }
                    in.clear();
                    int len = readFrame(c, in);
                    long t1 = System.nanoTime();
                    if (i >= warmup) {
                        latencies[i - warmup] = t1 - t0;
                    }
                    int at = MessageBench.HEADER;
                    if (in.get(1) != 0x02 || in.getInt(2) != (int) (seq + 1) || len != size - MessageBench.HEADER
                            || in.getLong(at) != seq || in.getLong(at + len - 8) != ~seq) {
                        throw new IllegalStateException("blocking: reply " + i + " does not match its request");
                    }
                }
            }
            served.get(10, TimeUnit.SECONDS);
            return latencies;
        }
    }

    private static void serve(SocketChannel s, int size) throws IOException {
        ByteBuffer in = ByteBuffer.allocateDirect(size);
        while (true) {
            in.clear();
            int len;
            try {
                len = readFrame(s, in);
            } catch (EOFException end) {
                return;
            }
            in.put(1, (byte) 0x02).flip();
            while (in.hasRemaining()) {
                s.write(in);
            }
        }
    }

    /** Reads one whole frame into {@code in} (which must fit it); returns its body length. */
    private static int readFrame(SocketChannel ch, ByteBuffer in) throws IOException {
        while (in.position() < MessageBench.HEADER || in.position() < MessageBench.HEADER + in.getInt(6)) {
            if (in.position() >= MessageBench.HEADER && MessageBench.HEADER + in.getInt(6) > in.capacity()) {
                throw new IllegalStateException("blocking: frame length " + in.getInt(6) + " is not the benchmark's");
            }
            if (ch.read(in) < 0) {
                throw new EOFException("end of stream inside a frame");
            }
        }
        return in.getInt(6);
    }
}
