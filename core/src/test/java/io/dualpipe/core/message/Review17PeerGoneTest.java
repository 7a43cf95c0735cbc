package io.dualpipe.core.message;

import io.dualpipe.core.BrokenPipeException;
import io.dualpipe.core.DualPipeException;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.FdChannel;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.internal.FdStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.SortedMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Review 17: the reader of a message channel's pipe closes its end while chunks are half written
 * and queued (EPIPE on a write from a chunk's address): the write failure fails the Outbound
 * (Outbound.fail through the channel's termination); every send completes, with a typed error; the
 * whole frames read before are intact; no fd is left.
 */
class Review17PeerGoneTest {
    @Test
    @Timeout(120)
    void peerClosingItsEndMidChunkFailsEverySendTypedAndLeavesNoFd() throws Exception {
        SortedMap<Integer, String> before = Review17ChunkWriteTest.pipesAndPolls();
        int brokenPipes = 0;
        for (int round = 0; round < 15; round++) {
            EventLoop loop = EventLoop.create("review17-peergone");
            try {
                FdChannel[] out = FdChannel.pipe();
                FdChannel[] idle = FdChannel.pipe();
                io.dualpipe.core.internal.Native.LIBC.fcntl(out[1].getFD(), 1031, 4096);
                FdStream sinkStream = FdStream.sink(loop, out[1], "r17.out", 64 * 1024, 32 * 1024);
                FdStream source = FdStream.source(loop, idle[0], "r17.in", 64 * 1024);
                MessageChannel ch = MessageChannel.builder(Pipes.codecs()).name("r17").open(source, sinkStream);
                List<LoopFuture<Void>> futures = new Review17ChunkWriteTest.ConcurrentLinkedQueueList<>();
                AtomicBoolean stop = new AtomicBoolean();
                long target = 20_000 + round * 25_000L;
                // The reader stops at the target and closes its end: the writer meets EPIPE mid-chunk.
                Thread readerThread = new Thread(() -> {
                    try {
                        out[0].configureBlocking(true);
                        java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(4096);
                        long got = 0;
                        while (got < target) {
                            buf.clear();
                            int n = out[0].read(buf);
                            if (n < 0) {
                                break;
                            }
                            got += n;
                        }
                        out[0].close();
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                }, "review17-quitter");
                readerThread.start();
                Thread t = new Thread(() -> {
                    try {
                        java.util.Random r = new java.util.Random(17);
                        for (int seq = 0; seq < 100_000 && !stop.get(); seq++) {
                            futures.add(ch.send(io.dualpipe.core.codec.Codecs.BYTES,
                                    Review17ChunkWriteTest.body(0, seq, Review17ChunkWriteTest.size(r))));
                            if (!ch.isWritable()) {
                                ch.whenWritable().get(30, TimeUnit.SECONDS);
                            }
                        }
                    } catch (Throwable e) {
                        // refused once the channel broke
                    }
                }, "review17-sender");
                t.start();
                readerThread.join(30_000);
                assertFalse(readerThread.isAlive());
                ch.closeFuture().handle((v, e) -> null).get(30, TimeUnit.SECONDS);
                stop.set(true);
                t.join(30_000);
                assertFalse(t.isAlive());
                for (LoopFuture<Void> f : futures) {
                    try {
                        f.get(30, TimeUnit.SECONDS);
                    } catch (ExecutionException e) {
                        Throwable c = e.getCause();
                        if (!(c instanceof DualPipeException)) {
                            fail("untyped failure: " + c, c);
                        }
                        if (c instanceof BrokenPipeException || c.getCause() instanceof BrokenPipeException) {
                            brokenPipes++;
                        }
                    }
                }
                assertFalse(ch.isOpen());
                idle[1].close();
            } finally {
                loop.close();
            }
        }
        assertTrue(brokenPipes > 0, "no send ever failed with the broken pipe: the test tested nothing");
        assertEquals(before, Review17ChunkWriteTest.pipesAndPolls(), "fds of ours left open");
    }
}
