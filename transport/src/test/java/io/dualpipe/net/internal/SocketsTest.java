package io.dualpipe.net.internal;

import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.NativeIoException;
import io.dualpipe.core.internal.Native;
import io.dualpipe.core.message.Peer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The jnr-unixsocket half of {@link Sockets} (bind, connect, SO_PEERCRED through views of our fds)
 * and our half (socket, listen, accept with non-blocking and close-on-exec fds), on real sockets.
 */
class SocketsTest {
    @TempDir
    Path dir;

    @Test
    void acceptedAndConnectedFdsAreNonBlockingCloseOnExecAndCarryCredentials() throws Exception {
        Sockets.requireSupported();
        Path path = dir.resolve("s.sock");
        UnixDomainSocketAddress address = UnixDomainSocketAddress.of(path);
        int server = Sockets.open(address);
        int client = -1;
        int accepted = -1;
        try {
            Sockets.bind(server, address);
            Sockets.listen(server, 8, address);
            assertEquals(-Sockets.EAGAIN, Sockets.accept(server), "nobody is waiting yet");
            client = Sockets.open(address);
            assertEquals(0, Sockets.connect(client, address));
            accepted = Sockets.accept(server);
            assertTrue(accepted >= 0, "accept: errno " + -accepted);
            for (int fd : new int[] {server, client, accepted}) {
                assertTrue((Native.LIBC.fcntl(fd, Native.F_GETFL, 0) & Native.O_NONBLOCK) != 0, "O_NONBLOCK on fd " + fd);
                assertTrue((Native.LIBC.fcntl(fd, Native.F_GETFD, 0) & Native.FD_CLOEXEC) != 0, "FD_CLOEXEC on fd " + fd);
            }
            int uid = (Integer) Files.getAttribute(path, "unix:uid", LinkOption.NOFOLLOW_LINKS);
            int pid = (int) ProcessHandle.current().pid();
            Peer fromServer = UnixSockets.peerCredentials(accepted, "a");
            Peer fromClient = UnixSockets.peerCredentials(client, "c");
            assertEquals(pid, fromServer.pid());
            assertEquals(uid, fromServer.uid());
            assertEquals(pid, fromClient.pid());
            assertEquals(uid, fromClient.uid());
            assertEquals(fromServer.gid(), fromClient.gid());

            // The jnr-unixsocket views made above are garbage now: collecting them must not close or
            // shut down our fds (they have no finalizer or cleaner).
            // A weakly held sentinel shows when a collection has actually run (System.gc() is a request).
            java.lang.ref.WeakReference<Object> sentinel = new java.lang.ref.WeakReference<>(new Object());
            for (int i = 0; i < 100 && sentinel.get() != null; i++) {
                System.gc();
            }
            assertTrue(sentinel.get() == null, "no garbage collection ran");
            ByteBuffer out = ByteBuffer.allocateDirect(4).putInt(42).flip();
            assertEquals(4, Native.LIBC.write(client, Native.address(out), 4));
            ByteBuffer in = ByteBuffer.allocateDirect(4);
            assertEquals(4, Native.LIBC.read(accepted, Native.address(in), 4));
            assertEquals(42, in.getInt(0));
            assertTrue(Native.LIBC.fcntl(server, Native.F_GETFD, 0) >= 0, "listening fd still open");
        } finally {
            Native.closeQuietly(accepted);
            Native.closeQuietly(client);
            Native.closeQuietly(server);
        }
    }

    @Test
    void unixConnectErrorsAreTheErrno() throws Exception {
        UnixDomainSocketAddress missing = UnixDomainSocketAddress.of(dir.resolve("missing.sock"));
        int fd = Sockets.open(missing);
        try {
            assertEquals(Sockets.ENOENT, Sockets.connect(fd, missing));
        } finally {
            Native.closeQuietly(fd);
        }
        // A socket file nobody listens on: refused.
        UnixDomainSocketAddress stale = UnixDomainSocketAddress.of(dir.resolve("stale.sock"));
        int bound = Sockets.open(stale);
        int probe = Sockets.open(stale);
        try {
            Sockets.bind(bound, stale);
            assertEquals(Sockets.ECONNREFUSED, Sockets.connect(probe, stale));
        } finally {
            Native.closeQuietly(probe);
            Native.closeQuietly(bound);
        }
    }

    @Test
    void bindingATakenPathIsEaddrinuse() {
        UnixDomainSocketAddress address = UnixDomainSocketAddress.of(dir.resolve("taken.sock"));
        int first = Sockets.open(address);
        int second = Sockets.open(address);
        try {
            Sockets.bind(first, address);
            NativeIoException e = assertThrows(NativeIoException.class, () -> Sockets.bind(second, address));
            assertEquals(Sockets.EADDRINUSE, e.errno());
        } finally {
            Native.closeQuietly(second);
            Native.closeQuietly(first);
        }
    }

    @Test
    void pathsJnrUnixsocketWouldTruncateAreRefused() {
        String longName = "x".repeat(Sockets.SUN_PATH_SIZE);
        assertThrows(InvalidArgumentException.class, () -> Sockets.validate(UnixDomainSocketAddress.of(dir.resolve(longName))));
        if (Sockets.LINUX) {
            InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                    () -> Sockets.validate(UnixDomainSocketAddress.of(dir.resolve("caf\u00e9.sock"))));
            assertTrue(e.getMessage().contains("ASCII"), e.getMessage());
        }
    }

    @Test
    void inetSockaddrLayouts() throws Exception {
        InetSocketAddress v4 = new InetSocketAddress(InetAddress.getByAddress(new byte[] {127, 0, 0, 1}), 0x1234);
        byte[] linux = TcpSockets.sockaddrInet(v4, false, 10);
        byte[] bsd = TcpSockets.sockaddrInet(v4, true, 30);
        assertEquals(16, linux.length);
        assertEquals(Sockets.AF_INET, ByteBuffer.wrap(linux).order(ByteOrder.nativeOrder()).getShort(0));
        assertArrayEquals(new byte[] {16, (byte) Sockets.AF_INET, 0x12, 0x34, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0}, bsd);
        assertEquals(Sockets.AF_INET, TcpSockets.family(bsd, true));
        assertEquals(Sockets.AF_INET, TcpSockets.family(linux, false));

        InetSocketAddress v6 = new InetSocketAddress(InetAddress.getByName("::1"), 443);
        byte[] bsd6 = TcpSockets.sockaddrInet(v6, true, 30);
        assertEquals(28, bsd6.length);
        assertEquals(28, bsd6[0]);
        assertEquals(30, TcpSockets.family(bsd6, true));
        assertEquals(443, ByteBuffer.wrap(bsd6).getShort(2));
        assertEquals(1, bsd6[23]);
        assertNotEquals(30, TcpSockets.family(TcpSockets.sockaddrInet(v6, false, 10), false));
    }
}
