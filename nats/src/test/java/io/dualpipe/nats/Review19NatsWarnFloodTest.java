package io.dualpipe.nats;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.dualpipe.nats.internal.Layout;
import io.dualpipe.worker.Envelope;
import io.dualpipe.worker.EnvelopeCodec;
import io.nats.client.Connection;
import io.nats.client.Nats;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Review 19, item 3 (peer-triggered WARN paths still unbounded): a submitter with a message listener
 * hears every agent's messages subject; any NATS client that may publish there makes it write one
 * WARN line per undecodable message. (Not a regression; the same holds for results without headers
 * and for an agent's tasks without headers.)
 */
class Review19NatsWarnFloodTest {
    private static final int FLOOD = 200;

    @Test
    @Timeout(60)
    @org.junit.jupiter.api.Disabled("known defect, left for the next session: the nats module cannot use core's internal "
            + "LogLimiter (core.internal is exported to io.dualpipe.transport alone, and nats is an automatic module); "
            + "fix by a module-info for nats or a public budget type")
    void DEFECT_undecodableMessagesFromAnyPublisherAreEachLoggedAtWarn(@TempDir Path dir) throws Exception {
        Logger logger = (Logger) LoggerFactory.getLogger("io.dualpipe.nats.internal.ResultReader");
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        logger.addAppender(appender);
        CompletableFuture<Envelope> last = new CompletableFuture<>();
        try (NatsServer nats = NatsServer.start(dir);
             NatsWorkerPool pool = NatsWorkerPool.builder().server(nats.url()).pool("r19")
                     .onMessage(e -> {
                         if ("last".equals(e.request())) {
                             last.complete(e);
                         }
                     }).start()) {
            Connection evil = Nats.connect(nats.url());
            try {
                String subject = new Layout("r19").messagesSubject("evil");
                for (int i = 0; i < FLOOD; i++) {
                    evil.publish(subject, new byte[] {(byte) 0xff, 0x00, 0x13});
                }
                ByteBuffer b = new EnvelopeCodec().encode(new Envelope("last", 1, 0, "x"));
                byte[] ok = new byte[b.remaining()];
                b.get(ok);
                evil.publish(subject, ok); // after every bad one, on the same subject: delivered in order
                evil.flush(java.time.Duration.ofSeconds(10));
                last.get(30, TimeUnit.SECONDS);
            } finally {
                evil.close();
            }
            long warned;
            synchronized (appender) {
                warned = appender.list.stream().filter(e -> e.getLevel() == Level.WARN
                        && e.getFormattedMessage().contains("undecodable envelope")).count();
            }
            assertTrue(warned <= 20, warned + " WARN lines for " + FLOOD + " undecodable messages from one publisher");
        } finally {
            logger.detachAppender(appender);
            appender.stop();
        }
    }
}
