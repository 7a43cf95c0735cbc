package io.dualpipe.examples;

import io.dualpipe.core.ByteSink;
import io.dualpipe.core.ByteSource;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.line.LineReader;
import io.dualpipe.fifo.Fifo;
import io.dualpipe.fifo.FifoReaderOptions;
import io.dualpipe.fifo.FifoWriterOptions;
import io.dualpipe.process.ChildProcess;
import io.dualpipe.process.ChildProcessBuilder;
import io.dualpipe.process.JavaChild;
import io.dualpipe.process.StderrMode;

import java.io.BufferedReader;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The FIFO client/server of the "Pipes" chapter: a server reads requests from a well-known FIFO;
 * each request names the client's own reply FIFO, and the server answers there. The clients are
 * processes that share nothing with the server but two paths: {@code sh} scripts using plain
 * redirections, and a Java program using {@code java.io}. None of them uses DualPipe.
 *
 * <p>A request is one line, {@code <reply fifo> <text>}; the reply is one line, the text in capitals
 * with the request's number. Lines this short (under {@code PIPE_BUF}) never interleave, so clients
 * writing at the same moment are fine.
 *
 * <p>The server never blocks its loop: the requests FIFO is read by a line listener, and each reply
 * FIFO is opened with {@link Fifo#openWriter}, which retries on the loop's timer until the client has
 * it open for reading (a plain {@code open(2)} would wait right there, and every other client with it).
 *
 * <pre>mvn -q -pl examples -am -DskipTests package exec:exec -Dmain=io.dualpipe.examples.FifoServerExample</pre>
 */
public final class FifoServerExample {
    private static final long TIMEOUT_SECONDS = 20;

    /**
     * A client in {@code sh}: makes its reply FIFO, sends one request line, reads one reply line.
     * $0 is the requests FIFO, $1 the client's name.
     */
    static final String SH_CLIENT = String.join("\n",
            "reply=\"$(dirname \"$0\")/reply.$$\"",
            "mkfifo -m 600 \"$reply\"",
            "echo \"$reply $1 says hello\" > \"$0\"",    // the server always has the FIFO open: never waits
            "read -r answer < \"$reply\"",                // waits until the server opens it to answer
            "rm -f \"$reply\"",
            "echo \"got: $answer\"");

    /** A client that names a reply FIFO it never made, to show the server reporting it and carrying on. */
    static final String CARELESS_CLIENT = String.join("\n",
            "echo \"$(dirname \"$0\")/no-such-fifo $1 forgot to mkfifo\" > \"$0\"",
            "echo \"sent a request naming a FIFO it never made; not waiting for a reply\"");

    private FifoServerExample() {
    }

    /** The same client in Java with java.io only: args are the requests FIFO and the client's name. */
    public static final class JavaIoClient {
        private JavaIoClient() {
        }

        public static void main(String[] args) throws Exception {
            Path requests = Path.of(args[0]);
            Path reply = requests.resolveSibling("reply." + ProcessHandle.current().pid());
            // java.io cannot make a FIFO; mkfifo(1) can.
            if (new ProcessBuilder("mkfifo", "-m", "600", reply.toString()).inheritIO().start().waitFor() != 0) {
                throw new IllegalStateException("mkfifo " + reply + " failed");
            }
            try {
                byte[] request = (reply + " " + args[1] + " says hello\n").getBytes(StandardCharsets.UTF_8);
                try (FileOutputStream out = new FileOutputStream(requests.toFile())) {
                    out.write(request); // one write(2) of under PIPE_BUF bytes: atomic
                }
                try (BufferedReader in = new BufferedReader(new InputStreamReader(
                        new FileInputStream(reply.toFile()), StandardCharsets.UTF_8))) {
                    System.out.println("got: " + in.readLine());
                }
            } finally {
                Files.deleteIfExists(reply);
            }
        }
    }

    public static void main(String[] args) throws Exception {
        run(System.out);
    }

    /** Runs the server and its clients; returns the lines it printed, for the test. */
    static List<String> run(PrintStream out) throws Exception {
        List<String> lines = Collections.synchronizedList(new ArrayList<>());
        Path dir = Files.createTempDirectory("dualpipe-fifo-server");
        Path requests = dir.resolve("requests");
        Fifo.create(requests); // mode 0600: only this user's processes can send requests
        try (EventLoop loop = EventLoop.create("fifo-server")) {
            // keepOpenForWriters: the stream goes on as clients come and go, instead of ending with the first.
            ByteSource source = Fifo.openReader(requests, loop, FifoReaderOptions.defaults().keepOpenForWriters(true)).join();
            say(out, lines, "server: reading requests from " + requests.getFileName());

            Map<String, ChildProcessBuilder> clients = new LinkedHashMap<>();
            clients.put("alice", ChildProcess.builder("sh", "-c", SH_CLIENT, requests.toString(), "alice"));
            clients.put("bob", ChildProcess.builder("sh", "-c", SH_CLIENT, requests.toString(), "bob"));
            clients.put("carol", JavaChild.builder(JavaIoClient.class, requests.toString(), "carol"));
            clients.put("dave", ChildProcess.builder("sh", "-c", CARELESS_CLIENT, requests.toString(), "dave"));

            CountDownLatch served = new CountDownLatch(clients.size()); // answered, or failed to be
            int[] count = {0}; // loop thread only
            LineReader.of(source).listen(line -> serve(line, ++count[0], loop, out, lines, served));

            Map<String, ChildProcess> started = new LinkedHashMap<>();
            clients.forEach((name, builder) -> started.put(name, builder.stderr(StderrMode.INHERIT).loop(loop).start()));
            for (Map.Entry<String, ChildProcess> e : started.entrySet()) {
                ChildProcess client = e.getValue();
                String line;
                while ((line = client.readLine().get(TIMEOUT_SECONDS, TimeUnit.SECONDS)) != null) {
                    say(out, lines, "client " + e.getKey() + " (pid " + client.pid() + "): " + line);
                }
                say(out, lines, "client " + e.getKey() + " exited: " + client.onExit().get(TIMEOUT_SECONDS, TimeUnit.SECONDS));
                client.close();
            }
            if (!served.await(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the server did not get through all " + clients.size() + " requests");
            }
            source.close();
        } finally {
            Fifo.delete(requests);
            Files.deleteIfExists(dir);
        }
        say(out, lines, "server: stopped; requests FIFO removed: " + !Files.exists(requests));
        return lines;
    }

    /** On the loop thread: answers one request without waiting for anything. */
    private static void serve(String request, int number, EventLoop loop, PrintStream out, List<String> lines,
                              CountDownLatch served) {
        int space = request.indexOf(' ');
        if (space <= 0) {
            say(out, lines, "server: request #" + number + " names no reply FIFO, skipped: " + request);
            served.countDown();
            return;
        }
        Path replyFifo = Path.of(request.substring(0, space));
        String text = request.substring(space + 1);
        String reply = "#" + number + " " + text.toUpperCase(Locale.ROOT);
        say(out, lines, "server: request #" + number + " '" + text + "', reply to " + replyFifo.getFileName());
        // A client that made its FIFO but never reads it costs a timer, then a timeout: never a blocked loop.
        LoopFuture<ByteSink> open = Fifo.openWriter(replyFifo, loop, FifoWriterOptions.defaults().timeout(Duration.ofSeconds(5)));
        open.thenCompose(sink -> sink.write(reply + "\n")
                        .thenCompose(v -> sink.shutdownOutput()) // the client reads the line, then end of file
                        .whenComplete((v, e) -> sink.close()))
                .whenComplete((v, e) -> {
                    if (e == null) {
                        say(out, lines, "server: answered #" + number + " on " + replyFifo.getFileName());
                    } else {
                        Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
                        say(out, lines, "server: cannot answer #" + number + ", carrying on: "
                                + cause.getClass().getSimpleName() + ": " + cause.getMessage());
                    }
                    served.countDown();
                });
    }

    private static void say(PrintStream out, List<String> lines, String line) {
        out.println(line);
        lines.add(line);
    }
}
