package io.dualpipe.net.internal;

import io.dualpipe.net.AddressInUseException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The socket file's mode is set on the socket file itself, never through a symbolic link. */
class UnixSocketFileModeTest {
    @TempDir
    Path dir;

    @Test
    @Timeout(10)
    void aSymbolicLinkPlantedAtThePathIsRefusedAndItsTargetKeepsItsMode() throws Exception {
        Path target = Files.writeString(dir.resolve("secret"), "keep");
        Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rw-------"));
        Path link = Files.createSymbolicLink(dir.resolve("s.sock"), target); // planted between bind and chmod
        AddressInUseException e = assertThrows(AddressInUseException.class, () -> UnixSocketFile.setMode(link, 0666));
        assertTrue(e.getMessage().contains("unix:" + link + " is no longer the socket file this server bound: it is a symbolic link"),
                e.getMessage());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(target)));
    }

    @Test
    @Timeout(10)
    void aRegularFileAtThePathIsRefusedAndKeepsItsMode() throws Exception {
        Path file = Files.writeString(dir.resolve("s.sock"), "keep");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        assertThrows(AddressInUseException.class, () -> UnixSocketFile.setMode(file, 0666));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    }

    @Test
    @Timeout(10)
    void aSocketOfOursGetsTheModeAskedFor() throws Exception {
        Path sock = dir.resolve("s.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(sock));
            UnixSocketFile.setMode(sock, 0660);
            assertEquals("rw-rw----", PosixFilePermissions.toString(Files.getPosixFilePermissions(sock)));
            UnixSocketFile.setMode(sock, 0600);
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(sock)));
        }
    }
}
