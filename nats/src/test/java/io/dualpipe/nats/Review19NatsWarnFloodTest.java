package io.dualpipe.nats;

import io.dualpipe.nats.internal.Layout;
import io.dualpipe.worker.Envelope;
import io.dualpipe.worker.EnvelopeCodec;
import io.nats.client.Connection;
import io.nats.client.Nats;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Review 19, item 3 (peer-triggered WARN paths still unbounded): a submitter with a message listener
 * hears every agent's messages subject, and any NATS client that may publish there made it write one
 * WARN line per undecodable message. Now at most 20 a minute per subject, the rest at DEBUG; another
 * subject's first bad message is still a WARN, and the listener still hears the good ones.
 */
class Review19NatsWarnFloodTest {
    private static final int FLOOD = 200;
    private static final byte[] GARBAGE = {(byte) 0xff, 0x00, 0x13};

    private static byte[] envelope(String request) {
        ByteBuffer b = new EnvelopeCodec().encode(new Envelope(request, 1, 0, "x"));
        byte[] bytes = new byte[b.remaining()];
        b.get(bytes);
        return bytes;
    }

    @Test
    @Timeout(60)
    void undecodableMessagesFromAnyPublisherAreLoggedAtWarnAtMostTwentyTimesPerSubject(@TempDir Path dir) throws Exception {
        CompletableFuture<Envelope> last = new CompletableFuture<>();
        AtomicInteger hello = new AtomicInteger();
        Layout layout = new Layout("r19");
        String flooded = layout.messagesSubject("evil");
        String other = layout.messagesSubject("other");
        try (LogCapture log = new LogCapture("io.dualpipe.nats.internal.ResultReader");
             NatsServer nats = NatsServer.start(dir);
             NatsWorkerPool pool = NatsWorkerPool.builder().server(nats.url()).pool("r19")
                     .onMessage(e -> {
                         if ("last".equals(e.request())) {
                             last.complete(e);
                         } else if ("hello".equals(e.request())) {
                             hello.incrementAndGet();
                         }
                     }).start();
             Connection evil = Nats.connect(nats.url())) {
            Fixtures.publishUntilHeard(evil, flooded, envelope("hello"), () -> hello.get() > 0);
            for (int i = 0; i < FLOOD; i++) {
                evil.publish(flooded, GARBAGE);
            }
            evil.publish(flooded, envelope("last")); // after every bad one, on the same subject: delivered in order
            evil.flush(Duration.ofSeconds(10));
            last.get(30, TimeUnit.SECONDS);
            evil.publish(other, GARBAGE);
            evil.flush(Duration.ofSeconds(10));
            log.assertFirstWarned(m -> m.contains("undecodable envelope") && m.contains(other));
            log.assertBounded(m -> m.contains("undecodable envelope") && m.contains(flooded), FLOOD);
        }
    }
}
