package io.dualpipe.core.review13;

import io.dualpipe.core.FdChannel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.File;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@link FdChannel} is a {@code SelectableChannel}: a user may call {@code configureBlocking(true)}.
 * A heap write of {@link FdChannel#PIN_MIN} bytes or more to such a channel must not block in write(2)
 * while the array is pinned (GetPrimitiveArrayCritical): on JDK 17's G1 that holds the GC locker, so
 * every thread that needs a collection to allocate stalls, and if the pipe's reader is one of them
 * the JVM deadlocks. Run in a child JVM so a deadlock cannot hang the test run.
 */
class BlockingFdPinnedWriteTest {
    static final int TOTAL = 16 * 1024 * 1024;

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void blockingWriterAndAllocatingReaderInOneJvmFinish() throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(java.toString(), "-Xmx64m", "-XX:+UseG1GC", "-cp", System.getProperty("java.class.path"),
                Main.class.getName())
                .redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        try {
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                fail("child JVM hung: a blocking pinned write(2) held the GC locker while the reader waited for a collection");
            }
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(0, p.exitValue(), out);
            assertTrue(out.contains("ok " + TOTAL), out);
        } finally {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** The child: one thread writes 16 MiB in one blocking call, the main thread reads it, allocating as it goes. */
    public static final class Main {
        static volatile long sink;

        public static void main(String[] args) throws Exception {
            FdChannel[] pipe = FdChannel.pipe();
            pipe[0].configureBlocking(true);
            pipe[1].configureBlocking(true);
            byte[] data = new byte[TOTAL];
            for (int i = 0; i < data.length; i++) {
                data[i] = (byte) (i * 31 + (i >>> 13));
            }
            Thread writer = new Thread(() -> {
                try {
                    int off = 0;
                    while (off < data.length) {
                        off += pipe[1].write(data, off, data.length - off);
                    }
                    pipe[1].close();
                } catch (Exception e) {
                    e.printStackTrace();
                    System.exit(3);
                }
            }, "writer");
            writer.setDaemon(true);
            writer.start();
            long total = 0;
            while (true) {
                byte[] junk = new byte[512 * 1024]; // fills the young generation: a collection is soon needed
                sink += junk.length;
                ByteBuffer buf = ByteBuffer.allocate(32 * 1024);
                int n = pipe[0].read(buf);
                if (n < 0) {
                    break;
                }
                for (int i = 0; i < n; i++) {
                    if (buf.get(i) != data[(int) total + i]) {
                        System.out.println("wrong byte at " + (total + i));
                        System.exit(2);
                    }
                }
                total += n;
            }
            System.out.println("ok " + total);
            System.exit(0);
        }
    }
}
