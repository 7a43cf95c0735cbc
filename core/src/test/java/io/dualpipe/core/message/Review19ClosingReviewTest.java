package io.dualpipe.core.message;

import io.dualpipe.core.ChannelClosedException;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.codec.Codecs;
import io.dualpipe.core.codec.Frames;
import io.dualpipe.core.codec.ProtocolException;
import io.dualpipe.core.message.Review18Support.Outcome;
import io.dualpipe.core.message.Review18Support.RawPeer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static io.dualpipe.core.message.Review18Support.barrier;
import static io.dualpipe.core.message.Review18Support.onLoop;
import static io.dualpipe.core.message.Review18Support.timeoutEntries;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Review 19 of the Closing split (9c21c78): terminate re-entered from the listeners it fails, close
 * racing a graceful close from two threads, and failUnanswered's listeners making requests of their
 * own. Real pipes throughout; the peer is raw bytes.
 */
class Review19ClosingReviewTest {
    private EventLoop loop;

    @BeforeEach
    void start() {
        loop = EventLoop.create("review19-closing");
    }

    @AfterEach
    void stop() {
        loop.close();
    }

    private static MessageChannelBuilder echo() {
        return MessageChannel.builder(Pipes.codecs()).handle(Codecs.UTF8, String.class, (ctx, s) -> ctx.reply(s));
    }

    private static void assertToldOnceWithClosed(List<? extends Outcome<?>> all) {
        for (Outcome<?> o : all) {
            assertTrue(o.result.isDone(), "never told");
            assertEquals(1, o.calls.get(), "told " + o.calls.get() + " times");
            Throwable t = assertThrows(ExecutionException.class, () -> o.result.get(0, TimeUnit.SECONDS)).getCause();
            assertInstanceOf(ChannelClosedException.class, t, String.valueOf(t));
        }
    }

    /**
     * The peer ends its stream while one of its requests is held (our replies backed up). Our
     * unanswered requests fail at once (failUnanswered), and a request made after that fails at once
     * too ("the peer closed its end, no reply can come"). But one made <i>inside</i> the failure
     * callback of failUnanswered, which the listener contract allows ("It may make further
     * requests"), runs before ReadSide.onEnd sets endPending: it gets an id, goes into the table and
     * waits for a reply that cannot come, for as long as the peer reads nothing (no stall timer runs:
     * reading never paused). The same with a future and a dependent stage.
     */
    @Test
    @Timeout(60)
    void aRequestMadeInsideFailUnansweredsCallbackIsRefusedAtOnce() throws Exception {
        RawPeer rp = new RawPeer(loop, echo());
        rp.backUp();
        Outcome<String> inCallback = new Outcome<>();
        CompletableFuture<Throwable> first = new CompletableFuture<>();
        rp.ch.request(Codecs.UTF8, "first", String.class, null, (r, e) -> {
            first.complete(e);
            if (e != null) {
                rp.ch.request(Codecs.UTF8, "made while failUnanswered ran", String.class, null, inCallback);
            }
        });
        barrier(loop);
        assertEquals(1, rp.ch.pendingRequests());
        rp.write(Codecs.UTF8, Frames.FLAG_REQUEST, 7, "held".getBytes(StandardCharsets.UTF_8)); // held: we are not writable
        rp.peerOut.close(); // the peer's end of stream, after its held request
        Throwable f = first.get(20, TimeUnit.SECONDS);
        assertInstanceOf(ChannelClosedException.class, f, String.valueOf(f));
        barrier(loop);

        // Control: a request made on the loop after onEnd returned fails at once.
        Outcome<String> after = new Outcome<>();
        onLoop(loop, () -> {
            rp.ch.request(Codecs.UTF8, "after the end", String.class, null, after);
            return null;
        });
        assertTrue(after.result.isDone(), "a request after the peer's end is refused at once");

        int pending = onLoop(loop, rp.ch::pendingRequests);
        assertTrue(inCallback.result.isDone(), "the request made inside failUnanswered's callback is still pending ("
                + pending + " pending request(s)); the peer has ended, so its reply can never come, and nothing fails it"
                + " until the peer reads our backed-up output");
    }

    /**
     * terminate fails our requests; their listeners call close(), closeGracefully(), send() and
     * request() (both forms) on the same channel while terminate is still running. Each is told once,
     * with ChannelClosedException; nothing is left in the table or the timeout lanes; the close future
     * completes as the cause says. Once with close() from another thread, once with a protocol error.
     */
    @Test
    @Timeout(60)
    void listenersReenteringTerminateAreEachToldOnce() throws Exception {
        for (int mode = 0; mode < 2; mode++) {
            RawPeer rp = new RawPeer(loop, echo());
            List<Outcome<String>> outer = new ArrayList<>();
            List<Outcome<String>> nested = new CopyOnWriteArrayList<>();
            List<LoopFuture<String>> nestedFutures = new CopyOnWriteArrayList<>();
            List<LoopFuture<Void>> nestedSends = new CopyOnWriteArrayList<>();
            for (int i = 0; i < 20; i++) {
                Outcome<String> o = new Outcome<>();
                ReplyListener<String> reentering = (reply, failure) -> {
                    o.onReply(reply, failure);
                    MessageChannel ch = rp.ch;
                    ch.close();
                    ch.closeGracefully();
                    Outcome<String> n = new Outcome<>();
                    nested.add(n);
                    ch.request(Codecs.UTF8, "nested", String.class, Duration.ofSeconds(30), n);
                    nestedFutures.add(ch.request(Codecs.UTF8, "nested", String.class, Duration.ofSeconds(30)));
                    nestedSends.add(ch.send(Codecs.UTF8, "nested"));
                };
                outer.add(o);
                rp.ch.request(Codecs.UTF8, "q" + i, String.class, i % 2 == 0 ? Duration.ofSeconds(30) : null, reentering);
            }
            barrier(loop);
            assertEquals(20, rp.ch.pendingRequests());
            if (mode == 0) {
                rp.ch.close();
            } else {
                rp.write(Codecs.UTF8, 0x80, 0, new byte[0]); // unknown flag bits: a protocol error
            }
            LoopFuture<Void> closed = rp.ch.closeFuture();
            if (mode == 0) {
                closed.get(20, TimeUnit.SECONDS);
            } else {
                Throwable t = assertThrows(ExecutionException.class, () -> closed.get(20, TimeUnit.SECONDS)).getCause();
                assertInstanceOf(ProtocolException.class, t);
            }
            barrier(loop);
            assertToldOnceWithClosed(outer);
            assertEquals(20, nested.size());
            assertToldOnceWithClosed(nested);
            for (LoopFuture<String> f : nestedFutures) {
                Throwable t = assertThrows(ExecutionException.class, () -> f.get(0, TimeUnit.SECONDS)).getCause();
                assertInstanceOf(ChannelClosedException.class, t);
            }
            for (LoopFuture<Void> f : nestedSends) {
                Throwable t = assertThrows(ExecutionException.class, () -> f.get(0, TimeUnit.SECONDS)).getCause();
                assertInstanceOf(ChannelClosedException.class, t);
            }
            assertEquals(0, rp.ch.pendingRequests());
            assertEquals(0, timeoutEntries(rp.ch));
        }
    }

    /**
     * close() and closeGracefully() from two threads at once, with requests pending and our output
     * backed up or read: the close future completes normally, every request is told once, with
     * ChannelClosedException. Twenty rounds per run.
     */
    @Test
    @Timeout(90)
    void closeRacingAGracefulCloseFromAnotherThread() throws Exception {
        for (int round = 0; round < 20; round++) {
            RawPeer rp = new RawPeer(loop, echo());
            boolean peerReads = round % 2 == 0;
            if (peerReads) {
                rp.readAll(loop);
                rp.ch.send(Codecs.BYTES, new byte[256 * 1024]); // something to drain while closing
            } else {
                rp.backUp();
            }
            List<Outcome<String>> all = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                Outcome<String> o = new Outcome<>();
                all.add(o);
                rp.ch.request(Codecs.UTF8, "q" + i, String.class, i % 2 == 0 ? Duration.ofSeconds(30) : null, o);
            }
            CyclicBarrier go = new CyclicBarrier(2);
            boolean gracefulFirst = round % 4 < 2;
            Thread graceful = new Thread(() -> {
                await(go);
                rp.ch.closeGracefully();
            });
            Thread hard = new Thread(() -> {
                await(go);
                rp.ch.close();
            });
            if (gracefulFirst) {
                graceful.start();
                hard.start();
            } else {
                hard.start();
                graceful.start();
            }
            graceful.join();
            hard.join();
            rp.ch.closeFuture().get(20, TimeUnit.SECONDS);
            barrier(loop);
            assertToldOnceWithClosed(all);
            assertEquals(0, rp.ch.pendingRequests());
            assertEquals(0, timeoutEntries(rp.ch));
            rp.peerIn.close();
            rp.peerOut.close();
        }
    }

    private static void await(CyclicBarrier b) {
        try {
            b.await(20, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
