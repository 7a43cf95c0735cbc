package io.dualpipe.core.line;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.FdChannel;
import io.dualpipe.core.internal.FdStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Review 19, item 3 (peer-triggered WARN paths still unbounded): a LineReader listener that does not
 * override onLineTooLong logs every over-long line at WARN. The bytes are the peer's (a child's
 * stdout or stderr, a socket): a peer printing long lines in a loop writes one WARN line per line it
 * sends, which is what 0f9fe28 bounded for frames, undeliverable messages and uid rejections.
 * (Not a regression: the default is older than today's changes.)
 */
class Review19LineWarnFloodTest {
    private static final int LINES = 200;

    @Test
    @Timeout(60)
    void overLongLinesFromThePeerAreLoggedAtWarnAtMostTwentyTimes() throws Exception {
        Logger logger = (Logger) LoggerFactory.getLogger(LineReader.class);
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        logger.addAppender(appender);
        try (EventLoop loop = EventLoop.create("review19-lines")) {
            FdChannel[] pipe = FdChannel.pipe();
            FdStream in = FdStream.source(loop, pipe[0], "peer.stdout", 64 * 1024);
            FdStream out = FdStream.sink(loop, pipe[1], "peer", 64 * 1024, 32 * 1024);
            LineReader lines = LineReader.of(in, 32, StandardCharsets.UTF_8, 1 << 20);
            CompletableFuture<Void> sawEnd = new CompletableFuture<>();
            lines.listen(line -> {
                if (line.equals("last")) {
                    sawEnd.complete(null);
                }
            });
            String longLine = "x".repeat(100) + "\n";
            out.write(longLine.repeat(LINES) + "last\n").get(20, TimeUnit.SECONDS);
            sawEnd.get(20, TimeUnit.SECONDS);
            long warned;
            synchronized (appender) {
                warned = appender.list.stream()
                        .filter(e -> e.getLevel() == Level.WARN && e.getFormattedMessage().contains("over-long line")).count();
            }
            out.close();
            in.close();
            assertTrue(warned <= 20, warned + " WARN lines for " + LINES + " over-long lines the peer sent");
        } finally {
            logger.detachAppender(appender);
            appender.stop();
        }
    }
}
