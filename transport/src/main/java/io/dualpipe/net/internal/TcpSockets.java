package io.dualpipe.net.internal;

import io.dualpipe.core.DualPipeException;
import io.dualpipe.core.internal.Native;
import jnr.constants.platform.IPProto;
import jnr.constants.platform.SocketOption;
import jnr.constants.platform.TCP;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * The TCP half of {@link Sockets}: {@code sockaddr_in}/{@code sockaddr_in6} built and read by hand,
 * bind, connect, the local and remote address, and TCP's options. Bind and connect come through
 * {@link Sockets}, which picks this class or {@link UnixSockets} by the address's type; a caller
 * with a TCP socket in hand calls the options and addresses here directly.
 *
 * <p>No library lays these sockaddrs out for us (jnr-unixsocket covers only {@code sockaddr_un}), so
 * this class writes them: the BSD leading {@code sin_len} byte on macOS, a native-order family on
 * Linux. The option numbers come from jnr-constants for the running OS.
 *
 * <p>Thread-safe: static, stateless. No buffers cross the API: every {@code byte[]} returned is a
 * fresh array the caller owns, and one passed in is only read during the call.
 */
final class TcpSockets {
    static final int SO_REUSEADDR = SocketOption.SO_REUSEADDR.intValue();
    static final int IPPROTO_TCP = IPProto.IPPROTO_TCP.intValue();
    static final int TCP_NODELAY = TCP.TCP_NODELAY.intValue();

    private TcpSockets() {
    }

    /** Loads and initializes this class (see {@link Sockets#open}); does nothing else. */
    static void load() {
    }

    /** sockaddr_in or sockaddr_in6 for this OS. */
    static byte[] sockaddr(InetSocketAddress address) {
        return sockaddrInet(address, Sockets.BSD_SOCKADDR, Sockets.AF_INET6);
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
        int family = v4 ? Sockets.AF_INET : afInet6;
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

    /** bind(2); EADDRINUSE and friends are left to the caller, as a NativeIoException. */
    static void bind(int fd, InetSocketAddress address) {
        byte[] sa = sockaddr(address);
        if (Sockets.LIB.bind(fd, sa, sa.length) < 0) {
            throw Native.lastError("bind(" + Sockets.describe(address) + ")");
        }
    }

    /** connect(2): 0, or the errno (EINPROGRESS for a connect under way). */
    static int connect(int fd, InetSocketAddress address) {
        byte[] sa = sockaddr(address);
        while (true) {
            if (Sockets.LIB.connect(fd, sa, sa.length) == 0) {
                return 0;
            }
            int errno = Native.errno();
            if (errno != Sockets.EINTR) {
                return errno;
            }
        }
    }

    static void setNoDelay(int fd) {
        Sockets.setIntOption(fd, IPPROTO_TCP, TCP_NODELAY, 1, "TCP_NODELAY");
    }

    static void setReuseAddress(int fd) {
        Sockets.setIntOption(fd, Sockets.SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
    }

    static InetSocketAddress local(int fd) {
        return inet(fd, true);
    }

    static InetSocketAddress remote(int fd) {
        return inet(fd, false);
    }

    private static InetSocketAddress inet(int fd, boolean local) {
        byte[] sa = new byte[28];
        int[] len = {28};
        int r = local ? Sockets.LIB.getsockname(fd, sa, len) : Sockets.LIB.getpeername(fd, sa, len);
        if (r < 0) {
            throw Native.lastError((local ? "getsockname" : "getpeername") + "(fd " + fd + ")");
        }
        int family = family(sa, Sockets.BSD_SOCKADDR);
        int port = ByteBuffer.wrap(sa).order(ByteOrder.BIG_ENDIAN).getShort(2) & 0xffff;
        try {
            InetAddress ip = family == Sockets.AF_INET ? InetAddress.getByAddress(Arrays.copyOfRange(sa, 4, 8))
                    : InetAddress.getByAddress(Arrays.copyOfRange(sa, 8, 24));
            return new InetSocketAddress(ip, port);
        } catch (UnknownHostException e) {
            throw new DualPipeException("fd " + fd + ": bad address from the kernel", e);
        }
    }
}
