package io.dualpipe.core;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * JDK 22+ native-access rules, in child JVMs of JDK 25: with the documented flag the library starts
 * without a word on stderr; where native access is denied the first call fails with a
 * {@link NativeAccessException} that names the flag, and so does every later one. Skipped where
 * there is no JDK 25 ({@code -Ddualpipe.jdk25=/path/to/jdk} points at another one).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class NativeAccessTest {
    private static final Path JDK25 = Path.of(System.getProperty("dualpipe.jdk25", "/usr/lib/jvm/temurin-25-jdk-amd64"));

    /** The child: opens a loop twice and prints what happened, one line per attempt. */
    public static final class Main {
        public static void main(String[] args) {
            for (int i = 0; i < 2; i++) {
                try (EventLoop loop = EventLoop.create("native-access-" + i)) {
                    System.out.println("ok");
                } catch (RuntimeException e) {
                    System.out.println(e.getClass().getName() + ": " + e.getMessage());
                }
            }
        }
    }

    @Test
    void deniedNativeAccessIsATypedErrorNamingTheFlag() throws Exception {
        Run run = run("--illegal-native-access=deny");
        assertEquals(2, run.lines.size(), run.toString());
        for (String line : run.lines) {
            assertTrue(line.startsWith(NativeAccessException.class.getName() + ": native access is denied"), run.toString());
            assertTrue(line.contains("--enable-native-access=ALL-UNNAMED"), run.toString());
        }
    }

    @Test
    void theDocumentedFlagStartsWithoutAWarning() throws Exception {
        Run run = run("--enable-native-access=ALL-UNNAMED");
        assertEquals(List.of("ok", "ok"), run.lines, run.toString());
        assertFalse(run.stderr.contains("WARNING"), run.toString());
    }

    @Test
    void deniedUnsafeMemoryAccessDoesNotMatter() throws Exception {
        Run run = run("--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=deny");
        assertEquals(List.of("ok", "ok"), run.lines, run.toString());
        assertFalse(run.stderr.contains("WARNING"), run.toString());
    }

    private record Run(List<String> lines, String stderr) {
    }

    private static Run run(String... flags) throws IOException, InterruptedException {
        Path java = JDK25.resolve("bin/java");
        Assumptions.assumeTrue(Files.isExecutable(java), "no JDK 25 at " + JDK25 + ": skipped (set -Ddualpipe.jdk25)");
        List<String> cmd = new ArrayList<>(List.of(java.toString(), "-Xshare:auto", "-XX:TieredStopAtLevel=1"));
        cmd.addAll(List.of(flags));
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
        Path err = Files.createTempFile("native-access", ".err");
        try {
            Process p = new ProcessBuilder(cmd).redirectError(err.toFile()).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("child JVM did not exit: " + cmd);
            }
            return new Run(out.lines().toList(), Files.readString(err));
        } finally {
            Files.deleteIfExists(err);
        }
    }
}
