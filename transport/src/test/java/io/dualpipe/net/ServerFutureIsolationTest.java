package io.dualpipe.net;

import io.dualpipe.core.EventLoop;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static io.dualpipe.net.TestSupport.codecs;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** A caller's cancel or completion of the server's close future stays with that caller. */
class ServerFutureIsolationTest {
    @TempDir
    Path dir;

    @Test
    @Timeout(20)
    void aCallerCancellingTheCloseFutureChangesNobodyElses() throws Exception {
        try (EventLoop loop = EventLoop.create("sfi")) {
            MessageServer server = MessageServer.builder(codecs()).loop(loop).bind(dir.resolve("s.sock"));
            MessageClient client = MessageClient.builder(codecs()).loop(loop).connect(dir.resolve("s.sock")).get(10, TimeUnit.SECONDS);
            server.closeFuture().cancel(false);
            server.stop().complete(null); // a caller finishing its copy early tells nobody the server has stopped
            server.closeFuture().get(10, TimeUnit.SECONDS);
            assertFalse(server.isOpen());
            client.close();
        }
    }
}
