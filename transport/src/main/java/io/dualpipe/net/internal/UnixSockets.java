package io.dualpipe.net.internal;

import io.dualpipe.core.DualPipeException;
import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.internal.Native;
import io.dualpipe.core.message.Peer;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Platform;
import jnr.unixsocket.Credentials;
import jnr.unixsocket.UnixSocketAddress;
import jnr.unixsocket.UnixSocketChannel;
import jnr.unixsocket.UnixSocketOptions;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The Unix-socket half of {@link Sockets}: path checks and encodings, bind, connect, peer
 * credentials and unlink. Path checks, bind and connect come through {@link Sockets}, which picks
 * this class or {@link TcpSockets} by the address's type; a caller with a Unix socket or socket file
 * in hand calls peer credentials, cString and unlink here directly.
 *
 * <p><b>jnr-unixsocket</b> builds the {@code sockaddr_un} (its layout differs: Linux has a 2-byte
 * family, macOS a {@code sun_len} byte and a 1-byte family), binds and connects, and reads
 * SO_PEERCRED on Linux. It is reached through {@link UnixSocketChannel#fromFD} <em>views</em> of our
 * own fds: a view is a plain Java object (no finalizer or cleaner in jnr-unixsocket or jnr-enxio; a
 * test checks that a collected view leaves the fd open) and is never closed, because its
 * {@code close()} calls {@code shutdown()} first, which would break a socket we still use. Creating,
 * listening and accepting stay on our own calls in {@link Sockets} (its class comment says why).
 *
 * <p>jnr-unixsocket 0.38.23 passes a Linux {@code sockaddr_un}'s length as the path's length in
 * <em>characters</em>, so a non-ASCII path is silently truncated at bind; such paths are refused on
 * Linux with an {@link InvalidArgumentException} instead.
 *
 * <p>Thread-safe: static, stateless. No buffers cross the API: every {@code byte[]} returned is a
 * fresh array the caller owns.
 */
final class UnixSockets {
    /** macOS {@code <sys/un.h>}: the level and option for the peer's pid. */
    static final int SOL_LOCAL = 0;
    static final int LOCAL_PEERPID = 2;

    private static final Charset FILE_NAMES = fileNameCharset();

    /** Loaded on first use, so that no other OS looks up getpeereid. */
    private static final class DarwinLib {
        static final SocketLib.Darwin LIB = LibraryLoader.create(SocketLib.Darwin.class).load(Platform.getNativePlatform().getStandardCLibraryName());
    }

    private UnixSockets() {
    }

    /** Loads and initializes this class (see {@link Sockets#open}); does nothing else. */
    static void load() {
    }

    /**
     * Checks what jnr-unixsocket's {@code sockaddr_un} cannot hold, as it would truncate silently: a
     * path over sun_path's size, and on Linux a non-ASCII path (its length is passed in characters).
     * It encodes paths in UTF-8, so the file-name encoding (used by unlink, chmod and Files.*) must
     * give the same bytes.
     */
    static void checkPath(Path path) {
        String text = path.toString();
        byte[] p = text.getBytes(StandardCharsets.UTF_8);
        if (p.length == 0) {
            throw new InvalidArgumentException("unix socket path is empty");
        }
        if (p.length + 1 > Sockets.SUN_PATH_SIZE) {
            throw new InvalidArgumentException("unix socket path is " + p.length + " bytes, over the " + (Sockets.SUN_PATH_SIZE - 1)
                    + "-byte limit of sockaddr_un: " + path);
        }
        if (Sockets.LINUX && p.length != text.length()) {
            throw new InvalidArgumentException("unix socket path must be ASCII on Linux (jnr-unixsocket 0.38.23 would bind a"
                    + " truncated name): " + path);
        }
        if (!Arrays.equals(p, pathBytes(path))) {
            throw new InvalidArgumentException("unix socket path encodes differently in UTF-8 (jnr-unixsocket's encoding) and in"
                    + " the file-name encoding " + FILE_NAMES + ": " + path);
        }
    }

    /** jnr-unixsocket's address: it lays out sockaddr_un for the running OS. */
    static UnixSocketAddress address(Path path) {
        checkPath(path);
        return new UnixSocketAddress(path.toString());
    }

    /** A jnr-unixsocket view of our fd, for its bind, connect and SO_PEERCRED. Never close it (see the class comment). */
    private static UnixSocketChannel view(int fd) {
        return UnixSocketChannel.fromFD(fd);
    }

    static byte[] pathBytes(Path path) {
        return path.toString().getBytes(FILE_NAMES);
    }

    static byte[] cString(Path path) {
        byte[] p = pathBytes(path);
        return Arrays.copyOf(p, p.length + 1);
    }

    /**
     * jnr-unixsocket's bind, without its listen: the caller chmods the file before listening. Its
     * error is an IOException carrying strerror's text; the errno is still the thread's saved one (only
     * strerror ran since, which leaves it alone), and is used when the text matches it.
     */
    static void bind(int fd, Path path) {
        UnixSocketAddress sa = address(path);
        try {
            view(fd).bind(sa);
        } catch (IOException e) {
            int errno = Native.errno();
            String what = "bind(unix:" + path + ")";
            if (errno != 0 && Native.LIBC.strerror(errno).equals(e.getMessage())) {
                throw Sockets.error(what, errno);
            }
            throw new DualPipeException(what + " failed: " + e.getMessage(), e);
        }
    }

    /**
     * jnr-unixsocket's connect: 0, or the errno (EAGAIN for a server whose backlog is full). It returns
     * false for EAGAIN and throws for any other errno; the thread's saved errno is read right after,
     * as nothing calls into libc in between.
     */
    static int connect(int fd, Path path) {
        UnixSocketChannel view = view(fd);
        UnixSocketAddress sa = address(path);
        while (true) {
            try {
                return view.connect(sa) ? 0 : Sockets.EAGAIN;
            } catch (IOException e) {
                int errno = Native.errno();
                if (errno != Sockets.EINTR) {
                    return errno;
                }
            }
        }
    }

    /**
     * The credentials of a Unix socket's peer, as when it connected. Linux: jnr-unixsocket's
     * SO_PEERCRED (pid, uid, gid). macOS, which has no SO_PEERCRED: getpeereid (uid, gid) and
     * LOCAL_PEERPID (pid).
     */
    static Peer peerCredentials(int fd, String address) {
        if (Sockets.DARWIN) {
            int[] uid = {0};
            int[] gid = {0};
            if (DarwinLib.LIB.getpeereid(fd, uid, gid) < 0) {
                throw Native.lastError("getpeereid(fd " + fd + ")");
            }
            byte[] v = new byte[4];
            int[] len = {4};
            if (Sockets.LIB.getsockopt(fd, SOL_LOCAL, LOCAL_PEERPID, v, len) < 0) {
                throw Native.lastError("getsockopt(fd " + fd + ", LOCAL_PEERPID)");
            }
            return new Peer(ByteBuffer.wrap(v).order(ByteOrder.nativeOrder()).getInt(), uid[0], gid[0], address);
        }
        Credentials c;
        try {
            c = view(fd).getOption(UnixSocketOptions.SO_PEERCRED);
        } catch (IOException | UnsupportedOperationException e) {
            // getsockopt failed; jnr-unixsocket threw with strerror's text, which leaves the saved errno alone.
            throw Native.lastError("getsockopt(fd " + fd + ", SO_PEERCRED)");
        }
        return new Peer(c.getPid(), c.getUid(), c.getGid(), address);
    }

    /** unlink(2); returns the errno, 0 on success. */
    static int unlink(Path path) {
        return Sockets.LIB.unlink(cString(path)) == 0 ? 0 : Native.errno();
    }

    private static Charset fileNameCharset() {
        // The JDK encodes file names with sun.jnu.encoding; so must we, or Files.* and bind disagree.
        try {
            return Charset.forName(System.getProperty("sun.jnu.encoding", "UTF-8"));
        } catch (RuntimeException e) {
            return StandardCharsets.UTF_8;
        }
    }
}
