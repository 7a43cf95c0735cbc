package io.dualpipe.process;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.line.Conversation;
import io.dualpipe.core.line.LineReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static io.dualpipe.process.ProcessTestSupport.await;
import static io.dualpipe.process.ProcessTestSupport.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Correlation by id never pairs a reply with the wrong request: a line that begins with a number
 * equal to an outstanding request's counter, an old id echoed again, or an id with another
 * conversation's prefix goes to the unsolicited lines, and each request still gets its own reply.
 */
class ConversationIdTest {
    private static final Pattern ID = Pattern.compile("[0-9a-f]{12}-[0-9]+");

    /**
     * The child holds "first", and on "second" prints "1 ..." and "2 ..." (the bare counters of
     * both outstanding requests) before it answers both with their real ids. With ids that were
     * bare counters, "1 apples" answered "first" and "2 errors found" answered "second".
     */
    @Test
    @Timeout(30)
    void aLineBeginningWithAnOutstandingCounterIsNeverTakenForItsReply() throws Exception {
        String script = String.join("\n",
                "import sys",
                "held = None",
                "for line in sys.stdin:",
                "    rid, _, text = line.rstrip('\\n').partition(' ')",
                "    if text == 'first':",
                "        held = rid",
                "        continue",
                "    print('1 apples')",
                "    print('2 errors found')",
                "    print(rid + ' ' + text.upper())",
                "    print(held + ' FIRST')");
        try (EventLoop loop = EventLoop.create("conv-id-number");
             ChildProcess py = ChildProcess.builder("python3", "-u", "-c", script).loop(loop).start()) {
            Conversation c = Conversation.builder(py.stdin(), py.lines()).correlateById(true).build();
            List<String> unsolicited = collect(c);
            LoopFuture<String> first = c.request("first", Duration.ofSeconds(10));
            LoopFuture<String> second = c.request("second", Duration.ofSeconds(10));
            assertEquals("SECOND", get(second));
            assertEquals("FIRST", get(first));
            assertEquals(List.of("1 apples", "2 errors found"), snapshot(unsolicited));
            assertEquals(0, c.outstanding());
            assertFalse(c.isBroken());
        }
    }

    /**
     * The child answers each request with the id of the request before it (already answered) first,
     * then with a forged id (its own counter under another prefix), then with its own: the first two
     * are unsolicited, and the third is the reply. The ids it sees are tokens of a random prefix and
     * a counter, and two conversations draw different prefixes.
     */
    @Test
    @Timeout(30)
    void anOldIdOrAnotherConversationsIdIsUnsolicitedNotAReply() throws Exception {
        String script = String.join("\n",
                "import sys",
                "old = None",
                "for line in sys.stdin:",
                "    rid, _, text = line.rstrip('\\n').partition(' ')",
                "    if old: print(old + ' stale')",
                "    prefix, _, n = rid.partition('-')",
                "    other = ('0' if prefix[0] != '0' else '1') + prefix[1:]",
                "    print(other + '-' + n + ' forged')",
                "    print(rid + ' ' + rid)",
                "    old = rid");
        try (EventLoop loop = EventLoop.create("conv-id-old");
             ChildProcess a = ChildProcess.builder("python3", "-u", "-c", script).loop(loop).start();
             ChildProcess b = ChildProcess.builder("python3", "-u", "-c", script).loop(loop).start()) {
            Conversation ca = Conversation.builder(a.stdin(), a.lines()).correlateById(true).build();
            Conversation cb = Conversation.builder(b.stdin(), b.lines()).correlateById(true).build();
            List<String> unsolicited = collect(ca);
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                String id = get(ca.request("q" + i, Duration.ofSeconds(10)));
                assertTrue(ID.matcher(id).matches(), "an id is a 12-hex-digit prefix and a counter: " + id);
                ids.add(id);
            }
            String prefix = ids.get(0).substring(0, 13);
            assertEquals(List.of(prefix + "1", prefix + "2", prefix + "3"), ids, "one prefix per conversation, a counter");
            String otherId = get(cb.request("x", Duration.ofSeconds(10)));
            assertNotEquals(prefix, otherId.substring(0, 13), "another conversation draws another prefix");
            // each request's forged line came before its reply; the stale ones before the later forged ones
            await("the unsolicited lines", () -> snapshot(unsolicited).size() == 5);
            List<String> got = snapshot(unsolicited);
            assertTrue(got.get(0).endsWith("-1 forged") && !got.get(0).startsWith(prefix), got.toString());
            assertEquals(prefix + "1 stale", got.get(1));
            assertEquals(prefix + "2 stale", got.get(3));
            assertEquals(0, ca.outstanding());
        }
    }

    /** With no handler, an unmatched id is dropped and logged, saying why; the request still gets its own reply. */
    @Test
    @Timeout(30)
    void anUnmatchedIdIsLoggedAsUnsolicited() throws Exception {
        Logger logger = (Logger) LoggerFactory.getLogger(Conversation.class);
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        Level level = logger.getLevel();
        logger.setLevel(Level.DEBUG);
        logger.addAppender(appender);
        String script = "read rid text; echo \"7 seven\"; echo \"${rid%-*}-9 nine\"; echo \"$rid ok\"";
        try (EventLoop loop = EventLoop.create("conv-id-log");
             ChildProcess sh = ChildProcess.builder("sh", "-c", script).loop(loop).start()) {
            Conversation c = Conversation.builder(sh.stdin(), sh.lines()).correlateById(true).build();
            assertEquals("ok", get(c.request("go", Duration.ofSeconds(10))));
            await("both dropped lines logged", () -> messages(appender).stream().filter(m -> m.startsWith("dropped")).count() == 2);
            List<String> dropped = messages(appender).stream().filter(m -> m.startsWith("dropped")).collect(Collectors.toList());
            assertTrue(dropped.get(0).contains("it has no request id of this conversation") && dropped.get(0).contains("'7 seven'"),
                    dropped.toString());
            assertTrue(dropped.get(1).contains("no request has id") && dropped.get(1).contains("nine"), dropped.toString());
        } finally {
            logger.detachAppender(appender);
            logger.setLevel(level);
            appender.stop();
        }
    }

    private static List<String> collect(Conversation c) {
        List<String> lines = new ArrayList<>();
        c.onUnsolicitedLine(new LineReader.Listener() {
            @Override
            public void onLine(String line) {
                synchronized (lines) {
                    lines.add(line);
                }
            }
        });
        return lines;
    }

    private static List<String> snapshot(List<String> lines) {
        synchronized (lines) {
            return List.copyOf(lines);
        }
    }

    private static List<String> messages(ListAppender<ILoggingEvent> appender) {
        synchronized (appender) { // AppenderBase.doAppend holds the appender's monitor; the list is a plain ArrayList
            return appender.list.stream().map(ILoggingEvent::getFormattedMessage).collect(Collectors.toList());
        }
    }
}
