package io.dualpipe.core.review13;

import io.dualpipe.core.FdChannel;
import io.dualpipe.core.internal.Native;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.FileOutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A pinned write holds the array (and on JDK 17's G1 the GC locker) for the whole write(2). A pipe or
 * socket takes at most its buffer, but a regular file takes all it is given: one pinned call must move
 * a bounded count, or a big heap buffer written to a file stalls every allocating thread for the copy
 * (measured: 256 MiB to tmpfs, another thread's 1 MiB allocation waited 2.0 s).
 */
class PinnedWriteBoundTest {
    private static final int F_DUPFD_CLOEXEC = 1030;

    @TempDir
    Path dir;

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void onePinnedWriteToAFileMovesAtMostOneMiB() throws Exception {
        Path file = dir.resolve("out.bin");
        byte[] data = new byte[8 * 1024 * 1024 + 5];
        new Random(7).nextBytes(data);
        try (FileOutputStream fos = new FileOutputStream(file.toFile())) {
            int dup = Native.LIBC.fcntl(fdOf(file), F_DUPFD_CLOEXEC, 0); // the channel owns (and closes) its own fd
            assertTrue(dup >= 0, "dup failed");
            try (FdChannel ch = new FdChannel(dup, SelectionKey.OP_WRITE)) {
                int first = ch.write(data, 0, data.length);
                assertTrue(first > 0 && first <= 1024 * 1024, "one write(byte[]) moved " + first + " bytes");
                ByteBuffer rest = ByteBuffer.wrap(data, first, data.length - first);
                while (rest.hasRemaining()) {
                    int before = rest.position();
                    int n = ch.write(rest);
                    assertTrue(n > 0 && n <= 1024 * 1024, "one write(ByteBuffer) moved " + n + " bytes");
                    assertTrue(rest.position() == before + n);
                }
            }
        }
        assertArrayEquals(data, Files.readAllBytes(file));
    }

    /** The fd this process has open on {@code file}, found in /proc/self/fd. */
    private static int fdOf(Path file) throws Exception {
        Path real = file.toRealPath();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            for (Path p : ds) {
                try {
                    if (Files.readSymbolicLink(p).equals(real)) {
                        return Integer.parseInt(p.getFileName().toString());
                    }
                } catch (java.io.IOException ignored) {
                    // closed meanwhile (the directory stream's own fd)
                }
            }
        }
        throw new AssertionError("no fd on " + real);
    }
}
