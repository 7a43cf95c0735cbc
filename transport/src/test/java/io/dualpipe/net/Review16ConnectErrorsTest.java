package io.dualpipe.net;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.NativeIoException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static io.dualpipe.net.TestSupport.codecs;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Review 16: connecting to paths that are no server's socket. */
class Review16ConnectErrorsTest {
    @TempDir
    Path dir;
    private EventLoop loop;

    @BeforeEach
    void start() {
        loop = EventLoop.create("r16-connect");
    }

    @AfterEach
    void stop() {
        loop.close();
    }

    private Throwable failure(Path target, int attempts) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> MessageClient.builder(codecs()).loop(loop)
                .retry(attempts, Duration.ofMillis(5)).connect(target).get(20, TimeUnit.SECONDS));
        return e.getCause();
    }

    /**
     * A regular file, a directory or a FIFO at the path: connect(2) says only ECONNREFUSED, which the
     * client reported as "nobody listens" and retried every attempt, though no server can ever
     * listen there (a server refuses to replace what is not a socket).
     */
    @Test
    @Timeout(30)
    void aPathThatIsNotASocketFailsAtOnceSayingSo() throws Exception {
        Path file = Files.writeString(dir.resolve("plain.txt"), "x");
        Path sub = Files.createDirectory(dir.resolve("sub"));
        Path fifo = dir.resolve("fifo");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
        String[] kinds = {"a regular file", "a directory", "a FIFO"};
        Path[] paths = {file, sub, fifo};
        for (int i = 0; i < paths.length; i++) {
            ConnectionRefusedException e = assertInstanceOf(ConnectionRefusedException.class, failure(paths[i], 1000));
            assertEquals("unix:" + paths[i], e.address());
            assertTrue(e.getMessage().contains(paths[i] + " is " + kinds[i] + ", not a socket"), e.getMessage());
            assertFalse(e.getMessage().contains("attempts"), "not retried: " + e.getMessage());
        }
    }

    @Test
    @Timeout(30)
    void aTooLongOrNonAsciiPathIsRefusedNamingTheRule() {
        Path longPath = dir.resolve("x".repeat(120));
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                () -> MessageClient.builder(codecs()).loop(loop).connect(longPath));
        assertTrue(e.getMessage().contains("over the 107-byte limit of sockaddr_un: " + longPath), e.getMessage());
        InvalidArgumentException bind = assertThrows(InvalidArgumentException.class,
                () -> MessageServer.builder(codecs()).loop(loop).bind(longPath));
        assertTrue(bind.getMessage().contains("107-byte limit"), bind.getMessage());
        assertFalse(Files.exists(longPath));
        Path missingDir = dir.resolve("no-such-dir").resolve("s.sock");
        ConnectionRefusedException gone = assertInstanceOf(ConnectionRefusedException.class, failure(missingDir, 2));
        assertEquals("ENOENT", gone.errnoName());
        Path belowFile = dir.resolve("f").resolve("s.sock");
        try {
            Files.writeString(dir.resolve("f"), "x");
        } catch (java.io.IOException io) {
            throw new AssertionError(io);
        }
        NativeIoException notDir = assertInstanceOf(NativeIoException.class, failure(belowFile, 5));
        assertEquals("ENOTDIR", notDir.errnoName());
        assertTrue(notDir.getMessage().contains("unix:" + belowFile), notDir.getMessage());
    }
}
