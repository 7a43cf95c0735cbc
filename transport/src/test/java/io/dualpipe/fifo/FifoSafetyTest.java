package io.dualpipe.fifo;

import io.dualpipe.fifo.internal.FifoNative;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * An existing FIFO is reused only when it is ours and has the mode asked for; the mode of a new one
 * is never set through a symbolic link.
 */
class FifoSafetyTest {
    @TempDir
    Path dir;

    @Test
    @Timeout(10)
    void anExistingFifoWithAnotherModeIsRefusedAndLeftAlone() throws Exception {
        Path fifo = dir.resolve("f");
        assertTrue(Fifo.create(fifo, 0622)); // others may write: anyone could inject messages
        UnsafeFifoException e = assertThrows(UnsafeFifoException.class, () -> Fifo.create(fifo));
        int euid = FifoNative.euid();
        assertEquals("fifo '" + fifo + "' exists but is not safe to reuse: owner uid " + euid
                + ", mode 0622 (asked for 0600); remove it, or create it where nobody else can", e.getMessage());
        assertEquals(0622, e.mode());
        assertEquals(0600, e.requestedMode());
        assertEquals(euid, e.ownerUid());
        assertEquals(fifo, e.path());
        assertEquals("rw--w--w-", PosixFilePermissions.toString(Files.getPosixFilePermissions(fifo)));
        assertFalse(Fifo.create(fifo, 0622), "the mode it has is reused");
    }

    @Test
    @Timeout(10)
    void anotherUsersFifoIsRefusedAndLeftAlone() throws Exception {
        assumeTrue(FifoNative.euid() == 0, "only root can give a file to another user");
        Path fifo = dir.resolve("f");
        Fifo.create(fifo);
        Files.setAttribute(fifo, "unix:uid", 4321);
        UnsafeFifoException e = assertThrows(UnsafeFifoException.class, () -> Fifo.create(fifo));
        assertEquals(4321, e.ownerUid());
        assertTrue(e.getMessage().contains("owner uid 4321 (this process runs as uid 0), mode 0600;"), e.getMessage());
        assertEquals(4321, Files.getAttribute(fifo, "unix:uid"));
    }

    @Test
    @Timeout(10)
    void theModeIsNeverSetThroughASymbolicLink() throws Exception {
        Path target = Files.writeString(dir.resolve("secret"), "keep");
        Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rw-------"));
        Path link = Files.createSymbolicLink(dir.resolve("f"), target); // planted between mkfifo and chmod
        NotAFifoException e = assertThrows(NotAFifoException.class, () -> Fifo.applyMode(link, 0666));
        assertEquals("symbolic link", e.actualType());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(target)));
        assertTrue(Files.isSymbolicLink(link), "what was planted is not ours to remove");
    }

    @Test
    @Timeout(10)
    void theModeIsNeverSetOnSomethingElseThatReplacedTheFifo() throws Exception {
        Path file = Files.writeString(dir.resolve("f"), "keep");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        NotAFifoException e = assertThrows(NotAFifoException.class, () -> Fifo.applyMode(file, 0666));
        assertEquals("regular file", e.actualType());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    }
}
