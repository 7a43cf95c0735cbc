package io.dualpipe.examples;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FifoServerExampleTest {
    @Test
    @Timeout(60)
    void eachClientGetsItsOwnReplyOnItsOwnFifoAndAMissingOneIsSkipped() throws Exception {
        Capture c = new Capture();
        List<String> lines = FifoServerExample.run(c.out);
        String all = String.join("\n", lines);
        assertEquals("server: reading requests from requests", lines.get(0), all);
        for (String name : List.of("alice", "bob", "carol")) {
            // The client's reply: its own request's number and text, read from the FIFO named after its pid.
            Matcher got = find(lines, "client " + name + " \\(pid (\\d+)\\): got: #(\\d) " + name.toUpperCase() + " SAYS HELLO");
            String pid = got.group(1);
            String number = got.group(2);
            find(lines, "server: request #" + number + " '" + name + " says hello', reply to reply\\." + pid);
            find(lines, "server: answered #" + number + " on reply\\." + pid);
            assertTrue(lines.contains("client " + name + " exited: exit 0"), all);
        }
        find(lines, "server: request #\\d 'dave forgot to mkfifo', reply to no-such-fifo");
        find(lines, "server: cannot answer #\\d, carrying on: NoSuchFifoException: fifo '.*/no-such-fifo' does not exist.*");
        assertTrue(lines.contains("client dave exited: exit 0"), all);
        assertEquals(4, lines.stream().filter(l -> l.matches("server: request #\\d .*")).count(), all);
        assertEquals("server: stopped; requests FIFO removed: true", lines.get(lines.size() - 1), all);
    }

    private static Matcher find(List<String> lines, String regex) {
        Pattern p = Pattern.compile(regex);
        for (String line : lines) {
            Matcher m = p.matcher(line);
            if (m.matches()) {
                return m;
            }
        }
        throw new AssertionError("no line matches " + regex + " in:\n" + String.join("\n", lines));
    }
}
