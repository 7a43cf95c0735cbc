package io.dualpipe.net.internal;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Review 19 of the Sockets split (54950d9, 7945c76): the three classes' static initialisers never
 * wait on each other, whichever is touched first and from how many threads at once (each fresh JVM
 * is one race; ten of them).
 */
class Review19SocketsInitTest {
    @Test
    @Timeout(180)
    void firstUseFromThreeThreadsAtOnceNeverDeadlocks() throws Exception {
        for (int run = 0; run < 10; run++) {
            Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), Review19SocketsInitMain.class.getName())
                    .redirectErrorStream(true).start();
            try {
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertTrue(p.waitFor(60, TimeUnit.SECONDS), out);
                assertEquals(0, p.exitValue(), out);
                assertTrue(out.contains("R19 ok"), out);
            } finally {
                p.destroyForcibly();
            }
        }
    }
}
