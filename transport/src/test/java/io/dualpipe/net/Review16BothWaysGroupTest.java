package io.dualpipe.net;

import io.dualpipe.core.EventLoopGroup;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.codec.Codecs;
import io.dualpipe.core.message.MessageChannel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static io.dualpipe.net.TestSupport.codecs;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Review 16: several clients and the server send each other requests at once, with replies large
 * enough to fill the sockets, the server's connections spread over a group of 3 loops and the
 * clients over a group of 2 (so some pairs share a thread's neighbours, none share a loop).
 */
class Review16BothWaysGroupTest {
    private static final int CLIENTS = 4;
    private static final int N = 300;
    private static final int REPLY = 8 * 1024;
    @TempDir
    Path dir;

    private static byte[] answer(String request) {
        byte[] r = new byte[REPLY];
        ByteBuffer.wrap(r).putInt(Integer.parseInt(request.substring(1)));
        return r;
    }

    private static int numberIn(byte[] reply) {
        assertEquals(REPLY, reply.length);
        return ByteBuffer.wrap(reply).getInt();
    }

    @Test
    @Timeout(120)
    void everyRequestBothWaysIsAnsweredAcrossLoops() throws Exception {
        try (EventLoopGroup serverLoops = EventLoopGroup.create(3, "r16bw-s");
             EventLoopGroup clientLoops = EventLoopGroup.create(2, "r16bw-c")) {
            Path sock = dir.resolve("bw.sock");
            LinkedBlockingQueue<MessageChannel> opened = new LinkedBlockingQueue<>();
            MessageServer server = MessageServer.builder(codecs()).group(serverLoops)
                    .handle(Codecs.UTF8, String.class, (ctx, s) -> ctx.reply(Codecs.BYTES, answer(s)))
                    .onOpen(opened::add)
                    .bind(sock);
            List<MessageClient> clients = new ArrayList<>();
            List<MessageChannel> serverSide = new ArrayList<>();
            for (int i = 0; i < CLIENTS; i++) {
                clients.add(MessageClient.builder(codecs()).loop(clientLoops.next())
                        .handle(Codecs.UTF8, String.class, (ctx, s) -> ctx.reply(Codecs.BYTES, answer(s)))
                        .connect(sock).get(20, TimeUnit.SECONDS));
                serverSide.add(opened.poll(20, TimeUnit.SECONDS));
            }
            List<List<LoopFuture<byte[]>>> fromClients = new ArrayList<>();
            List<List<LoopFuture<byte[]>>> fromServer = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                fromClients.add(new ArrayList<>());
                fromServer.add(new ArrayList<>());
            }
            for (int i = 0; i < N; i++) {
                for (int c = 0; c < CLIENTS; c++) {
                    fromClients.get(c).add(clients.get(c).request(Codecs.UTF8, "c" + i, byte[].class, null));
                    fromServer.get(c).add(serverSide.get(c).request(Codecs.UTF8, "s" + i, byte[].class, null));
                }
            }
            for (int c = 0; c < CLIENTS; c++) {
                for (int i = 0; i < N; i++) {
                    assertEquals(i, numberIn(fromClients.get(c).get(i).get(60, TimeUnit.SECONDS)), "client " + c + " request " + i);
                    assertEquals(i, numberIn(fromServer.get(c).get(i).get(60, TimeUnit.SECONDS)), "server to " + c + " request " + i);
                }
            }
            for (MessageClient c : clients) {
                c.close();
            }
            server.close();
        }
    }

    /** The same, with the server, its connections and the clients all on one loop thread. */
    @Test
    @Timeout(120)
    void everyRequestBothWaysIsAnsweredOnOneLoop() throws Exception {
        try (io.dualpipe.core.EventLoop loop = io.dualpipe.core.EventLoop.create("r16bw-one")) {
            Path sock = dir.resolve("one.sock");
            LinkedBlockingQueue<MessageChannel> opened = new LinkedBlockingQueue<>();
            MessageServer server = MessageServer.builder(codecs()).loop(loop)
                    .handle(Codecs.UTF8, String.class, (ctx, s) -> ctx.reply(Codecs.BYTES, answer(s)))
                    .onOpen(opened::add)
                    .bind(sock);
            List<MessageClient> clients = new ArrayList<>();
            List<MessageChannel> serverSide = new ArrayList<>();
            for (int i = 0; i < CLIENTS; i++) {
                clients.add(MessageClient.builder(codecs()).loop(loop)
                        .handle(Codecs.UTF8, String.class, (ctx, s) -> ctx.reply(Codecs.BYTES, answer(s)))
                        .connect(sock).get(20, TimeUnit.SECONDS));
                serverSide.add(opened.poll(20, TimeUnit.SECONDS));
            }
            List<LoopFuture<byte[]>> all = new ArrayList<>();
            List<Integer> expected = new ArrayList<>();
            for (int i = 0; i < N; i++) {
                for (int c = 0; c < CLIENTS; c++) {
                    all.add(clients.get(c).request(Codecs.UTF8, "c" + i, byte[].class, null));
                    all.add(serverSide.get(c).request(Codecs.UTF8, "s" + i, byte[].class, null));
                    expected.add(i);
                    expected.add(i);
                }
            }
            for (int k = 0; k < all.size(); k++) {
                assertEquals(expected.get(k), numberIn(all.get(k).get(60, TimeUnit.SECONDS)), "request " + k);
            }
            for (MessageClient c : clients) {
                c.close();
            }
            server.close();
        }
    }
}
