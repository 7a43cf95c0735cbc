package io.dualpipe.examples;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.codec.CodecRegistry;
import io.dualpipe.core.codec.Codecs;
import io.dualpipe.core.codec.DecodeException;
import io.dualpipe.core.codec.EncodeException;
import io.dualpipe.core.codec.MessageCodec;
import io.dualpipe.net.MessageClient;
import io.dualpipe.net.MessageServer;
import io.dualpipe.process.ChildProcess;
import io.dualpipe.process.ExitStatus;
import io.dualpipe.process.JavaChild;
import io.dualpipe.process.StderrMode;

import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * deepfos_ipc's Quick Start in Java: a {@link MessageServer} in the main process, one
 * {@link MessageClient} in each of N child processes, over a Unix socket.
 *
 * <p>Each child sends a JSON map (deepfos's {@code send_json}), a message of the application's own
 * one-byte type {@code 'S'} (deepfos's {@code send_msg('S', ...)} with its string-mapping protocol),
 * one such message the server cannot decode, and a request the server answers. The server prints
 * every message with the sender's pid, taken from the socket's peer credentials; the body it cannot
 * decode is reported as a {@link DecodeException} (deepfos's {@code ProtoDecodeError}) and the
 * connection carries on.
 *
 * <pre>mvn -q -pl examples -am -DskipTests package exec:exec -Dmain=io.dualpipe.examples.MessageServerExample</pre>
 */
public final class MessageServerExample {
    private static final long TIMEOUT_SECONDS = 10;

    /** The phrases the server knows. */
    static final Map<String, Byte> SERVER_TABLE = Map.of("Hello World", (byte) 'h');
    /** The children were built against a newer table, with a phrase the server has never heard of. */
    static final Map<String, Byte> CLIENT_TABLE = Map.of("Hello World", (byte) 'h', "Goodbye", (byte) 'g');

    private MessageServerExample() {
    }

    /**
     * deepfos's {@code StringMappingProto}: type byte {@code 'S'} (0x53, in the application range
     * 0x10..0xFF), a body of one byte standing for a phrase from a fixed table. A phrase outside the
     * table cannot be encoded ({@link EncodeException}, deepfos's {@code ProtoEncodeError}); a byte
     * outside it cannot be decoded ({@link DecodeException}, {@code ProtoDecodeError}).
     */
    static final class StringMappingCodec implements MessageCodec<String> {
        static final int TYPE = 'S';
        private final Map<String, Byte> table;
        private final Map<Byte, String> reverse;

        StringMappingCodec(Map<String, Byte> table) {
            this.table = Map.copyOf(table);
            Map<Byte, String> rev = new HashMap<>();
            table.forEach((phrase, code) -> rev.put(code, phrase));
            this.reverse = Map.copyOf(rev);
        }

        @Override
        public int type() {
            return TYPE;
        }

        @Override
        public Class<String> javaType() {
            return String.class;
        }

        @Override
        public ByteBuffer encode(String phrase) {
            Byte code = table.get(phrase);
            if (code == null) {
                throw new EncodeException(TYPE, "cannot encode string '" + phrase + "': not in the table");
            }
            return ByteBuffer.wrap(new byte[] {code});
        }

        @Override
        public String decode(ByteBuffer body) {
            int start = body.position(); // not necessarily 0
            String phrase = body.remaining() == 1 ? reverse.get(body.get()) : null;
            if (phrase == null) {
                body.position(start);
                throw new DecodeException(TYPE, "cannot decode byte(s) " + describe(body) + ": not in the table");
            }
            return phrase;
        }

        private static String describe(ByteBuffer body) {
            StringBuilder s = new StringBuilder();
            while (body.hasRemaining()) {
                byte b = body.get();
                s.append(b >= 0x20 && b < 0x7f ? "'" + (char) b + "'" : String.format("0x%02x", b & 0xff));
            }
            return s.toString();
        }

        @Override
        public String toString() {
            return "string-mapping";
        }
    }

    /**
     * The built-ins (bytes 0x01, UTF-8 0x02, JSON 0x03) and the 'S' codec. Strings now have two
     * codecs, so they are sent with the type byte: {@code send('S', phrase)}, as deepfos does.
     */
    static CodecRegistry codecs(Map<String, Byte> table) {
        return CodecRegistry.builder()
                .registerAll(Codecs.builtins())
                .register(new StringMappingCodec(table))
                .build();
    }

    /** The child: connects to the socket named by args[0] and says what child args[1] has to say. */
    public static final class Client {
        private Client() {
        }

        public static void main(String[] args) throws Exception {
            Path socket = Path.of(args[0]);
            int n = Integer.parseInt(args[1]);
            try (EventLoop loop = EventLoop.create("client");
                 MessageClient client = MessageClient.builder(codecs(CLIENT_TABLE)).loop(loop)
                         .connect(socket).get(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                Map<String, Object> hello = new LinkedHashMap<>();
                hello.put("hello", "world");
                hello.put("child", n);
                client.send(hello);                                          // send_json: a Map goes to the JSON codec
                client.send(StringMappingCodec.TYPE, "Hello World");         // send_msg('S', 'Hello World'): body 'h'
                client.send(StringMappingCodec.TYPE, "Goodbye");             // body 'g': fine here, unknown to the server
                try {
                    client.send(StringMappingCodec.TYPE, "Good night").get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
                } catch (ExecutionException e) {                             // never left this process
                    say(e.getCause().getClass().getSimpleName() + " here: " + e.getCause().getMessage());
                }
                // Frames on one connection arrive in order, so the reply also means all of the above was handled.
                Map<String, Object> sum = new LinkedHashMap<>();
                sum.put("op", "sum");
                sum.put("values", List.of(n, 10, 100));
                Map<?, ?> reply = client.request(sum, Map.class).get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
                say("request " + sum + " -> reply " + reply);
            }
        }

        private static void say(String line) {
            System.out.println(line);
            System.out.flush();
        }
    }

    public static void main(String[] args) throws Exception {
        run(System.out, 3);
    }

    /** Runs the server and {@code children} clients; returns the lines it printed, for the test. */
    static List<String> run(PrintStream out, int children) throws Exception {
        List<String> lines = Collections.synchronizedList(new ArrayList<>());
        Path dir = Files.createTempDirectory("dualpipe-msg");
        Path socket = dir.resolve("run.sock");
        try (EventLoop loop = EventLoop.create("message-server")) {
            MessageServer server = MessageServer.builder(codecs(SERVER_TABLE)).loop(loop)
                    // Handlers run on the loop thread; the peer's pid comes from SO_PEERCRED.
                    .handle(Codecs.JSON, Map.class, (ctx, m) -> {
                        int pid = ctx.channel().peer().pid();
                        if (ctx.isRequest() && "sum".equals(m.get("op"))) {
                            int total = 0;
                            for (Object v : (List<?>) m.get("values")) {
                                total += ((Number) v).intValue();
                            }
                            say(out, lines, "server: request from pid " + pid + ": " + m + ", replying sum=" + total);
                            ctx.reply(Map.of("sum", total));
                        } else if (ctx.isRequest()) {
                            ctx.replyError("no such op: " + m.get("op"));
                        } else {
                            say(out, lines, "server: json from pid " + pid + ": " + m);
                        }
                    })
                    .handle(StringMappingCodec.TYPE, String.class, (ctx, phrase) ->
                            say(out, lines, "server: 'S' from pid " + ctx.channel().peer().pid() + ": " + phrase))
                    // Undecodable bodies, unknown types, throwing handlers: reported here, the connection stays open.
                    .onError((channel, e) -> say(out, lines, "server: " + e.getClass().getSimpleName() + " from pid "
                            + channel.peer().pid() + ", carrying on: " + e.getMessage()))
                    .bind(socket);
            say(out, lines, "server: listening on " + socket.getFileName() + " (mode 0600)");

            List<ChildProcess> clients = new ArrayList<>();
            for (int i = 1; i <= children; i++) {
                clients.add(JavaChild.builder(Client.class, socket.toString(), String.valueOf(i))
                        .stderr(StderrMode.INHERIT).loop(loop).start());
                say(out, lines, "started child " + i + ": pid " + clients.get(i - 1).pid());
            }
            for (int i = 1; i <= children; i++) {
                ChildProcess child = clients.get(i - 1);
                String line;
                while ((line = child.readLine().get(TIMEOUT_SECONDS * 3, TimeUnit.SECONDS)) != null) {
                    say(out, lines, "child " + i + ": " + line);
                }
                ExitStatus status = child.onExit().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
                say(out, lines, "child " + i + " exited: " + status);
                child.close();
            }
            server.close(); // closes the connections and removes the socket file
            say(out, lines, "server closed; socket file removed: " + !Files.exists(socket));
        } finally {
            Files.deleteIfExists(socket);
            Files.deleteIfExists(dir);
        }
        return lines;
    }

    private static void say(PrintStream out, List<String> lines, String line) {
        out.println(line);
        lines.add(line);
    }
}
