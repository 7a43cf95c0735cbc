package io.dualpipe.process;

import io.dualpipe.core.EventLoop;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Stdout of a Java child carries the protocol and nothing else: neither the child JVM's own warnings
 * ({@link JavaChild}) nor a stray {@code System.out.println} in user code ({@link ChildSide}) reach it.
 * Each test runs with this JVM's java and with JDK 25, since the child's java may differ from ours.
 */
class ChildStdoutTest {
    static final Path JDK25 = Path.of("/usr/lib/jvm/temurin-25-jdk-amd64/bin/java");

    private EventLoop loop;

    @BeforeEach
    void startLoop() {
        loop = EventLoop.create("child-stdout-test");
    }

    @AfterEach
    void closeLoop() {
        loop.close(); // kills and reaps any child a failed test left behind
    }

    static Stream<Path> javas() {
        return Stream.of(JavaChild.currentJava(), JDK25);
    }

    @ParameterizedTest
    @MethodSource("javas")
    @Timeout(60)
    void aStrayPrintlnGoesToStderrAndTheLinesStayIntact(Path java) throws Exception {
        assumeTrue(Files.isExecutable(java), java + " is not installed");
        ChildProcess child = JavaChild.of(StrayPrintMain.class).javaBinary(java).processBuilder().stderr(StderrMode.PIPE).loop(loop).start();
        child.writeLine("one");
        assertEquals("ONE", child.readLine().get(30, TimeUnit.SECONDS));
        child.writeLine("two");
        assertEquals("TWO", child.readLine().get(10, TimeUnit.SECONDS));
        child.stdin().shutdownOutput();
        assertEquals(null, child.readLine().get(10, TimeUnit.SECONDS), "nothing else on stdout");
        assertEquals(List.of("stray before", "stray one", "stray two"), stderrLines(child));
        assertEquals(0, child.onExit().get(10, TimeUnit.SECONDS).exitCode());
    }

    @ParameterizedTest
    @MethodSource("javas")
    @Timeout(60)
    void aJvmWarningAtStartGoesToStderrNotIntoTheFirstLine(Path java) throws Exception {
        assumeTrue(Files.isExecutable(java), java + " is not installed");
        String warning = "[warning][pagesize] UseLargePages disabled";
        assumeTrue(plainJavaStdout(java, "-XX:+UseLargePages", "-version").contains(warning),
                "premise: without JavaChild's options, this JVM writes the warning to stdout");

        ChildProcess child = JavaChild.of(UppercaseMain.class).javaBinary(java).jvmOptions("-XX:+UseLargePages")
                .processBuilder().stderr(StderrMode.PIPE).loop(loop).start();
        child.writeLine("hello");
        assertEquals("HELLO", child.readLine().get(30, TimeUnit.SECONDS));
        child.stdin().shutdownOutput();
        assertEquals(null, child.readLine().get(10, TimeUnit.SECONDS), "nothing else on stdout");
        List<String> err = stderrLines(child);
        assertTrue(err.stream().anyMatch(l -> l.contains(warning)), "the warning is kept, on stderr: " + err);
        assertEquals(0, child.onExit().get(10, TimeUnit.SECONDS).exitCode());
    }

    @Test
    void theOptionsComeFirstAndCanBeTurnedOff() {
        List<String> on = JavaChild.of(UppercaseMain.class).jvmOptions("-Xmx32m").command();
        assertEquals(JavaChild.VM_OUTPUT_TO_STDERR, on.subList(1, 4));
        assertEquals("-Xmx32m", on.get(4), "the caller's options come after, so they can add to ours");
        List<String> off = JavaChild.of(UppercaseMain.class).vmOutputToStderr(false).jvmOptions("-Xmx32m").command();
        assertEquals("-Xmx32m", off.get(1));
        assertTrue(off.stream().noneMatch(JavaChild.VM_OUTPUT_TO_STDERR::contains), off.toString());
    }

    private static List<String> stderrLines(ChildProcess child) throws Exception {
        List<String> err = new ArrayList<>();
        for (String l; (l = child.errorLines().readLine().get(10, TimeUnit.SECONDS)) != null; ) {
            err.add(l);
        }
        return err;
    }

    /** The stdout of {@code java args} run without any of JavaChild's options. */
    static String plainJavaStdout(Path java, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(java.toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (InputStream in = p.getInputStream()) {
            in.transferTo(out);
        }
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "java -version did not end");
        return out.toString(StandardCharsets.UTF_8);
    }
}
