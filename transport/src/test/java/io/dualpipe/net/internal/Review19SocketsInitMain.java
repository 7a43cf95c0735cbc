package io.dualpipe.net.internal;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;

/**
 * A child JVM for {@link Review19SocketsInitTest}: three threads touch Sockets, UnixSockets and
 * TcpSockets for the first time at once, each through a path that reads the others' constants, then
 * it prints "R19 ok". A cycle between the classes' static initialisers would hang it.
 */
public final class Review19SocketsInitMain {
    private Review19SocketsInitMain() {
    }

    public static void main(String[] args) throws Exception {
        CyclicBarrier go = new CyclicBarrier(3);
        Thread[] threads = {
            new Thread(() -> {
                await(go);
                // Sockets first: validate dispatches to UnixSockets.checkPath, which reads Sockets.SUN_PATH_SIZE
                Sockets.validate(UnixDomainSocketAddress.of(Path.of("/tmp/r19.sock")));
            }),
            new Thread(() -> {
                await(go);
                UnixSockets.checkPath(Path.of("/tmp/r19-other.sock")); // UnixSockets first
            }),
            new Thread(() -> {
                await(go);
                // TcpSockets first: reads Sockets.BSD_SOCKADDR and AF_INET
                TcpSockets.sockaddr(new InetSocketAddress(InetAddress.getLoopbackAddress(), 1));
            }),
        };
        for (Thread t : threads) {
            t.start();
        }
        for (Thread t : threads) {
            t.join(TimeUnit.SECONDS.toMillis(30));
            if (t.isAlive()) {
                System.out.println("R19 hung");
                System.exit(2);
            }
        }
        System.out.println("R19 ok");
    }

    private static void await(CyclicBarrier b) {
        try {
            b.await(20, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
