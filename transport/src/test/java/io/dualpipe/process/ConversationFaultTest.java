package io.dualpipe.process;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.line.Conversation;
import io.dualpipe.core.line.ConversationBrokenException;
import io.dualpipe.core.line.TimeoutPolicy;
import io.dualpipe.core.message.RequestTimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;

import static io.dualpipe.process.ProcessTestSupport.await;
import static io.dualpipe.process.ProcessTestSupport.failsWith;
import static io.dualpipe.process.ProcessTestSupport.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A child that misses a reply never makes a conversation hand out someone else's answer. */
class ConversationFaultTest {

    /**
     * {@code bc} prints nothing for {@code x=5}. Pipelined through {@code ChildProcess.request}, the
     * "2" for {@code 1+1} used to answer {@code x=5}, and every later reply went one request early.
     */
    @Test
    @Timeout(30)
    void bcSkippingAReplyBreaksTheConversationAndNoRequestGetsAnotherOnesReply() throws Exception {
        try (EventLoop loop = EventLoop.create("conv-bc-break");
             ChildProcess bc = ChildProcess.builder("bc", "-q").loop(loop).start()) {
            assertEquals("42", get(bc.request("6*7", Duration.ofSeconds(10))), "bc answers at all");
            LoopFuture<String> assign = bc.request("x=5", Duration.ofMillis(500));
            LoopFuture<String> sum = bc.request("1+1", Duration.ofSeconds(10));
            LoopFuture<String> product = bc.request("x*3", Duration.ofSeconds(10));
            RequestTimeoutException timedOut = failsWith(RequestTimeoutException.class, assign, "x=5");
            assertTrue(timedOut.getMessage().contains("'x=5'"), timedOut.getMessage());
            for (LoopFuture<String> later : List.of(sum, product)) {
                ConversationBrokenException broken = failsWith(ConversationBrokenException.class, later, "a later request");
                assertTrue(broken.getMessage().startsWith("conversation broken: request 'x=5' got no reply within PT0.5S"),
                        broken.getMessage());
            }
            assertTrue(bc.conversation().isBroken());
            failsWith(ConversationBrokenException.class, bc.request("2+2"), "a request after the break");
            assertEquals(0, bc.conversation().outstanding());
        }
    }

    /**
     * A child that always answers, only late: with KEEP_PLACE the late reply is dropped and the pairing
     * holds. The child answers the first request once the test says so on fd 3; meanwhile the second
     * waits, unwritten, behind it.
     */
    @Test
    @Timeout(30)
    void keepPlaceKeepsThePairingWithAChildThatAnswersLate() throws Exception {
        String script = "read a; read go <&3; echo \"late $a\"; while read l; do echo \"re $l\"; done";
        try (EventLoop loop = EventLoop.create("conv-keep-place");
             ChildProcess sh = ChildProcess.builder("sh", "-c", script).extraPipe(PipeDirection.TO_CHILD).loop(loop).start()) {
            Conversation c = Conversation.builder(sh.stdin(), sh.lines()).timeoutPolicy(TimeoutPolicy.KEEP_PLACE).build();
            failsWith(RequestTimeoutException.class, c.request("first", Duration.ofMillis(200)));
            LoopFuture<String> second = c.request("second", Duration.ofSeconds(10));
            assertEquals(2, c.outstanding(), "the timed-out request keeps its place; the second waits behind it");
            get(sh.pipeToChild(3).write("go\n"));
            assertEquals("re second", get(second));
            assertEquals("re third", get(c.request("third", Duration.ofSeconds(10))));
            assertFalse(c.isBroken());
            assertEquals(0, c.outstanding());
        }
    }

    /**
     * Correlation by id: the child echoes the id; it never answers "two" in time and answers it after
     * "four" was asked. Only "two" fails; its late reply is dropped; the others get their own.
     */
    @Test
    @Timeout(30)
    void byIdOneLostReplyCostsOneRequest() throws Exception {
        String script = String.join("\n",
                "import sys",
                "held = None",
                "for line in sys.stdin:",
                "    rid, _, text = line.rstrip('\\n').partition(' ')",
                "    if text == 'two':",
                "        held = rid",
                "        continue",
                "    if held and text == 'four':",
                "        print(held + ' late')",
                "    print(rid + ' ' + text.upper())");
        try (EventLoop loop = EventLoop.create("conv-by-id");
             ChildProcess py = ChildProcess.builder("python3", "-u", "-c", script).loop(loop).start()) {
            Conversation c = Conversation.builder(py.stdin(), py.lines()).correlateById(true).build();
            LoopFuture<String> one = c.request("one", Duration.ofSeconds(10));
            LoopFuture<String> two = c.request("two", Duration.ofMillis(300));
            LoopFuture<String> three = c.request("three", Duration.ofSeconds(10));
            assertEquals("ONE", get(one));
            assertEquals("THREE", get(three));
            assertTrue(failsWith(RequestTimeoutException.class, two).getMessage().contains("'two'"));
            assertEquals("FOUR", get(c.request("four", Duration.ofSeconds(10))), "the late '2 late' went to nobody");
            assertEquals("FIVE", get(c.request("five", Duration.ofSeconds(10))));
            assertFalse(c.isBroken());
            assertEquals(0, c.outstanding());
        }
    }

    /** Lines no request waits for are logged at WARN once per burst, not per line. */
    @Test
    @Timeout(30)
    void unsolicitedLinesAreWarnedOncePerBurst() throws Exception {
        Logger logger = (Logger) LoggerFactory.getLogger(Conversation.class);
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        Level level = logger.getLevel();
        logger.setLevel(Level.DEBUG); // the burst's other lines, logged at DEBUG, tell the test it is over
        logger.addAppender(appender);
        String script = "read a; echo x1; echo x2; echo x3; echo \"re $a\"; read b; echo y1; echo y2; echo \"re $b\"";
        try (EventLoop loop = EventLoop.create("conv-unsolicited");
             ChildProcess sh = ChildProcess.builder("sh", "-c", script).loop(loop).start()) {
            // FIFO: x1 answers a and x2, x3, "re a" arrive with no request: one burst.
            assertEquals("x1", get(sh.request("a")));
            await("the whole burst", () -> dropped(appender) == 3);
            assertEquals(1, warnings(appender).size());
            assertEquals("y1", get(sh.request("b"))); // the reply ends that burst, y2 and "re b" start another
            await("the second burst's warning", () -> warnings(appender).size() == 2);
            get(sh.onDrained());
            List<String> warned = warnings(appender);
            assertEquals(List.of("dropped a line no request waits for: 'x2' (more in this burst are logged at DEBUG)",
                    "dropped a line no request waits for: 'y2' (more in this burst are logged at DEBUG)"), warned);
        } finally {
            logger.detachAppender(appender);
            logger.setLevel(level);
            appender.stop();
        }
    }

    private static long dropped(ListAppender<ILoggingEvent> appender) {
        synchronized (appender) { // AppenderBase.doAppend holds the appender's monitor; the list is a plain ArrayList
            return appender.list.stream().filter(e -> e.getFormattedMessage().startsWith("dropped a line")).count();
        }
    }

    private static List<String> warnings(ListAppender<ILoggingEvent> appender) {
        synchronized (appender) { // AppenderBase.doAppend holds the appender's monitor; the list is a plain ArrayList
            return appender.list.stream().filter(e -> e.getLevel().isGreaterOrEqual(Level.WARN))
                    .map(ILoggingEvent::getFormattedMessage).collect(Collectors.toList());
        }
    }
}
