package io.dualpipe.core.message;

import com.kenai.jffi.Library;
import com.kenai.jffi.MemoryIO;
import com.kenai.jffi.Type;
import io.dualpipe.core.ChannelClosedException;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.FdChannel;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.codec.Codecs;
import io.dualpipe.core.codec.Frames;
import io.dualpipe.core.internal.CFunction;
import io.dualpipe.core.internal.FdStream;
import io.dualpipe.core.internal.Native;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Review 20: a peer that half-closes (shutdown(SHUT_WR)) while we still hold one of its requests,
 * and never reads. Over a real Unix socket pair, the peer's side driven frame by frame. Its end is
 * read, but acted on only once its held frames are dispatched, which waits on it reading our
 * backed-up output; and since it sends nothing more, our backlog never fills, so the read side's
 * stall watch (armed only when reading stops) never starts. Nor does a graceful close's, which
 * begins only after the held frames. The channel, its fd, its queued bytes and the callers of
 * requests whose replies were held stayed for good: a silent hang. Now the stall timeout that bounds
 * a graceful close bounds that wait too.
 */
class Review20HalfCloseStallTest {
    private static final Duration STALL = Duration.ofMillis(300);
    private static final int AF_UNIX = 1;
    private static final int SOCK_STREAM = 1;
    private static final int SOCK_CLOEXEC = 0x80000; // Linux
    private EventLoop loop;
    private int fdsBefore;

    /**
     * The JDK opens an fd of its own for good the first time a selectable channel is closed (its
     * pre-close socket): one channel opened and closed first keeps it out of the tests' counts.
     */
    @BeforeAll
    static void warmUp() throws Exception {
        Assumptions.assumeTrue(Files.isDirectory(Path.of("/proc/self/fd")), "Linux only: SOCK_CLOEXEC's value, fds in /proc");
        for (FdChannel c : socketPair()) {
            c.close();
        }
    }

    @BeforeEach
    void start() {
        fdsBefore = openFds();
        loop = EventLoop.create("review20-half-close");
    }

    @AfterEach
    void stop() throws Exception {
        if (loop != null) {
            loop.close();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (openFds() > fdsBefore && System.nanoTime() < deadline) {
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10)); // the loop's own fds close as its thread ends
            }
            assertEquals(fdsBefore, openFds(), "fds leaked");
        }
    }

    /** socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC): two connected ends, each ours to close. */
    private static FdChannel[] socketPair() {
        CFunction socketpair = CFunction.bind(Library.getDefault(), "socketpair", true,
                Type.SINT32, Type.SINT32, Type.SINT32, Type.SINT32, Type.POINTER);
        MemoryIO memory = MemoryIO.getInstance();
        long sv = memory.allocateMemory(8, true);
        try {
            if ((int) socketpair.call(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
                throw Native.lastError("socketpair");
            }
            int both = SelectionKey.OP_READ | SelectionKey.OP_WRITE;
            return new FdChannel[] {new FdChannel(memory.getInt(sv), both), new FdChannel(memory.getInt(sv + 4), both)};
        } finally {
            memory.freeMemory(sv);
        }
    }

    /** This JVM's sockets, epoll and eventfd fds: what the channels and the loop open (jar files the JVM opens lazily are not counted). */
    private static int openFds() {
        int n = 0;
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            for (Path fd : fds) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith("socket:") || target.startsWith("anon_inode:")) {
                        n++;
                    }
                } catch (IOException closedMeanwhile) {
                    // the directory stream's own fd, or one closed while listing
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return n;
    }

    /** Our channel over one end; the peer, a raw stream over the other, which reads nothing until told. */
    private final class Pair {
        final MessageChannel ch;
        final FdStream peer;

        Pair(MessageChannelBuilder cfg) {
            FdChannel[] s = socketPair();
            FdStream ours = FdStream.duplex(loop, s[0], "ch", 64 * 1024, 64 * 1024, 32 * 1024);
            this.peer = FdStream.duplex(loop, s[1], "peer", 64 * 1024, 64 * 1024, 32 * 1024);
            peer.pause();
            this.ch = cfg.name("ch").open(ours, ours);
        }

        void write(int type, int flags, int requestId, byte[] body) throws Exception {
            ByteBuffer b = ByteBuffer.allocate(Frames.HEADER_SIZE + body.length);
            b.put((byte) type).put((byte) flags).putInt(requestId).putInt(body.length).put(body).flip();
            peer.write(b).get(20, TimeUnit.SECONDS);
        }

        /** Makes {@code ch} unwritable: a one-way message larger than the socket's buffers and the peer's read limit. */
        LoopFuture<Void> backUp() {
            LoopFuture<Void> sent = ch.send(Codecs.BYTES, new byte[4 * 1024 * 1024]);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (ch.isWritable()) {
                assertTrue(System.nanoTime() < deadline, "the channel never backed up");
                Thread.onSpinWait();
            }
            return sent;
        }
    }

    private static MessageChannelBuilder echo() {
        return MessageChannel.builder(Pipes.codecs()).stallTimeout(STALL)
                .handle(Codecs.BYTES, byte[].class, (ctx, b) -> ctx.reply(Codecs.BYTES, b));
    }

    /** The cause {@code f} failed with, waiting at most 10 s; fails the test if it completed or still waits. */
    private static Throwable failure(CompletableFuture<?> f, String what) throws Exception {
        try {
            f.get(10, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            return e.getCause();
        } catch (TimeoutException e) {
            return fail(what + " still waits 10 s after the peer half-closed (stall timeout " + STALL + "): " + f);
        }
        return fail(what + " completed normally");
    }

    /**
     * The reproducer. Our output is backed up; the peer sends a request (held), then the reply to our
     * request (held behind it), then half-closes, and never reads. Within the stall timeout of the
     * peer taking nothing, the channel closes with a PeerStalledException; the request whose reply was
     * held, and our backed-up message, fail typed.
     */
    @Test
    @Timeout(60)
    void aPeerThatHalfClosesWhileItsRequestIsHeldAndNeverReadsIsClosedAsStalled() throws Exception {
        Pair p = new Pair(echo());
        LoopFuture<Void> big = p.backUp();
        LoopFuture<byte[]> ours = p.ch.request(Codecs.BYTES, new byte[] {1}, byte[].class, null); // id 1: the first request
        p.write(Codecs.BYTES, Frames.FLAG_REQUEST, 77, new byte[] {2}); // held: our output is backed up
        p.write(Codecs.BYTES, Frames.FLAG_REPLY, 1, new byte[] {3});    // held behind it
        p.peer.shutdownOutput().get(20, TimeUnit.SECONDS);

        Throwable closed = failure(p.ch.closeFuture(), "the channel's close");
        assertInstanceOf(PeerStalledException.class, closed, "closed with " + closed);
        Throwable held = failure(ours, "the request whose reply was held");
        assertInstanceOf(ChannelClosedException.class, held);
        assertInstanceOf(PeerStalledException.class, held.getCause(), "failed with " + held);
        assertInstanceOf(ChannelClosedException.class, failure(big, "the backed-up message"));
        assertTrue(!p.ch.isOpen());
        p.peer.close();
    }

    /**
     * Control: the same half-close with nothing held. The end is acted on at once (a graceful close),
     * whose stall watch closes the channel once the peer has taken nothing for the stall timeout.
     */
    @Test
    @Timeout(60)
    void aPeerThatHalfClosesWithNothingHeldAndNeverReadsIsClosedAsStalled() throws Exception {
        Pair p = new Pair(echo());
        LoopFuture<Void> big = p.backUp();
        p.peer.shutdownOutput().get(20, TimeUnit.SECONDS);
        assertInstanceOf(PeerStalledException.class, failure(p.ch.closeFuture(), "the channel's close"));
        assertInstanceOf(ChannelClosedException.class, failure(big, "the backed-up message"));
        p.peer.close();
    }

    /**
     * Not a stall: the peer half-closes with a request held, then reads everything. The held request
     * is answered, our message and the reply reach the peer, and the channel closes without error.
     */
    @Test
    @Timeout(60)
    void aPeerThatHalfClosesWithARequestHeldAndThenReadsGetsItsReplyAndAnOrderlyClose() throws Exception {
        Pair p = new Pair(MessageChannel.builder(Pipes.codecs()).stallTimeout(Duration.ofSeconds(10))
                .handle(Codecs.BYTES, byte[].class, (ctx, b) -> ctx.reply(Codecs.BYTES, b)));
        LoopFuture<Void> big = p.backUp();
        p.write(Codecs.BYTES, Frames.FLAG_REQUEST, 77, new byte[] {42}); // held
        p.peer.shutdownOutput().get(20, TimeUnit.SECONDS);
        p.peer.resume();
        byte[] all = p.peer.readAll(16 * 1024 * 1024).get(30, TimeUnit.SECONDS); // to our end of stream
        p.ch.closeFuture().get(10, TimeUnit.SECONDS);
        big.get(10, TimeUnit.SECONDS);
        ByteBuffer in = ByteBuffer.wrap(all);
        int frames = 0;
        boolean replied = false;
        while (in.remaining() >= Frames.HEADER_SIZE) {
            in.get();
            int flags = in.get();
            int id = in.getInt();
            int length = in.getInt();
            byte[] body = new byte[length];
            in.get(body);
            frames++;
            if ((flags & Frames.FLAG_REPLY) != 0 && id == 77) {
                assertEquals(1, body.length);
                assertEquals(42, body[0]);
                replied = true;
            }
        }
        assertEquals(0, in.remaining(), "a partial frame at the end");
        assertEquals(2, frames, "our message and the reply");
        assertTrue(replied, "the held request was answered");
        p.peer.close();
    }

    /**
     * Not a hang either: the peer half-closes while our handler has deferred its request and has not
     * answered, and never reads. Nothing is held or queued, so the graceful close that the end starts
     * finishes at once; the late answer fails typed instead of waiting for a peer that is gone.
     */
    @Test
    @Timeout(60)
    void aPeerThatHalfClosesWhileOurHandlerDeferredItsRequestClosesAtOnce() throws Exception {
        CompletableFuture<DeferredReply> deferred = new CompletableFuture<>();
        Pair p = new Pair(MessageChannel.builder(Pipes.codecs()).stallTimeout(STALL)
                .handle(Codecs.BYTES, byte[].class, (ctx, b) -> deferred.complete(ctx.defer())));
        p.write(Codecs.BYTES, Frames.FLAG_REQUEST, 77, new byte[] {2});
        DeferredReply later = deferred.get(10, TimeUnit.SECONDS);
        p.peer.shutdownOutput().get(20, TimeUnit.SECONDS);
        p.ch.closeFuture().get(10, TimeUnit.SECONDS);
        assertInstanceOf(ChannelClosedException.class, failure(later.reply(Codecs.BYTES, new byte[] {3}), "the late answer"));
        p.peer.close();
    }
}
