package io.dualpipe.net.internal;

import io.dualpipe.core.DualPipeException;
import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.NativeIoException;
import io.dualpipe.core.internal.Native;
import io.dualpipe.core.message.Peer;
import io.dualpipe.net.UnsupportedPlatformException;
import jnr.constants.platform.AddressFamily;
import jnr.constants.platform.Errno;
import jnr.constants.platform.IPProto;
import jnr.constants.platform.SocketLevel;
import jnr.constants.platform.SocketOption;
import jnr.constants.platform.TCP;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Platform;
import jnr.unixsocket.Credentials;
import jnr.unixsocket.UnixSocketAddress;
import jnr.unixsocket.UnixSocketChannel;
import jnr.unixsocket.UnixSocketOptions;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Objects;

/**
 * Socket plumbing on raw fds: creating, binding, connecting, accepting, options, credentials.
 *
 * <p>Split of work, and why:
 * <ul>
 * <li><b>jnr-unixsocket</b> builds the {@code sockaddr_un} (its layout differs: Linux has a 2-byte
 * family, macOS a {@code sun_len} byte and a 1-byte family), binds and connects Unix sockets, and reads
 * SO_PEERCRED on Linux. It is reached through {@link UnixSocketChannel#fromFD} <em>views</em> of our
 * own fds: a view is a plain Java object (no finalizer or cleaner in jnr-unixsocket or jnr-enxio; a
 * test checks that a collected view leaves the fd open) and is never closed, because its
 * {@code close()} calls {@code shutdown()} first, which would break a socket we still use.</li>
 * <li><b>Our own calls</b> create sockets (atomically non-blocking and close-on-exec on Linux), listen,
 * and accept (accept4 on Linux, accept + fcntl on macOS). jnr-unixsocket's channels would not do:
 * their {@code accept()} returns null on every error (it spun 30,000 times in 100 ms under EMFILE),
 * forces accepted fds back to blocking mode and leaves them inheritable, and their reads copy into a
 * fresh heap array each time. Its server socket also binds and listens in one call, which would leave
 * the socket file reachable under the umask's mode until our chmod.</li>
 * <li><b>TCP</b> stays on hand-built {@code sockaddr_in}/{@code sockaddr_in6}, with the BSD leading
 * {@code sin_len} byte on macOS; the option numbers come from jnr-constants for the running OS.</li>
 * </ul>
 *
 * <p>Supported: Linux and macOS ({@link #requireSupported}). macOS support is written from its headers
 * and man pages and has not been run here.
 *
 * <p>jnr-unixsocket 0.38.23 passes a Linux {@code sockaddr_un}'s length as the path's length in
 * <em>characters</em>, so a non-ASCII path is silently truncated at bind; such paths are refused on
 * Linux with an {@link InvalidArgumentException} instead.
 *
 * <p>Thread-safe: static, stateless.
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
    static final int SO_REUSEADDR = SocketOption.SO_REUSEADDR.intValue();
    static final int SO_ERROR = SocketOption.SO_ERROR.intValue();
    static final int IPPROTO_TCP = IPProto.IPPROTO_TCP.intValue();
    static final int TCP_NODELAY = TCP.TCP_NODELAY.intValue();
    /** macOS {@code <sys/un.h>}: the level and option for the peer's pid. */
    static final int SOL_LOCAL = 0;
    static final int LOCAL_PEERPID = 2;
    /** sizeof(sun_path): the path and its NUL must fit. 108 on Linux, 104 on macOS. */
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

    private static final Charset FILE_NAMES = fileNameCharset();

    /** Loaded on first use, so that no other OS looks up accept4. */
    private static final class LinuxLib {
        static final SocketLib.Linux LIB = LibraryLoader.create(SocketLib.Linux.class).load(Platform.getNativePlatform().getStandardCLibraryName());
    }

    /** Loaded on first use, so that no other OS looks up getpeereid. */
    private static final class DarwinLib {
        static final SocketLib.Darwin LIB = LibraryLoader.create(SocketLib.Darwin.class).load(Platform.getNativePlatform().getStandardCLibraryName());
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
            checkUnixPath(u.getPath());
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

    /**
     * Checks what jnr-unixsocket's {@code sockaddr_un} cannot hold, as it would truncate silently: a
     * path over sun_path's size, and on Linux a non-ASCII path (its length is passed in characters).
     * It encodes paths in UTF-8, so the file-name encoding (used by unlink, chmod and Files.*) must
     * give the same bytes.
     */
    static void checkUnixPath(Path path) {
        String text = path.toString();
        byte[] p = text.getBytes(StandardCharsets.UTF_8);
        if (p.length == 0) {
            throw new InvalidArgumentException("unix socket path is empty");
        }
        if (p.length + 1 > SUN_PATH_SIZE) {
            throw new InvalidArgumentException("unix socket path is " + p.length + " bytes, over the " + (SUN_PATH_SIZE - 1)
                    + "-byte limit of sockaddr_un: " + path);
        }
        if (LINUX && p.length != text.length()) {
            throw new InvalidArgumentException("unix socket path must be ASCII on Linux (jnr-unixsocket 0.38.23 would bind a"
                    + " truncated name): " + path);
        }
        if (!Arrays.equals(p, pathBytes(path))) {
            throw new InvalidArgumentException("unix socket path encodes differently in UTF-8 (jnr-unixsocket's encoding) and in"
                    + " the file-name encoding " + FILE_NAMES + ": " + path);
        }
    }

    /** jnr-unixsocket's address: it lays out sockaddr_un for the running OS. */
    static UnixSocketAddress unixAddress(Path path) {
        checkUnixPath(path);
        return new UnixSocketAddress(path.toString());
    }

    /** A jnr-unixsocket view of our fd, for its bind, connect and SO_PEERCRED. Never close it (see the class comment). */
    private static UnixSocketChannel view(int fd) {
        return UnixSocketChannel.fromFD(fd);
    }

    /** sockaddr_in or sockaddr_in6 for this OS. */
    static byte[] sockaddr(InetSocketAddress address) {
        return sockaddrInet(address, BSD_SOCKADDR, AF_INET6);
    }

    /**
     * sockaddr_in (16 bytes) or sockaddr_in6 (28 bytes). Linux: a native-order 2-byte family. BSD and
     * macOS: a length byte ({@code sin_len}/{@code sin6_len}), then a 1-byte family. Then, on both: the
     * port in network order at 2; the IPv4 address at 4, or the flow info at 4, the IPv6 address at 8
     * and the scope id (native order) at 24.
     */
    static byte[] sockaddrInet(InetSocketAddress i, boolean bsd, int afInet6) {
        InetAddress ip = i.getAddress();
        boolean v4 = ip instanceof Inet4Address;
        ByteBuffer b = ByteBuffer.allocate(v4 ? 16 : 28);
        int family = v4 ? AF_INET : afInet6;
        if (bsd) {
            b.put(0, (byte) b.capacity()).put(1, (byte) family);
        } else {
            b.order(ByteOrder.nativeOrder()).putShort(0, (short) family);
        }
        b.order(ByteOrder.BIG_ENDIAN).putShort(2, (short) i.getPort());
        if (v4) {
            b.put(4, ip.getAddress());
        } else {
            b.put(8, ip.getAddress());
            b.order(ByteOrder.nativeOrder()).putInt(24, ((Inet6Address) ip).getScopeId());
        }
        return b.array();
    }

    /** The family of a sockaddr filled in by the kernel (see {@link #sockaddrInet}). */
    static int family(byte[] sa, boolean bsd) {
        return bsd ? sa[1] & 0xff : ByteBuffer.wrap(sa).order(ByteOrder.nativeOrder()).getShort(0) & 0xffff;
    }

    static byte[] pathBytes(Path path) {
        return path.toString().getBytes(FILE_NAMES);
    }

    static byte[] cString(Path path) {
        byte[] p = pathBytes(path);
        return Arrays.copyOf(p, p.length + 1);
    }

    /** bind(2), through jnr-unixsocket for a Unix path; EADDRINUSE and friends are left to the caller, as a NativeIoException. */
    static void bind(int fd, SocketAddress address) {
        if (address instanceof UnixDomainSocketAddress u) {
            bindUnix(fd, u.getPath());
            return;
        }
        byte[] sa = sockaddr((InetSocketAddress) address);
        if (LIB.bind(fd, sa, sa.length) < 0) {
            throw Native.lastError("bind(" + describe(address) + ")");
        }
    }

    /**
     * jnr-unixsocket's bind, without its listen: the caller chmods the file before listening. Its
     * error is an IOException carrying strerror's text; the errno is still the thread's saved one (only
     * strerror ran since, which leaves it alone), and is used when the text matches it.
     */
    private static void bindUnix(int fd, Path path) {
        UnixSocketAddress sa = unixAddress(path);
        try {
            view(fd).bind(sa);
        } catch (IOException e) {
            int errno = Native.errno();
            String what = "bind(unix:" + path + ")";
            if (errno != 0 && Native.LIBC.strerror(errno).equals(e.getMessage())) {
                throw error(what, errno);
            }
            throw new DualPipeException(what + " failed: " + e.getMessage(), e);
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
     * whose backlog is full). A Unix path goes through jnr-unixsocket's connect, which returns false
     * for EAGAIN and throws for any other errno; the thread's saved errno is read right after, as
     * nothing calls into libc in between.
     */
    static int connect(int fd, SocketAddress address) {
        if (address instanceof UnixDomainSocketAddress u) {
            UnixSocketChannel view = view(fd);
            UnixSocketAddress sa = unixAddress(u.getPath());
            while (true) {
                try {
                    return view.connect(sa) ? 0 : EAGAIN;
                } catch (IOException e) {
                    int errno = Native.errno();
                    if (errno != EINTR) {
                        return errno;
                    }
                }
            }
        }
        byte[] sa = sockaddr((InetSocketAddress) address);
        while (true) {
            if (LIB.connect(fd, sa, sa.length) == 0) {
                return 0;
            }
            int errno = Native.errno();
            if (errno != EINTR) {
                return errno;
            }
        }
    }

    static void setIntOption(int fd, int level, int option, int value, String what) {
        byte[] v = ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(value).array();
        if (LIB.setsockopt(fd, level, option, v, 4) < 0) {
            throw Native.lastError("setsockopt(fd " + fd + ", " + what + ")");
        }
    }

    static void setNoDelay(int fd) {
        setIntOption(fd, IPPROTO_TCP, TCP_NODELAY, 1, "TCP_NODELAY");
    }

    static void setReuseAddress(int fd) {
        setIntOption(fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
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

    /**
     * The credentials of a Unix socket's peer, as when it connected. Linux: jnr-unixsocket's
     * SO_PEERCRED (pid, uid, gid). macOS, which has no SO_PEERCRED: getpeereid (uid, gid) and
     * LOCAL_PEERPID (pid).
     */
    static Peer peerCredentials(int fd, String address) {
        if (DARWIN) {
            int[] uid = {0};
            int[] gid = {0};
            if (DarwinLib.LIB.getpeereid(fd, uid, gid) < 0) {
                throw Native.lastError("getpeereid(fd " + fd + ")");
            }
            byte[] v = new byte[4];
            int[] len = {4};
            if (LIB.getsockopt(fd, SOL_LOCAL, LOCAL_PEERPID, v, len) < 0) {
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

    static InetSocketAddress localInet(int fd) {
        return inet(fd, true);
    }

    static InetSocketAddress remoteInet(int fd) {
        return inet(fd, false);
    }

    private static InetSocketAddress inet(int fd, boolean local) {
        byte[] sa = new byte[28];
        int[] len = {28};
        int r = local ? LIB.getsockname(fd, sa, len) : LIB.getpeername(fd, sa, len);
        if (r < 0) {
            throw Native.lastError((local ? "getsockname" : "getpeername") + "(fd " + fd + ")");
        }
        int family = family(sa, BSD_SOCKADDR);
        int port = ByteBuffer.wrap(sa).order(ByteOrder.BIG_ENDIAN).getShort(2) & 0xffff;
        try {
            InetAddress ip = family == AF_INET ? InetAddress.getByAddress(Arrays.copyOfRange(sa, 4, 8))
                    : InetAddress.getByAddress(Arrays.copyOfRange(sa, 8, 24));
            return new InetSocketAddress(ip, port);
        } catch (UnknownHostException e) {
            throw new DualPipeException("fd " + fd + ": bad address from the kernel", e);
        }
    }

    /** unlink(2); returns the errno, 0 on success. */
    static int unlink(Path path) {
        return LIB.unlink(cString(path)) == 0 ? 0 : Native.errno();
    }

    /** A typed error for the calling thread's last failed call, for an errno already read. */
    static NativeIoException error(String what, int errno) {
        return new NativeIoException(what, errno, Native.errnoName(errno), Native.LIBC.strerror(errno));
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
