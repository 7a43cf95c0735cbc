package io.dualpipe.net;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.codec.Codecs;
import io.dualpipe.net.internal.DefaultMessageServer;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A child JVM for {@link Review16ChildEmfileTest}: serves a socket, then answers commands on stdin
 * with lines prefixed "R16 " (the log goes to stdout too): "backoffs", "connections", "quit".
 */
public final class Review16EmfileServerMain {
    private Review16EmfileServerMain() {
    }

    public static void main(String[] args) throws Exception {
        Path sock = Path.of(args[0]);
        try (EventLoop loop = EventLoop.create("r16-child")) {
            DefaultMessageServer server = (DefaultMessageServer) MessageServer.builder(TestSupport.codecs()).loop(loop)
                    .acceptBackoff(Duration.ofMillis(50))
                    .handle(Codecs.UTF8, String.class, (ctx, s) -> ctx.reply(s + " ok"))
                    .bind(sock);
            // Everything the commands use is loaded now: under EMFILE no class file can be opened.
            MessageClient warm = MessageClient.builder(TestSupport.codecs()).loop(loop).connect(sock).get(10, TimeUnit.SECONDS);
            warm.request("warm", String.class).get(10, TimeUnit.SECONDS);
            warm.close();
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
            System.out.println("R16 ready " + server.acceptBackoffs() + " " + server.connections().size());
            System.out.flush();
            for (String line; (line = in.readLine()) != null; ) {
                if (line.equals("quit")) {
                    break;
                }
                System.out.println("R16 " + server.acceptBackoffs() + " " + server.connections().size());
                System.out.flush();
            }
            server.close();
        }
    }
}
