package io.dualpipe.net.internal;

import io.dualpipe.core.DualPipeException;
import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.NativeIoException;
import io.dualpipe.core.internal.Native;
import io.dualpipe.core.message.Peer;
import jnr.constants.platform.Errno;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Platform;

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

/**
 * Socket plumbing on raw fds: creating, binding, connecting, options, credentials, and the
 * {@code sockaddr} layouts (built by hand: jnr-ffi has no struct for them that we could reuse
 * without its channel classes). Linux only: the numbers below are Linux's, shared by x86_64 and
 * aarch64.
 *
 * <p>Thread-safe: static, stateless.
 */
final class Sockets {
    public static final SocketLib LIB = LibraryLoader.create(SocketLib.class).load(Platform.getNativePlatform().getStandardCLibraryName());

    static final int AF_UNIX = 1;
    static final int AF_INET = 2;
    static final int AF_INET6 = 10;
    static final int SOCK_STREAM = 1;
    public static final int SOCK_NONBLOCK = 0x800;
    public static final int SOCK_CLOEXEC = 0x80000;
    static final int SOL_SOCKET = 1;
    static final int SO_REUSEADDR = 2;
    static final int SO_ERROR = 4;
    static final int SO_PEERCRED = 17;
    static final int IPPROTO_TCP = 6;
    static final int TCP_NODELAY = 1;
    /** sizeof(sun_path): the path and its NUL must fit. */
    static final int SUN_PATH_SIZE = 108;

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

    private static final Charset FILE_NAMES = fileNameCharset();

    private Sockets() {
    }

    /** Fails unless sockets can be served here (the constants above and SO_PEERCRED are Linux's). */
    public static void requireLinux() {
        if (!Native.LINUX) {
            throw new DualPipeException("io.dualpipe.net needs Linux (accept4, SO_PEERCRED, epoll); this is "
                    + Platform.getNativePlatform().getOS());
        }
    }

    /** A new non-blocking, close-on-exec stream socket for {@code address}'s family. */
    public static int open(SocketAddress address) {
        int family = address instanceof UnixDomainSocketAddress ? AF_UNIX
                : ((InetSocketAddress) address).getAddress() instanceof Inet6Address ? AF_INET6 : AF_INET;
        int fd = LIB.socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            throw Native.lastError("socket(" + describe(address) + ")");
        }
        return fd;
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
            sockaddrUn(u.getPath());
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

    static byte[] sockaddr(SocketAddress address) {
        if (address instanceof UnixDomainSocketAddress u) {
            return sockaddrUn(u.getPath());
        }
        InetSocketAddress i = (InetSocketAddress) address;
        InetAddress ip = i.getAddress();
        ByteBuffer b;
        if (ip instanceof Inet4Address) {
            b = ByteBuffer.allocate(16);
            b.order(ByteOrder.nativeOrder()).putShort(0, (short) AF_INET);
            b.order(ByteOrder.BIG_ENDIAN).putShort(2, (short) i.getPort());
            b.put(4, ip.getAddress());
        } else {
            b = ByteBuffer.allocate(28);
            b.order(ByteOrder.nativeOrder()).putShort(0, (short) AF_INET6);
            b.order(ByteOrder.BIG_ENDIAN).putShort(2, (short) i.getPort());
            b.put(8, ip.getAddress());
            b.order(ByteOrder.nativeOrder()).putInt(24, ((Inet6Address) ip).getScopeId());
        }
        return b.array();
    }

    /** sockaddr_un: family, then the path and its NUL; the length passed is exactly that much. */
    static byte[] sockaddrUn(Path path) {
        byte[] p = pathBytes(path);
        if (p.length + 1 > SUN_PATH_SIZE) {
            throw new InvalidArgumentException("unix socket path is " + p.length + " bytes, over the " + (SUN_PATH_SIZE - 1)
                    + "-byte limit of sockaddr_un: " + path);
        }
        if (p.length == 0) {
            throw new InvalidArgumentException("unix socket path is empty");
        }
        ByteBuffer b = ByteBuffer.allocate(2 + p.length + 1).order(ByteOrder.nativeOrder());
        b.putShort((short) AF_UNIX).put(p).put((byte) 0);
        return b.array();
    }

    static byte[] pathBytes(Path path) {
        return path.toString().getBytes(FILE_NAMES);
    }

    static byte[] cString(Path path) {
        byte[] p = pathBytes(path);
        return Arrays.copyOf(p, p.length + 1);
    }

    /** bind(2); EADDRINUSE and friends are left to the caller, as a NativeIoException. */
    static void bind(int fd, SocketAddress address) {
        byte[] sa = sockaddr(address);
        if (LIB.bind(fd, sa, sa.length) < 0) {
            throw Native.lastError("bind(" + describe(address) + ")");
        }
    }

    static void listen(int fd, int backlog, SocketAddress address) {
        if (LIB.listen(fd, backlog) < 0) {
            throw Native.lastError("listen(" + describe(address) + ")");
        }
    }

    /** connect(2): 0, or the errno (EINPROGRESS for a TCP connect under way). */
    static int connect(int fd, SocketAddress address) {
        byte[] sa = sockaddr(address);
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

    /** The credentials of a Unix socket's peer (SO_PEERCRED: pid, uid, gid as when it connected). */
    static Peer peerCredentials(int fd, String address) {
        byte[] v = new byte[12];
        int[] len = {12};
        if (LIB.getsockopt(fd, SOL_SOCKET, SO_PEERCRED, v, len) < 0 || len[0] < 12) {
            throw Native.lastError("getsockopt(fd " + fd + ", SO_PEERCRED)");
        }
        ByteBuffer b = ByteBuffer.wrap(v).order(ByteOrder.nativeOrder());
        return new Peer(b.getInt(0), b.getInt(4), b.getInt(8), address);
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
        ByteBuffer b = ByteBuffer.wrap(sa);
        int family = b.order(ByteOrder.nativeOrder()).getShort(0);
        int port = b.order(ByteOrder.BIG_ENDIAN).getShort(2) & 0xffff;
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

    static void chmod(Path path, int mode) {
        if (LIB.chmod(cString(path), mode) < 0) {
            throw Native.lastError("chmod(" + path + ", 0" + Integer.toOctalString(mode) + ")");
        }
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
