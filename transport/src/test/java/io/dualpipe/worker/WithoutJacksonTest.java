package io.dualpipe.worker;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.MissingDependencyException;
import io.dualpipe.core.codec.CodecRegistry;
import io.dualpipe.core.codec.Codecs;
import io.dualpipe.core.codec.DecodeException;
import io.dualpipe.core.codec.EncodeException;
import io.dualpipe.process.ChildProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.File;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Jackson is optional: in a JVM whose class path lacks it, bytes and text messages work, and each
 * JSON use fails with a typed error naming the dependency to add, never a NoClassDefFoundError.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class WithoutJacksonTest {

    /** The child: prints one line per check. */
    public static final class Main {
        public static void main(String[] args) {
            CodecRegistry registry = CodecRegistry.builder().registerAll(Codecs.builtins()).build();
            System.out.println("builtins " + registry.codecFor(String.class).decode(ByteBuffer.wrap("hi".getBytes(StandardCharsets.UTF_8))));
            check("json(type, class)", () -> Codecs.json(0x10, Main.class));
            check("json().encode", () -> Codecs.json().encode(List.of(1)));
            check("json().decode", () -> Codecs.json().decode(ByteBuffer.wrap("[1]".getBytes(StandardCharsets.UTF_8))));
            check("EnvelopeCodec", EnvelopeCodec::new);
            try (EventLoop loop = EventLoop.create("no-jackson")) {
                check("WorkerPool", () -> WorkerPool.builder(() -> ChildProcess.builder("cat")).loop(loop).start());
            }
        }

        private static void check(String what, Runnable r) {
            try {
                r.run();
                System.out.println(what + " worked");
            } catch (RuntimeException e) {
                Throwable missing = e instanceof MissingDependencyException ? e : e.getCause();
                String kind = e instanceof EncodeException ? "EncodeException" : e instanceof DecodeException ? "DecodeException"
                        : e.getClass().getSimpleName();
                System.out.println(what + " " + kind + " " + (missing instanceof MissingDependencyException m ? m.dependency() : "?")
                        + " " + e.getMessage().contains("com.fasterxml.jackson.core:jackson-databind"));
            }
        }
    }

    @Test
    void everyJsonUseNamesTheMissingDependency() throws Exception {
        String classPath = Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(e -> !e.contains("jackson"))
                .collect(Collectors.joining(File.pathSeparator));
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> cmd = new java.util.ArrayList<>(List.of(java.toString(), "-Xshare:auto", "-XX:TieredStopAtLevel=1"));
        if (Runtime.version().feature() >= 22) {
            cmd.add("--enable-native-access=ALL-UNNAMED");
        }
        cmd.addAll(List.of("-cp", classPath, Main.class.getName()));
        Path err = Files.createTempFile("no-jackson", ".err");
        try {
            Process p = new ProcessBuilder(cmd).redirectError(err.toFile()).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(30, TimeUnit.SECONDS), "child JVM did not exit");
            String d = "com.fasterxml.jackson.core:jackson-databind true";
            assertEquals(List.of("builtins hi",
                    "json(type, class) MissingDependencyException " + d,
                    "json().encode EncodeException " + d,
                    "json().decode DecodeException " + d,
                    "EnvelopeCodec MissingDependencyException " + d,
                    "WorkerPool MissingDependencyException " + d), out.lines().toList(), out + Files.readString(err));
        } finally {
            Files.deleteIfExists(err);
        }
    }
}
