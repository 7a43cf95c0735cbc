package io.dualpipe.net.internal;

import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.NativeIoException;
import io.dualpipe.core.internal.Native;
import io.dualpipe.net.UnsupportedPlatformException;
import jnr.constants.platform.AddressFamily;
import jnr.constants.platform.Errno;
import jnr.constants.platform.SocketLevel;
import jnr.constants.platform.SocketOption;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Platform;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * Socket plumbing on raw fds, the part every address family shares: the platform's constants and
 * errnos, socket creation, listen, accept, SO_ERROR, and describing and checking addresses. A call
 * given a {@link SocketAddress} (bind, connect, validate) goes to {@link UnixSockets} or
 * {@link TcpSockets} by the address's type, so the caller need not choose; a caller that already
 * knows the family (peer credentials of a Unix socket, TCP options and addresses, a socket file's
 * unlink) calls that half directly.
 *
 * <p>Split of work, and why:
 * <ul>
 * <li><b>jnr-unixsocket</b> builds the {@code sockaddr_un}, binds and connects Unix sockets, and
 * reads SO_PEERCRED on Linux, through never-closed views of our own fds ({@link UnixSockets}).</li>
 * <li><b>Our own calls</b> create sockets (atomically non-blocking and close-on-exec on Linux), listen,
 * and accept (accept4 on Linux, accept + fcntl on macOS). jnr-unixsocket's channels would not do:
 * their {@code accept()} returns null on every error (it spun 30,000 times in 100 ms under EMFILE),
 * forces accepted fds back to blocking mode and leaves them inheritable, and their reads copy into a
 * fresh heap array each time. Its server socket also binds and listens in one call, which would leave
 * the socket file reachable under the umask's mode until our chmod.</li>
 * <li><b>TCP</b> stays on hand-built {@code sockaddr_in}/{@code sockaddr_in6}, with the BSD leading
 * {@code sin_len} byte on macOS; the option numbers come from jnr-constants for the running OS
 * ({@link TcpSockets}).</li>
 * </ul>
 *
 * <p>Supported: Linux and macOS ({@link #requireSupported}). macOS support is written from its headers
 * and man pages and has not been run here.
 *
 * <p>Thread-safe: static, stateless. No buffers cross the API: every {@code byte[]} returned is a
 * fresh array the caller owns.
 */
final class Sockets {
    public static final SocketLib LIB = LibraryLoader.create(SocketLib.class).load(Platform.getNativePlatform().getStandardCLibraryName());

    static final Platform.OS OS = Platform.getNativePlatform().getOS();
    static final boolean LINUX = OS == Platform.OS.LINUX;
    static final boolean DARWIN = OS == Platform.OS.DARWIN;
    /** BSD-style sockaddrs start with a length byte ({@code sin_len}), then a one-byte family. */
    static final boolean BSD_SOCKADDR = Platform.getNativePlatform().isBSD();

    static final int AF_UNIX = 1;
    static final int AF_INET = 2;
    /** 10 on Linux, 30 on macOS. */
    static final int AF_INET6 = AddressFamily.AF_INET6.intValue();
    static final int SOCK_STREAM = 1;
    /** Linux only (socket and accept4 flags). */
    public static final int SOCK_NONBLOCK = 0x800;
    /** Linux only (socket and accept4 flags). */
    public static final int SOCK_CLOEXEC = 0x80000;
    static final int SOL_SOCKET = SocketLevel.SOL_SOCKET.intValue();
    static final int SO_ERROR = SocketOption.SO_ERROR.intValue();
    /**
     * sizeof(sun_path): the path and its NUL must fit. 108 on Linux, 104 on macOS. Kept with the other
     * per-OS numbers so that {@link UnixSockets}, which reads it, depends on this class and not the
     * reverse: no cycle between the two classes' static initialisers.
     */
    static final int SUN_PATH_SIZE = LINUX ? 108 : 104;

    public static final int EAGAIN = Errno.EAGAIN.intValue();
    public static final int EWOULDBLOCK = Errno.EWOULDBLOCK.intValue();
    public static final int EINTR = Errno.EINTR.intValue();
    public static final int EINPROGRESS = Errno.EINPROGRESS.intValue();
    public static final int ECONNREFUSED = Errno.ECONNREFUSED.intValue();
    public static final int ENOENT = Errno.ENOENT.intValue();
    public static final int EADDRINUSE = Errno.EADDRINUSE.intValue();
    public static final int EMFILE = Errno.EMFILE.intValue();
    public static final int ENFILE = Errno.ENFILE.intValue();
    public static final int ENOBUFS = Errno.ENOBUFS.intValue();
    public static final int ENOMEM = Errno.ENOMEM.intValue();
    public static final int ECONNABORTED = Errno.ECONNABORTED.intValue();
    public static final int EPROTO = Errno.EPROTO.intValue();
    public static final int ETIMEDOUT = Errno.ETIMEDOUT.intValue();
    public static final int ECONNRESET = Errno.ECONNRESET.intValue();
    public static final int EHOSTUNREACH = Errno.EHOSTUNREACH.intValue();
    public static final int ENETUNREACH = Errno.ENETUNREACH.intValue();

    /** The accept call this OS uses, as named in log lines. */
    static final String ACCEPT_CALL = LINUX ? "accept4" : "accept";

    /** Loaded on first use, so that no other OS looks up accept4. */
    private static final class LinuxLib {
        static final SocketLib.Linux LIB = LibraryLoader.create(SocketLib.Linux.class).load(Platform.getNativePlatform().getStandardCLibraryName());
    }

    private Sockets() {
    }

    /** Fails unless sockets can be served here: Linux or macOS. */
    public static void requireSupported() {
        if (!LINUX && !DARWIN) {
            throw new UnsupportedPlatformException("io.dualpipe.net supports Linux and macOS; this is " + OS
                    + " (its accept flags, peer credentials and sockaddr layouts are not implemented)");
        }
    }

    /** A new non-blocking, close-on-exec stream socket for {@code address}'s family. */
    public static int open(SocketAddress address) {
        int family = address instanceof UnixDomainSocketAddress ? AF_UNIX
                : ((InetSocketAddress) address).getAddress() instanceof Inet6Address ? AF_INET6 : AF_INET;
        // Load the family's half first: loading a class can need a free fd, and this socket may take
        // the last one, so its connect would fail with NoClassDefFoundError rather than EMFILE.
        if (family == AF_UNIX) {
            UnixSockets.load();
        } else {
            TcpSockets.load();
        }
        if (LINUX) {
            int fd = LIB.socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            if (fd < 0) {
                throw Native.lastError("socket(" + describe(address) + ")");
            }
            return fd;
        }
        // No SOCK_CLOEXEC on macOS: a child spawned by another thread between these two calls could
        // inherit the fd (the spawner's own close-on-spawn handling is what covers that window).
        int fd = LIB.socket(family, SOCK_STREAM, 0);
        if (fd < 0) {
            throw Native.lastError("socket(" + describe(address) + ")");
        }
        int errno = makeNonBlockingCloseOnExec(fd);
        if (errno != 0) {
            Native.closeQuietly(fd);
            throw error("fcntl(socket for " + describe(address) + ")", errno);
        }
        return fd;
    }

    /**
     * Accepts one connection, non-blocking and close-on-exec: {@code accept4(fd, NULL, NULL,
     * SOCK_NONBLOCK | SOCK_CLOEXEC)} on Linux; elsewhere {@code accept} then fcntl, as macOS has no
     * accept4 (nor do accepted sockets reliably inherit O_NONBLOCK there).
     *
     * @return the new fd, or minus the errno (EAGAIN when nobody is waiting)
     */
    static int accept(int listenFd) {
        if (LINUX) {
            int fd = LinuxLib.LIB.accept4(listenFd, 0, 0, SOCK_NONBLOCK | SOCK_CLOEXEC);
            return fd >= 0 ? fd : -Native.errno();
        }
        int fd = LIB.accept(listenFd, 0, 0);
        if (fd < 0) {
            return -Native.errno();
        }
        int errno = makeNonBlockingCloseOnExec(fd);
        if (errno != 0) {
            Native.closeQuietly(fd);
            return -errno;
        }
        return fd;
    }

    /** fcntl O_NONBLOCK and FD_CLOEXEC: 0, or the errno of the call that failed. */
    private static int makeNonBlockingCloseOnExec(int fd) {
        try {
            Native.setNonBlocking(fd, true);
            Native.setCloseOnExec(fd);
            return 0;
        } catch (NativeIoException e) {
            return e.errno();
        }
    }

    /** {@code unix:/path} or {@code tcp:host:port}: how addresses appear in names and messages. */
    public static String describe(SocketAddress address) {
        if (address instanceof UnixDomainSocketAddress u) {
            return "unix:" + u.getPath();
        }
        InetSocketAddress i = (InetSocketAddress) address;
        String host = i.getAddress() != null ? i.getAddress().getHostAddress() : i.getHostString();
        return "tcp:" + (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + i.getPort();
    }

    /** Checks an address's kind and resolves a TCP host name; fails with a message naming it. */
    public static SocketAddress validate(SocketAddress address) {
        InvalidArgumentException.requireNonNull("address", address);
        if (address instanceof UnixDomainSocketAddress u) {
            UnixSockets.checkPath(u.getPath());
            return address;
        }
        if (address instanceof InetSocketAddress i) {
            if (i.isUnresolved()) {
                try {
                    return new InetSocketAddress(InetAddress.getByName(i.getHostString()), i.getPort());
                } catch (UnknownHostException e) {
                    throw new InvalidArgumentException("cannot resolve host '" + i.getHostString() + "': " + e.getMessage());
                }
            }
            return address;
        }
        throw new InvalidArgumentException("address must be a UnixDomainSocketAddress or an InetSocketAddress: " + address.getClass().getName());
    }

    /** bind(2), through {@link UnixSockets} or {@link TcpSockets}; EADDRINUSE and friends are left to the caller, as a NativeIoException. */
    static void bind(int fd, SocketAddress address) {
        if (address instanceof UnixDomainSocketAddress u) {
            UnixSockets.bind(fd, u.getPath());
        } else {
            TcpSockets.bind(fd, (InetSocketAddress) address);
        }
    }

    static void listen(int fd, int backlog, SocketAddress address) {
        if (LIB.listen(fd, backlog) < 0) {
            throw Native.lastError("listen(" + describe(address) + ")");
        }
        if (LINUX) {
            // Load accept4's binding now: loading a class needs a free fd, and the first accept may
            // come when every fd is taken, where it would fail with NoClassDefFoundError, not EMFILE.
            Objects.requireNonNull(LinuxLib.LIB);
        }
    }

    /**
     * connect(2): 0, or the errno (EINPROGRESS for a TCP connect under way; EAGAIN for a Unix server
     * whose backlog is full). EINTR is retried. A Unix path goes through jnr-unixsocket's connect
     * ({@link UnixSockets#connect}), a TCP address through our own ({@link TcpSockets#connect}).
     */
    static int connect(int fd, SocketAddress address) {
        if (address instanceof UnixDomainSocketAddress u) {
            return UnixSockets.connect(fd, u.getPath());
        }
        return TcpSockets.connect(fd, (InetSocketAddress) address);
    }

    static void setIntOption(int fd, int level, int option, int value, String what) {
        byte[] v = ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(value).array();
        if (LIB.setsockopt(fd, level, option, v, 4) < 0) {
            throw Native.lastError("setsockopt(fd " + fd + ", " + what + ")");
        }
    }

    /** The pending error of a socket (SO_ERROR): how a non-blocking connect ended. 0 = connected. */
    static int pendingError(int fd) {
        byte[] v = new byte[4];
        int[] len = {4};
        if (LIB.getsockopt(fd, SOL_SOCKET, SO_ERROR, v, len) < 0) {
            return Native.errno();
        }
        return ByteBuffer.wrap(v).order(ByteOrder.nativeOrder()).getInt();
    }

    /** A typed error for the calling thread's last failed call, for an errno already read. */
    static NativeIoException error(String what, int errno) {
        return new NativeIoException(what, errno, Native.errnoName(errno), Native.LIBC.strerror(errno));
    }
}
