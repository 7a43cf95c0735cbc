package io.dualpipe.net;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.codec.Codecs;
import io.dualpipe.core.message.MessageChannel;
import io.dualpipe.core.message.Peer;
import io.dualpipe.net.TestSupport.Order;
import io.dualpipe.process.ChildProcess;
import io.dualpipe.process.StderrMode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static io.dualpipe.net.TestSupport.codecs;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Python peers written against docs/wire-format.md with the standard library only. */
class PythonInteropTest {
    @TempDir
    Path dir;

    private MessageServerBuilder server(EventLoop loop, LinkedBlockingQueue<Object> answers) {
        return MessageServer.builder(codecs()).loop(loop)
                .handle(Codecs.JSON, Map.class, (ctx, m) -> {
                    switch (String.valueOf(m.get("op"))) {
                        case "add" -> ctx.reply(Map.of("sum", ((Number) m.get("a")).intValue() + ((Number) m.get("b")).intValue()));
                        case "push-me" -> {
                            ctx.channel().send("pushed hello");
                            ctx.channel().request(Map.of("q", "name?")).whenComplete((r, e) -> answers.add(e != null ? e : r));
                        }
                        default -> ctx.replyError("no such op: " + m.get("op"));
                    }
                })
                .handle(Codecs.UTF8, String.class, (ctx, s) -> ctx.reply(s.equals("ping") ? "pong" : s + "!"));
    }

    private void pythonClientSpeaksTheWireFormat(String target, EventLoop loop, LinkedBlockingQueue<Object> answers) throws Exception {
        Path script = TestSupport.script(dir, "client.py");
        TestSupport.script(dir, "wire.py");
        ChildProcess py = ChildProcess.builder("python3", script.toString(), target).stderr(StderrMode.INHERIT).loop(loop).start();
        List<String> lines = new ArrayList<>();
        String line;
        while ((line = py.readLine().get(20, TimeUnit.SECONDS)) != null) {
            lines.add(line);
        }
        assertEquals(0, py.onExit().get(20, TimeUnit.SECONDS).exitCode(), lines.toString());
        assertEquals("add 3 5", lines.get(0));
        assertEquals("utf8 2 pong", lines.get(1));
        assertEquals("error 6 no such op: fail", lines.get(2));
        assertEquals("pushed 2 pushed hello", lines.get(3));
        assertEquals("answered {\"q\": \"name?\"}", lines.get(4));
        assertEquals("utf8 2 done!", lines.get(5));
        assertEquals(6, lines.size(), lines.toString());
        Map<?, ?> answer = (Map<?, ?>) answers.poll(10, TimeUnit.SECONDS);
        assertEquals("python", answer.get("name"));
        assertEquals(py.pid(), ((Number) answer.get("pid")).intValue());
        assertEquals(Map.of("q", "name?"), answer.get("echo"));
    }

    @Test
    @Timeout(30)
    void pythonClientOverUnixSocket() throws Exception {
        LinkedBlockingQueue<Object> answers = new LinkedBlockingQueue<>();
        try (EventLoop loop = EventLoop.create("py-unix")) {
            Path sock = dir.resolve("py.sock");
            LinkedBlockingQueue<MessageChannel> opened = new LinkedBlockingQueue<>();
            MessageServer server = server(loop, answers).onOpen(opened::add).bind(sock);
            pythonClientSpeaksTheWireFormat("unix:" + sock, loop, answers);
            server.close();
        }
    }

    @Test
    @Timeout(30)
    void pythonClientOverTcp() throws Exception {
        LinkedBlockingQueue<Object> answers = new LinkedBlockingQueue<>();
        try (EventLoop loop = EventLoop.create("py-tcp")) {
            MessageServer server = server(loop, answers).bindTcp(0);
            int port = ((InetSocketAddress) server.localAddress()).getPort();
            pythonClientSpeaksTheWireFormat("tcp:127.0.0.1:" + port, loop, answers);
            server.close();
        }
    }

    @Test
    @Timeout(30)
    void framesOverAChildsStdinAndStdout() throws Exception {
        Path script = TestSupport.script(dir, "echo_pipe.py");
        TestSupport.script(dir, "wire.py");
        try (EventLoop loop = EventLoop.create("py-pipes")) {
            ChildProcess child = ChildProcess.builder("python3", script.toString()).stderr(StderrMode.INHERIT).loop(loop).start();
            LinkedBlockingQueue<Object> echoed = new LinkedBlockingQueue<>();
            MessageChannel ch = MessageChannel.builder(codecs())
                    .peer(new Peer(child.pid(), Peer.UNKNOWN_ID, Peer.UNKNOWN_ID, "child " + child.pid()))
                    .handleAny((ctx, m) -> echoed.add(m))
                    .open(child.stdout(), child.stdin());
            assertEquals(child.pid(), ch.peer().pid());
            assertEquals("hello", ch.request("hello", String.class).get(10, TimeUnit.SECONDS));
            assertEquals(Map.of("k", List.of(1, 2)), ch.request(Map.of("k", List.of(1, 2))).get(10, TimeUnit.SECONDS));
            assertEquals(new Order("tea", 2), ch.request(new Order("tea", 2), Order.class).get(10, TimeUnit.SECONDS));
            byte[] big = new byte[3 * 1024 * 1024 + 7]; // many pipe-fulls each way
            new java.util.Random(11).nextBytes(big);
            assertArrayEquals(big, ch.request(big, byte[].class).get(20, TimeUnit.SECONDS));
            List<java.util.concurrent.CompletableFuture<Boolean>> many = new ArrayList<>();
            for (int i = 0; i < 500; i++) {
                String s = "n" + i;
                many.add(ch.request(s, String.class).thenApply(s::equals));
            }
            for (java.util.concurrent.CompletableFuture<Boolean> f : many) {
                assertTrue(f.get(10, TimeUnit.SECONDS));
            }
            ch.send("one-way");
            assertEquals("one-way", echoed.poll(10, TimeUnit.SECONDS));
            ch.send("bye"); // the child exits: its stdout ends, and the channel closes cleanly
            assertEquals(0, child.onExit().get(10, TimeUnit.SECONDS).exitCode());
            ch.closeFuture().get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    @Timeout(30)
    void overIsTheShortForm() throws Exception {
        Path script = TestSupport.script(dir, "echo_pipe.py");
        TestSupport.script(dir, "wire.py");
        try (EventLoop loop = EventLoop.create("py-over")) {
            ChildProcess child = ChildProcess.builder("python3", script.toString()).stderr(StderrMode.INHERIT).loop(loop).start();
            MessageChannel ch = MessageChannel.over(child.stdout(), child.stdin(), codecs());
            assertEquals("x", ch.request("x", String.class).get(10, TimeUnit.SECONDS));
            ch.closeGracefully().get(10, TimeUnit.SECONDS); // closes stdin: the child reads EOF and exits
            assertEquals(0, child.onExit().get(10, TimeUnit.SECONDS).exitCode());
        }
    }
}
