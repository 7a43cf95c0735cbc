package io.dualpipe.nats;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A real nats-server with JetStream for a test: a free loopback port, a store in {@code dir};
 * {@link #restart()} keeps both. Waits for the server's own "Server is ready" line, never sleeps.
 */
final class NatsServer implements AutoCloseable {
    private final Path dir;
    private final int port;
    private Process process;

    private NatsServer(Path dir, int port) {
        this.dir = dir;
        this.port = port;
    }

    static NatsServer start(Path dir) throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        NatsServer n = new NatsServer(dir, port);
        n.launch();
        return n;
    }

    static String binary() {
        String env = System.getenv("NATS_SERVER");
        if (env != null) {
            return env;
        }
        for (String p : new String[] {"/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"}) {
            if (Files.isExecutable(Path.of(p))) {
                return p;
            }
        }
        return "nats-server"; // from PATH, or a clear failure to start
    }

    String url() {
        return "nats://127.0.0.1:" + port;
    }

    int port() {
        return port;
    }

    private void launch() throws Exception {
        process = new ProcessBuilder(binary(), "-js", "-sd", dir.toString(), "-a", "127.0.0.1", "-p", Integer.toString(port))
                .redirectErrorStream(true).start();
        CompletableFuture<Void> ready = new CompletableFuture<>();
        StringBuilder log = new StringBuilder();
        Process p = process;
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    synchronized (log) {
                        if (log.length() < 20_000) {
                            log.append(line).append('\n');
                        }
                    }
                    if (line.contains("Server is ready")) {
                        ready.complete(null);
                    }
                }
            } catch (IOException ignored) {
                // the server went away
            }
            ready.completeExceptionally(new IllegalStateException("nats-server ended before it was ready:\n" + log));
        }, "nats-server-log");
        t.setDaemon(true);
        t.start();
        ready.get(30, TimeUnit.SECONDS);
    }

    /** Stops the server gracefully (SIGTERM: it flushes its store) and starts it again on the same port and store. */
    void restart() throws Exception {
        stop();
        launch();
    }

    void stop() throws Exception {
        process.destroy();
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Override
    public void close() throws Exception {
        if (process.isAlive()) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
