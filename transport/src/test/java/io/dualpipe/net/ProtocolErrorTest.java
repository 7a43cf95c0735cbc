package io.dualpipe.net;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.codec.Codecs;
import io.dualpipe.core.codec.ProtocolException;
import io.dualpipe.process.ChildProcess;
import io.dualpipe.process.StderrMode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static io.dualpipe.net.TestSupport.codecs;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A raw client breaking the frame format costs only its own connection. */
class ProtocolErrorTest {
    @TempDir
    Path dir;

    private static String hex(byte[] b) {
        StringBuilder s = new StringBuilder();
        for (byte x : b) {
            s.append(String.format("%02x", x));
        }
        return s.toString();
    }

    /** Runs raw.py: connects, sends the bytes, reports how the server hung up. */
    private static String raw(EventLoop loop, Path script, Path sock, byte[] bytes, boolean shut) throws Exception {
        ChildProcess p = (shut
                ? ChildProcess.builder("python3", script.toString(), sock.toString(), hex(bytes), "shut")
                : ChildProcess.builder("python3", script.toString(), sock.toString(), hex(bytes)))
                .stderr(StderrMode.INHERIT).loop(loop).start();
        String line = p.readLine().get(20, TimeUnit.SECONDS);
        assertEquals(0, p.onExit().get(20, TimeUnit.SECONDS).exitCode());
        return line;
    }

    @Test
    @Timeout(60)
    void garbageTruncationAndAHugeLengthCloseOnlyTheOffendingConnection() throws Exception {
        Path script = TestSupport.script(dir, "raw.py");
        Path sock = dir.resolve("proto.sock");
        LinkedBlockingQueue<Throwable> closedWith = new LinkedBlockingQueue<>();
        try (EventLoop loop = EventLoop.create("proto-server");
             EventLoop children = EventLoop.create("proto-children");
             LogCapture log = new LogCapture("io.dualpipe.core.message.internal.DefaultMessageChannel")) {
            MessageServer server = MessageServer.builder(codecs()).loop(loop)
                    .handle(Codecs.UTF8, String.class, (ctx, s) -> ctx.reply(s.toUpperCase()))
                    .onClose((c, e) -> closedWith.add(e == null ? new AssertionError("closed cleanly: " + c) : e))
                    .bind(sock);
            MessageClient good = MessageClient.builder(codecs()).loop(children).connect(sock).get(10, TimeUnit.SECONDS);
            assertEquals("BEFORE", good.request("before", String.class).get(10, TimeUnit.SECONDS));

            CompletableFuture<Long> loopThread = new CompletableFuture<>();
            loop.execute(() -> loopThread.complete(Thread.currentThread().getId()));
            com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            long tid = loopThread.get(10, TimeUnit.SECONDS);

            // 1. A 2 GiB length: refused from the header alone, before any body buffer exists.
            long allocatedBefore = threads.getThreadAllocatedBytes(tid);
            byte[] huge = {0x01, 0x00, 0, 0, 0, 0, (byte) 0x80, 0, 0, 0};
            assertEquals("eof 0", raw(children, script, sock, huge, false));
            Throwable e1 = closedWith.poll(10, TimeUnit.SECONDS);
            long allocated = threads.getThreadAllocatedBytes(tid) - allocatedBefore;
            assertInstanceOf(ProtocolException.class, e1);
            assertTrue(e1.getMessage().contains("2147483648 > maxFrameSize 16777216"), e1.getMessage());
            assertTrue(allocated < 1024 * 1024, "the loop allocated " + allocated + " bytes while refusing a 2 GiB frame");

            // 2. Garbage: the second byte (flags) has unknown bits.
            byte[] garbage = new byte[4096];
            new java.util.Random(9).nextBytes(garbage);
            garbage[1] = (byte) 0xf8;
            assertEquals("eof 0", raw(children, script, sock, garbage, false));
            Throwable e2 = closedWith.poll(10, TimeUnit.SECONDS);
            assertInstanceOf(ProtocolException.class, e2);
            assertTrue(e2.getMessage().contains("unknown bits"), e2.getMessage());

            // 3. A frame cut short, then end of stream: a truncated frame.
            byte[] frame = {0x02, 0x00, 0, 0, 0, 0, 0, 0, 0, 8, 'p', 'a', 'r', 't'};
            assertEquals("eof 0", raw(children, script, sock, frame, true));
            Throwable e3 = closedWith.poll(10, TimeUnit.SECONDS);
            assertInstanceOf(ProtocolException.class, e3);
            assertTrue(e3.getMessage().contains("truncated frame"), e3.getMessage());

            // 4. A valid request first, then garbage: the reply still arrives before the close.
            byte[] request = {0x02, 0x01, 0, 0, 0, 7, 0, 0, 0, 2, 'o', 'k', 0x02, (byte) 0xff, 0, 0, 0, 0, 0, 0, 0, 0};
            assertEquals("eof 12", raw(children, script, sock, request, false)); // 10-byte header + "OK"
            assertInstanceOf(ProtocolException.class, closedWith.poll(10, TimeUnit.SECONDS));

            List<String> warnings = log.warnings();
            assertEquals(4, warnings.stream().filter(w -> w.contains("protocol error")).count(), warnings.toString());
            assertTrue(server.isOpen());
            assertEquals(1, server.connections().size());
            assertEquals("AFTER", good.request("after", String.class).get(10, TimeUnit.SECONDS));
            good.close();
            server.close();
        }
    }
}
