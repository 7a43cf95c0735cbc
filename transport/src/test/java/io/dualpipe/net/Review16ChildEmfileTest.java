package io.dualpipe.net;

import io.dualpipe.core.EventLoop;
import io.dualpipe.process.ChildProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.dualpipe.net.TestSupport.codecs;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Review 16: a server in a child JVM whose RLIMIT_NOFILE is lowered (prlimit) below what 64 clients
 * need: it pauses accepting instead of spinning, warns once, serves the clients it has, and accepts
 * again once they leave. While it recovered, each back-off freed one descriptor, accepted one
 * waiting client with it and ran out again: every such round logged the warning afresh (and an
 * "accepting again" line), 13 to 21 warnings in 3 s here, for as long as the process hovers at its
 * limit.
 */
class Review16ChildEmfileTest {
    private static final int CLIENTS = 64;
    @TempDir
    Path dir;

    private static long[] status(ChildProcess child, List<String> log) throws Exception {
        child.writeLine("status").get(10, TimeUnit.SECONDS);
        while (true) {
            String line = child.readLine().get(20, TimeUnit.SECONDS);
            if (line == null) {
                throw new AssertionError("the child ended; it said: " + log);
            }
            if (line.startsWith("R16 ")) {
                String[] f = line.split(" ");
                return new long[] {Long.parseLong(f[1]), Long.parseLong(f[2])};
            }
            log.add(line);
        }
    }

    @Test
    @Timeout(120)
    void aChildServerOutOfDescriptorsBacksOffWarnsOnceAndRecovers() throws Exception {
        Path sock = dir.resolve("child.sock");
        List<String> log = new ArrayList<>();
        try (EventLoop loop = EventLoop.create("r16-child-parent")) {
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            ChildProcess child = ChildProcess.builder(java, "-cp", System.getProperty("java.class.path"),
                    Review16EmfileServerMain.class.getName(), sock.toString()).loop(loop).start();
            String ready;
            while (!(ready = child.readLine().get(60, TimeUnit.SECONDS)).startsWith("R16 ready")) {
                log.add(ready);
            }
            // Room for 4 more descriptors only: the limit just above the 4th free fd number.
            java.util.Set<Integer> open = new java.util.HashSet<>();
            try (var fds = Files.list(Path.of("/proc/" + child.pid() + "/fd"))) {
                for (Path p : (Iterable<Path>) fds::iterator) {
                    open.add(Integer.parseInt(p.getFileName().toString()));
                }
            }
            int limit = 0;
            for (int free = 0; free < 4; limit++) {
                if (!open.contains(limit)) {
                    free++;
                }
            }
            Process prlimit = new ProcessBuilder("prlimit", "--pid", String.valueOf(child.pid()), "--nofile=" + limit + ":" + limit)
                    .inheritIO().start();
            assertEquals(0, prlimit.waitFor());
            List<SocketChannel> clients = new ArrayList<>();
            long start = System.nanoTime();
            try {
                for (int i = 0; i < CLIENTS; i++) {
                    SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX);
                    c.connect(UnixDomainSocketAddress.of(sock)); // all wait in the backlog, or are accepted
                    clients.add(c);
                }
                long[] s;
                do {
                    s = status(child, log);
                } while (s[0] < 6 && System.nanoTime() - start < TimeUnit.SECONDS.toNanos(30));
                long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
                assertTrue(s[0] >= 6, "no back-off seen: " + log);
                assertTrue(s[0] <= elapsedMs / 50 + 3, s[0] + " failed accepts in " + elapsedMs + " ms: accepting spun");
                assertTrue(s[1] > 0 && s[1] < CLIENTS, "some clients are served, not all: " + s[1]);
            } finally {
                for (SocketChannel c : clients) {
                    c.close();
                }
            }
            // The clients are gone: their connections close, freeing descriptors, and accepting resumes.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            long[] s;
            while ((s = status(child, log))[1] > 0) {
                assertTrue(System.nanoTime() < deadline, "connections still open: " + s[1]);
            }
            MessageClient after = MessageClient.builder(codecs()).loop(loop).connect(sock).get(20, TimeUnit.SECONDS);
            assertEquals("again ok", after.request("again", String.class).get(20, TimeUnit.SECONDS));
            after.close();
            child.writeLine("quit").get(10, TimeUnit.SECONDS);
            for (String line; (line = child.readLine().get(20, TimeUnit.SECONDS)) != null; ) {
                log.add(line);
            }
            assertEquals(0, child.onExit().get(20, TimeUnit.SECONDS).exitCode(), log.toString());
            assertEquals(1, log.stream().filter(l -> l.contains("accept4 failed: EMFILE")).count(), "warned once: " + log);
            assertFalse(Files.exists(sock), "the child removed its socket file");
        }
    }
}
