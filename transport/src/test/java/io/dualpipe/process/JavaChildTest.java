package io.dualpipe.process;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.codec.Codecs;
import io.dualpipe.core.codec.FrameDecoder;
import io.dualpipe.core.codec.Frames;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Real child JVMs running test mains through {@link ChildSide}. */
class JavaChildTest {
    private EventLoop loop;

    @BeforeEach
    void startLoop() {
        loop = EventLoop.create("java-child-test");
    }

    @AfterEach
    void closeLoop() {
        loop.close(); // kills and reaps any child a failed test left behind
    }

    @Test
    void commandIsThisJvmsJavaWithItsClassPath() {
        List<String> cmd = JavaChild.of(ArgsMain.class).jvmOptions("-Xmx32m").args("a").command();
        assertTrue(Files.isExecutable(Path.of(cmd.get(0))), cmd.get(0));
        List<String> expected = new ArrayList<>(JavaChild.VM_OUTPUT_TO_STDERR);
        expected.addAll(List.of("-Xmx32m", "-cp", System.getProperty("java.class.path"), ArgsMain.class.getName(), "a"));
        assertEquals(expected, cmd.subList(1, cmd.size()));
        assertEquals("/x/java", JavaChild.of(ArgsMain.class).javaBinary(Path.of("/x/java")).classPath("c").command().get(0));
    }

    @Test
    void classWithoutMainIsRefusedUpFront() {
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> JavaChild.builder(String.class));
        assertTrue(e.getMessage().contains("java.lang.String has no public main"), e.getMessage());
    }

    @Test
    @Timeout(30)
    void echoChild() throws Exception {
        ChildProcess child = JavaChild.builder(UppercaseMain.class).loop(loop).start();
        assertEquals("HELLO", child.request("hello").get(20, TimeUnit.SECONDS));
        assertEquals("WÖRLD", child.request("wörld").get(5, TimeUnit.SECONDS));
        child.stdin().shutdownOutput();
        assertEquals(ExitStatus.ofExitCode(0), child.onExit().get(10, TimeUnit.SECONDS));
    }

    @Test
    @Timeout(30)
    void jvmOptionsAndArgsReachTheChild() throws Exception {
        ChildProcess child = JavaChild.of(ArgsMain.class).jvmOptions("-Dgreeting=hi").args("a", "b c")
                .processBuilder().loop(loop).start();
        assertEquals("hi [a, b c]", child.readLine().get(20, TimeUnit.SECONDS));
        assertEquals(0, child.onExit().get(10, TimeUnit.SECONDS).exitCode());
    }

    @Test
    @Timeout(30)
    void uncaughtExceptionExitsNonZeroWithTheStackOnStderr() throws Exception {
        ChildProcess child = JavaChild.builder(ThrowingMain.class).stderr(StderrMode.PIPE).loop(loop).start();
        assertEquals("about to fail", child.readLine().get(20, TimeUnit.SECONDS));
        List<String> err = new ArrayList<>();
        for (String l; (l = child.errorLines().readLine().get(10, TimeUnit.SECONDS)) != null; ) {
            err.add(l);
        }
        assertEquals(ChildSide.UNCAUGHT_EXIT_CODE, child.onExit().get(10, TimeUnit.SECONDS).exitCode());
        String all = String.join("\n", err);
        assertTrue(all.contains("uncaught exception in child pid " + child.pid()
                + ": java.lang.IllegalStateException: boom from child"), all);
        assertTrue(all.contains("at " + ThrowingMain.class.getName()), all);
    }

    @Test
    @Timeout(30)
    void framesBothWaysWithARealChild() throws Exception {
        ChildProcess child = JavaChild.builder(FrameEchoMain.class).loop(loop).start();
        child.stdin().write(frame(Codecs.UTF8, 1, "hello".getBytes(StandardCharsets.UTF_8)));
        child.stdin().write(frame(Codecs.BYTES, 2, new byte[] {1, 2, 3}));
        child.stdin().write(frame(Codecs.UTF8, 3, "fail".getBytes(StandardCharsets.UTF_8)));
        child.stdin().shutdownOutput();

        List<String> replies = new ArrayList<>();
        FrameDecoder decoder = new FrameDecoder();
        for (byte[] chunk; (chunk = child.stdout().read(65536).get(20, TimeUnit.SECONDS)).length > 0; ) {
            decoder.decode(ByteBuffer.wrap(chunk), (type, flags, id, body) -> {
                byte[] b = new byte[body.remaining()];
                body.get(b);
                replies.add(id + " " + flags + " " + (type == Codecs.BYTES ? java.util.Arrays.toString(b)
                        : new String(b, StandardCharsets.UTF_8)));
            });
        }
        decoder.endOfInput();
        assertEquals(List.of("1 2 HELLO", "2 2 [3, 2, 1]", "3 6 asked to fail"), replies);
        assertEquals(0, child.onExit().get(10, TimeUnit.SECONDS).exitCode());
    }

    private static ByteBuffer frame(int type, int requestId, byte[] body) {
        ByteBuffer b = ByteBuffer.allocate(Frames.HEADER_SIZE + body.length);
        Frames.writeHeader(b, type, Frames.FLAG_REQUEST, requestId, body.length);
        return b.put(body).flip();
    }

    @Test
    @Timeout(30)
    void childSeesEndOfInputAsNull() throws Exception {
        ChildProcess child = JavaChild.builder(UppercaseMain.class).loop(loop).start();
        child.stdin().shutdownOutput();
        assertNull(child.readLine().get(20, TimeUnit.SECONDS));
        assertEquals(0, child.onExit().get(10, TimeUnit.SECONDS).exitCode());
    }
}
