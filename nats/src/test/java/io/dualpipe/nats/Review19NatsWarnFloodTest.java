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

/**
 * Review 19, item 3 (peer-triggered WARN paths still unbounded): a submitter with a message listener
 * hears every agent's messages subject, and any NATS client that may publish there made it write one
 * WARN line per undecodable message. Now at most 20 a minute per subject, the rest at DEBUG; another
 * subject's first bad message is still a WARN, and the listener still hears the good ones.
 */
class Review19NatsWarnFloodTest {
    private static final int FLOOD = 200;
    private static final byte[] GARBAGE = {(byte) 0xff, 0x00, 0x13};

    @Test
    @Timeout(60)
    void undecodableMessagesFromAnyPublisherAreLoggedAtWarnAtMostTwentyTimesPerSubject(@TempDir Path dir) throws Exception {
        CompletableFuture<Envelope> last = new CompletableFuture<>();
        Layout layout = new Layout("r19");
        String flooded = layout.messagesSubject("evil");
        String other = layout.messagesSubject("other");
        try (LogCapture log = new LogCapture("io.dualpipe.nats.internal.ResultReader");
             NatsServer nats = NatsServer.start(dir);
             NatsWorkerPool pool = NatsWorkerPool.builder().server(nats.url()).pool("r19")
                     .onMessage(e -> {
                         if ("last".equals(e.request())) {
                             last.complete(e);
                         }
                     }).start();
             Connection evil = Nats.connect(nats.url())) {
            for (int i = 0; i < FLOOD; i++) {
                evil.publish(flooded, GARBAGE);
            }
            ByteBuffer b = new EnvelopeCodec().encode(new Envelope("last", 1, 0, "x"));
            byte[] ok = new byte[b.remaining()];
            b.get(ok);
            evil.publish(flooded, ok); // after every bad one, on the same subject: delivered in order
            evil.flush(Duration.ofSeconds(10));
            last.get(30, TimeUnit.SECONDS);
            evil.publish(other, GARBAGE);
            evil.flush(Duration.ofSeconds(10));
            log.assertFirstWarned(m -> m.contains("undecodable envelope") && m.contains(other));
            log.assertBounded(m -> m.contains("undecodable envelope") && m.contains(flooded), FLOOD);
        }
    }
}
