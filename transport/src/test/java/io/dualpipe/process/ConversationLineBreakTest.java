package io.dualpipe.process;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.LoopFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static io.dualpipe.process.ProcessTestSupport.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A request the child would read as two lines is refused: on a pseudo-terminal (ICRNL on) a CR is a
 * line feed, and one request read as two lines paired every later reply with the request before it.
 */
class ConversationLineBreakTest {

    @Test
    @Timeout(30)
    void aCarriageReturnIsRefusedOnAPseudoTerminal() throws Exception {
        assumeTrue(System.getProperty("os.name").startsWith("Linux"), "pseudo-terminals are implemented for Linux only");
        try (EventLoop loop = EventLoop.create("conv-cr-pty");
             ChildProcess cat = ChildProcess.builder("cat").pseudoTerminal(true).loop(loop).start()) {
            // The premise: the terminal reads "one\r\n" as two lines.
            cat.writeLine("one\r");
            assertEquals("one", get(cat.readLine()));
            assertEquals("", get(cat.readLine()));
            // Pipelined as in the report: one\r, two, three used to give one, "", two.
            InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> cat.request("one\r"));
            assertTrue(e.getMessage().startsWith("request line has a carriage return (\\r; "), e.getMessage());
            assertTrue(e.getMessage().contains(" at index 3, "), e.getMessage());
            assertTrue(e.getMessage().endsWith(": 'one\\r'"), e.getMessage());
            LoopFuture<String> two = cat.request("two");
            LoopFuture<String> three = cat.request("three");
            assertEquals("two", get(two));
            assertEquals("three", get(three));
            assertEquals(0, cat.conversation().outstanding());
        }
    }

    @Test
    @Timeout(30)
    void lineBreaksAreRefusedOnAPipe() throws Exception {
        try (EventLoop loop = EventLoop.create("conv-cr-pipe");
             ChildProcess cat = ChildProcess.builder("cat").loop(loop).start()) {
            LoopFuture<String> before = cat.request("before");
            InvalidArgumentException cr = assertThrows(InvalidArgumentException.class, () -> cat.request("a\rb"));
            assertTrue(cr.getMessage().contains("carriage return (\\r; a terminal with ICRNL reads it as a line feed) at index 1"),
                    cr.getMessage());
            InvalidArgumentException lf = assertThrows(InvalidArgumentException.class, () -> cat.request("ab\n"));
            assertTrue(lf.getMessage().startsWith("request line has a line feed (\\n) at index 2, "), lf.getMessage());
            assertEquals("before", get(before));
            assertEquals("after", get(cat.request("after")));
            assertEquals(0, cat.conversation().outstanding());
        }
    }
}
