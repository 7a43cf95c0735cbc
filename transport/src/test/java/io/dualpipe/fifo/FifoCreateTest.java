package io.dualpipe.fifo;

import io.dualpipe.core.InvalidArgumentException;
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

class FifoCreateTest {
    @TempDir
    Path dir;

    @Test
    @Timeout(10)
    void createsAFifoWithMode0600() throws Exception {
        Path fifo = dir.resolve("f");
        assertTrue(Fifo.create(fifo));
        assertTrue(Fifo.isFifo(fifo));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(fifo)));
    }

    @Test
    @Timeout(10)
    void anExplicitModeIsAppliedExactlyDespiteTheUmask() throws Exception {
        Path fifo = dir.resolve("f");
        Fifo.create(fifo, 0666); // a umask of 022 or 077 would strip bits from mkfifo's mode
        assertEquals("rw-rw-rw-", PosixFilePermissions.toString(Files.getPosixFilePermissions(fifo)));
    }

    @Test
    @Timeout(10)
    void anExistingFifoOfOursWithTheModeAskedForIsReused() throws Exception {
        Path fifo = dir.resolve("f");
        assertTrue(Fifo.create(fifo, 0640));
        assertFalse(Fifo.create(fifo, 0640));
        assertEquals("rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(fifo)));
        // another mode is refused: FifoSafetyTest
    }

    @Test
    @Timeout(10)
    void anExistingRegularFileIsATypedErrorAndLeftAlone() throws Exception {
        Path file = Files.writeString(dir.resolve("f"), "data");
        NotAFifoException e = assertThrows(NotAFifoException.class, () -> Fifo.create(file));
        assertEquals("fifo '" + file + "' exists and is not a FIFO (regular file)", e.getMessage());
        assertEquals("regular file", e.actualType());
        assertEquals(file, e.path());
        assertEquals("data", Files.readString(file));
    }

    @Test
    @Timeout(10)
    void anExistingDirectoryOrDanglingLinkIsATypedError() throws Exception {
        Path sub = Files.createDirectory(dir.resolve("sub"));
        assertEquals("directory", assertThrows(NotAFifoException.class, () -> Fifo.create(sub)).actualType());
        Path link = Files.createSymbolicLink(dir.resolve("link"), dir.resolve("nowhere"));
        assertEquals("dangling symbolic link", assertThrows(NotAFifoException.class, () -> Fifo.create(link)).actualType());
    }

    @Test
    @Timeout(10)
    void aSymbolicLinkToAFifoIsReused() throws Exception {
        Path fifo = dir.resolve("f");
        Fifo.create(fifo);
        Path link = Files.createSymbolicLink(dir.resolve("link"), fifo);
        assertFalse(Fifo.create(link));
        assertTrue(Fifo.isFifo(link));
    }

    @Test
    @Timeout(10)
    void aMissingParentDirectoryIsATypedError() {
        Path fifo = dir.resolve("nope").resolve("f");
        MissingParentDirectoryException e = assertThrows(MissingParentDirectoryException.class, () -> Fifo.create(fifo));
        assertEquals(dir.resolve("nope"), e.directory());
        assertEquals("cannot create fifo '" + fifo + "': directory '" + dir.resolve("nope") + "' does not exist", e.getMessage());
    }

    @Test
    @Timeout(10)
    void modesBeyondPermissionBitsAreRejected() {
        Path fifo = dir.resolve("f");
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> Fifo.create(fifo, 04755));
        assertEquals("mode must be within 0000..0777 (permission bits only): 04755", e.getMessage());
        assertThrows(InvalidArgumentException.class, () -> Fifo.create(fifo, -1));
        assertFalse(Files.exists(fifo));
    }

    @Test
    @Timeout(10)
    void deleteRemovesAFifoAndOnlyAFifo() throws Exception {
        Path fifo = dir.resolve("f");
        Fifo.create(fifo);
        assertTrue(Fifo.delete(fifo));
        assertFalse(Files.exists(fifo));
        assertFalse(Fifo.delete(fifo));

        Path file = Files.writeString(dir.resolve("file"), "keep me");
        assertThrows(NotAFifoException.class, () -> Fifo.delete(file));
        assertEquals("keep me", Files.readString(file));

        Fifo.create(fifo);
        Path link = Files.createSymbolicLink(dir.resolve("link"), fifo);
        assertEquals("symbolic link", assertThrows(NotAFifoException.class, () -> Fifo.delete(link)).actualType());
        assertTrue(Fifo.isFifo(fifo));
    }

    @Test
    @Timeout(10)
    void isFifoIsFalseForOtherFilesAndNothing() throws Exception {
        assertFalse(Fifo.isFifo(dir));
        assertFalse(Fifo.isFifo(dir.resolve("missing")));
        assertFalse(Fifo.isFifo(Files.writeString(dir.resolve("file"), "x")));
    }
}
