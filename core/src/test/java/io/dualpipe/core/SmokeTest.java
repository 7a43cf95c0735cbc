package io.dualpipe.core;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;

class SmokeTest {
    @Test
    @Timeout(10)
    void pipeThroughLoop() throws Exception {
        try (EventLoop loop = EventLoop.create("smoke")) {
            FdChannel[] p = FdChannel.pipe();
            CompletableFuture<String> got = new CompletableFuture<>();
            ByteBuffer buf = ByteBuffer.allocateDirect(100);
            loop.register(p[0], SelectionKey.OP_READ, new IoHandler() {
                public void ready(int ops) {
                    try {
                        int n = p[0].read(buf);
                        buf.flip();
                        byte[] b = new byte[buf.remaining()];
                        buf.get(b);
                        got.complete(new String(b));
                    } catch (Exception e) {
                        got.completeExceptionally(e);
                    }
                }
                public void loopClosed(LoopClosedException c) {}
            }).get();
            p[1].write(ByteBuffer.wrap("hello".getBytes()));
            assertEquals("hello", got.get());
            p[1].close();
        }
    }
}
