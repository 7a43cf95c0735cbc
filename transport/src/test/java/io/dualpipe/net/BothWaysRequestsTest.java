package io.dualpipe.net;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.codec.Codecs;
import io.dualpipe.core.message.MessageChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static io.dualpipe.net.TestSupport.codecs;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A server and a client that both send requests over one Unix socket. Each side used to stop
 * reading (replies to its own requests included) once its replies backed up and the peer's latest
 * chunk held requests; with both doing so, nobody got a reply, for good.
 */
class BothWaysRequestsTest {
    private static final int N = 500;
    private static final int REPLY = 4 * 1024;
    @TempDir
    Path dir;
    private EventLoop serverLoop;
    private EventLoop clientLoop;

    @BeforeEach
    void start() {
        serverLoop = EventLoop.create("both-ways-server");
        clientLoop = EventLoop.create("both-ways-client");
    }

    @AfterEach
    void stop() {
        clientLoop.close();
        serverLoop.close();
    }

    /** A REPLY-byte answer whose first four bytes carry the request's number. */
    private static byte[] answer(String request) {
        int n = Integer.parseInt(request.substring(1));
        byte[] r = new byte[REPLY];
        java.nio.ByteBuffer.wrap(r).putInt(n);
        return r;
    }

    private static int numberIn(byte[] reply) {
        assertEquals(REPLY, reply.length);
        return java.nio.ByteBuffer.wrap(reply).getInt();
    }

    @Test
    @Timeout(90)
    void aServerAndAClientBothSendingRequestsGetEveryReply() throws Exception {
        Path sock = dir.resolve("both.sock");
        CompletableFuture<MessageChannel> connection = new CompletableFuture<>();
        MessageServer server = MessageServer.builder(codecs()).loop(serverLoop)
                .handle(Codecs.UTF8, String.class, (ctx, s) -> ctx.reply(Codecs.BYTES, answer(s)))
                .onOpen(connection::complete)
                .bind(sock);
        MessageClient client = MessageClient.builder(codecs()).loop(clientLoop)
                .handle(Codecs.UTF8, String.class, (ctx, s) -> ctx.reply(Codecs.BYTES, answer(s)))
                .connect(sock).get(20, TimeUnit.SECONDS);
        MessageChannel serverSide = connection.get(20, TimeUnit.SECONDS);
        try {
            List<LoopFuture<byte[]>> fromClient = new ArrayList<>();
            List<LoopFuture<byte[]>> fromServer = new ArrayList<>();
            for (int i = 0; i < N; i++) {
                fromClient.add(client.channel().request(Codecs.UTF8, "c" + i, byte[].class, null));
                fromServer.add(serverSide.request(Codecs.UTF8, "s" + i, byte[].class, null));
            }
            for (int i = 0; i < N; i++) {
                assertEquals(i, numberIn(fromClient.get(i).get(30, TimeUnit.SECONDS)), "client's request " + i);
                assertEquals(i, numberIn(fromServer.get(i).get(30, TimeUnit.SECONDS)), "server's request " + i);
            }
            assertEquals(0, client.channel().pendingRequests());
            assertEquals(0, serverSide.pendingRequests());
        } finally {
            client.close();
            server.close();
        }
    }
}
