package io.dualpipe.nats;

import io.nats.client.Connection;
import io.nats.client.Nats;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Shared bits of the NATS tests. */
final class Fixtures {
    private Fixtures() {
    }

    static Path script() {
        try {
            return Path.of(Fixtures.class.getResource("/python/square_worker.py").toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static Map<String, Object> slow(double seconds, int n) {
        return Map.of("sleep", seconds, "n", n);
    }

    /** True once {@code pid} has gone or is only a zombie that is not ours to reap. */
    static boolean goneOrReparentedZombie(long pid) {
        Path stat = Path.of("/proc/" + pid + "/stat");
        try {
            String s = Files.readString(stat);
            String state = s.substring(s.lastIndexOf(')') + 2, s.lastIndexOf(')') + 3);
            long ppid = Long.parseLong(s.substring(s.lastIndexOf(')') + 4).split(" ")[0]);
            return state.equals("Z") && ppid != ProcessHandle.current().pid();
        } catch (java.io.IOException gone) {
            return true;
        }
    }

    static boolean allGone(List<Long> pids) {
        return pids.stream().allMatch(p -> !Files.exists(Path.of("/proc/" + p)));
    }

    /** Waits, bounded (20 s), for a condition that no future announces, re-checking every 10 ms. */
    static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() - deadline < 0, "not in 20 s: " + what);
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
    }

    /** The names of this JVM's live threads whose name contains {@code part}. */
    static List<String> threads(String part) {
        return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).map(Thread::getName)
                .filter(n -> n.contains(part)).toList();
    }

    /** This JVM's open sockets (TCP connections to nats-server among them). */
    static int sockets() {
        int n = 0;
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            for (Path fd : fds) {
                try {
                    if (Files.readSymbolicLink(fd).toString().startsWith("socket:")) {
                        n++;
                    }
                } catch (IOException closedMeanwhile) {
                    // the directory stream's own fd, or one closed while listing
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return n;
    }

    /**
     * Publishes {@code message} on {@code subject}, again every 10 ms, until {@code heard} holds (20 s
     * at most): a pool's plain NATS subscriptions may not be live at the server yet when its
     * {@code start()} returns, and what a publisher sends before that is dropped.
     */
    static void publishUntilHeard(Connection publisher, String subject, byte[] message, BooleanSupplier heard) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!heard.getAsBoolean()) {
            assertTrue(System.nanoTime() - deadline < 0, "not heard in 20 s: " + subject);
            publisher.publish(subject, message);
            publisher.flush(java.time.Duration.ofSeconds(5));
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
    }

    /** Messages in a pool's task stream now, asked on a connection of the test's own. */
    static long storedTasks(NatsServer nats, String pool) {
        try (Connection c = Nats.connect(nats.url())) {
            return c.jetStreamManagement().getStreamInfo("DUALPIPE_" + pool).getStreamState().getMsgCount();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
