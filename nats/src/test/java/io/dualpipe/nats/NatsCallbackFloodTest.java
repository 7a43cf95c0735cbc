package io.dualpipe.nats;

import io.dualpipe.nats.internal.Layout;
import io.dualpipe.process.ChildProcess;
import io.dualpipe.worker.Envelope;
import io.dualpipe.worker.EnvelopeCodec;
import io.nats.client.Connection;
import io.nats.client.JetStream;
import io.nats.client.Nats;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * What a NATS client that may publish on a pool's subjects can make a submitter or an agent log is
 * bounded: a pool listener that throws on every envelope (CallbackFailureLog, per listener class),
 * and messages without DualPipe's headers on the task subject (per subject). The pool goes on
 * answering right.
 */
class NatsCallbackFloodTest {
    private static final int FLOOD = 10_000;
    private static final int HEADERLESS = 200;

    private static NatsAgent agent(NatsServer nats, String pool) {
        return NatsAgent.builder(() -> ChildProcess.builder("python3", Fixtures.script().toString()))
                .server(nats.url()).pool(pool).name("a").workers(1).start();
    }

    private static byte[] envelope(String request, Object data) {
        ByteBuffer b = new EnvelopeCodec().encode(new Envelope(request, 1, 0, data));
        byte[] bytes = new byte[b.remaining()];
        b.get(bytes);
        return bytes;
    }

    /** Counts, keeps the last request it heard, then throws. */
    private static final class BuggyListener implements Consumer<Envelope> {
        final AtomicInteger heard = new AtomicInteger();
        volatile String last;

        @Override
        public void accept(Envelope e) {
            heard.incrementAndGet();
            last = e.request();
            throw new IllegalStateException("listener bug on " + e.data());
        }

        @Override
        public String toString() {
            return "buggy-envelope-listener";
        }
    }

    @Test
    @Timeout(120)
    void aPoolListenerThatThrowsOnEveryEnvelopeStaysWithinItsBudget(@TempDir Path dir) throws Exception {
        BuggyListener buggy = new BuggyListener();
        AtomicInteger otherHeard = new AtomicInteger();
        try (LogCapture log = new LogCapture("io.dualpipe.nats.internal.ResultReader");
             NatsServer nats = NatsServer.start(dir);
             NatsWorkerPool pool = NatsWorkerPool.builder().server(nats.url()).pool("cbf").onMessage(buggy).start();
             NatsAgent agent = agent(nats, "cbf");
             Connection publisher = Nats.connect(nats.url())) {
            String subject = new Layout("cbf").messagesSubject("chatty");
            Fixtures.publishUntilHeard(publisher, subject, envelope("HELLO", 0), () -> buggy.heard.get() > 0);
            for (int i = 0; i < FLOOD; i++) {
                publisher.publish(subject, envelope("NOTE", i));
            }
            publisher.publish(subject, envelope("END1", 0)); // after every note, on the same subject: heard last
            publisher.flush(Duration.ofSeconds(10));
            Fixtures.await("every envelope heard", () -> "END1".equals(buggy.last));
            assertEquals(16L, ((Number) pool.submit(4).get(30, TimeUnit.SECONDS)).longValue(), "the pool still answers right");

            try (NatsWorkerPool other = NatsWorkerPool.builder().server(nats.url()).pool("cbf").onMessage(new Consumer<>() {
                @Override
                public void accept(Envelope e) {
                    otherHeard.incrementAndGet();
                    throw new IllegalStateException("other listener bug");
                }

                @Override
                public String toString() {
                    return "other-envelope-listener";
                }
            }).start()) {
                Fixtures.publishUntilHeard(publisher, subject, envelope("HELLO", 1), () -> otherHeard.get() > 0);
                log.assertFirstWarned(m -> m.contains("listener other-envelope-listener failed"));
            }
            publisher.publish(subject, envelope("END2", 0));
            publisher.flush(Duration.ofSeconds(10));
            Fixtures.await("the last envelope heard", () -> "END2".equals(buggy.last));
            log.assertBounded(m -> m.contains("listener buggy-envelope-listener failed"), buggy.heard.get());
        }
    }

    @Test
    @Timeout(120)
    void tasksWithoutHeadersFromAnyPublisherAreLoggedWithinTheBudget(@TempDir Path dir) throws Exception {
        try (LogCapture log = new LogCapture("io.dualpipe.nats.internal.TaskRunner");
             NatsServer nats = NatsServer.start(dir);
             NatsWorkerPool pool = NatsWorkerPool.builder().server(nats.url()).pool("hdr").start();
             NatsAgent agent = agent(nats, "hdr");
             Connection publisher = Nats.connect(nats.url())) {
            JetStream js = publisher.jetStream();
            String subject = new Layout("hdr").tasksSubject();
            for (int i = 0; i < HEADERLESS; i++) {
                js.publish(subject, Integer.toString(i).getBytes(StandardCharsets.UTF_8));
            }
            assertEquals(49L, ((Number) pool.submit(7).get(30, TimeUnit.SECONDS)).longValue(), "the agent still answers right");
            log.assertBounded(m -> m.contains("message without") && m.contains("terminated"), HEADERLESS);
        }
    }
}
