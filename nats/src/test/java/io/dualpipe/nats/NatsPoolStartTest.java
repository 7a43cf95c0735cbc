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
import java.util.concurrent.TimeoutException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@code start()} returns once the server has the pool's plain subscriptions: an envelope published
 * the moment it returns, on a worker's messages subject or on the submitter's progress subject,
 * reaches the pool's listener. Before, start() returned with the SUBs possibly still on their way,
 * and such an envelope was dropped by the server (6 of 20 runs of the flood tests lost one).
 */
class NatsPoolStartTest {
    private static final int ROUNDS = 20;

    private static byte[] envelope(String request, int n) {
        ByteBuffer b = new EnvelopeCodec().encode(new Envelope(request, 1, 0, n));
        byte[] bytes = new byte[b.remaining()];
        b.get(bytes);
        return bytes;
    }

    @Test
    @Timeout(120)
    void anEnvelopePublishedTheMomentStartReturnsIsHeard(@TempDir Path dir) throws Exception {
        Layout layout = new Layout("now");
        try (NatsServer nats = NatsServer.start(dir);
             Connection publisher = Nats.connect(nats.url())) {
            for (int round = 0; round < ROUNDS; round++) {
                CompletableFuture<Envelope> message = new CompletableFuture<>();
                CompletableFuture<Envelope> progress = new CompletableFuture<>();
                try (NatsWorkerPool pool = NatsWorkerPool.builder().server(nats.url()).pool("now").onMessage(e -> {
                    (e.request().equals("NOTE") ? message : progress).complete(e);
                }).start()) {
                    publisher.publish(layout.messagesSubject("agent-x"), envelope("NOTE", round));
                    publisher.publish(layout.progressSubject(pool.submitterId()), envelope("PROGRESS", round));
                    publisher.flush(Duration.ofSeconds(10)); // the server has both: routed now, or never
                    assertEquals(round, heard(message, round, "on a worker's messages subject"));
                    assertEquals(round, heard(progress, round, "on the submitter's progress subject"));
                }
            }
        }
    }

    /** The round number the envelope carried; a bounded wait, since a dropped envelope never comes. */
    private static int heard(CompletableFuture<Envelope> f, int round, String where) throws Exception {
        try {
            return ((Number) f.get(10, TimeUnit.SECONDS).data()).intValue();
        } catch (TimeoutException e) {
            return fail("round " + round + ": the envelope published " + where + " the moment start() returned was not heard in 10 s");
        }
    }
}
