package io.dualpipe.examples;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MessageServerExampleTest {
    @Test
    @Timeout(60)
    void serverHearsEachChildByPidSurvivesABadBodyAndAnswers() throws Exception {
        Capture c = new Capture();
        List<String> lines = MessageServerExample.run(c.out, 2);
        assertEquals("server: listening on run.sock (mode 0600)", lines.get(0), c.text());
        for (int i = 1; i <= 2; i++) {
            int pid = pidOf(lines, i);
            // The server's lines for one connection come in the order the child sent them.
            int json = indexOf(lines, "server: json from pid " + pid + ": {hello=world, child=" + i + "}");
            int s = indexOf(lines, "server: 'S' from pid " + pid + ": Hello World");
            int bad = indexOf(lines, "server: DecodeException from pid " + pid
                    + ", carrying on: cannot decode byte(s) 'g': not in the table");
            int request = indexOf(lines, "server: request from pid " + pid + ": {op=sum, values=[" + i
                    + ", 10, 100]}, replying sum=" + (i + 110));
            assertTrue(json < s && s < bad && bad < request, c.text());
            // What the child itself printed, relayed by the parent.
            indexOf(lines, "child " + i + ": EncodeException here: cannot encode string 'Good night': not in the table");
            indexOf(lines, "child " + i + ": request {op=sum, values=[" + i + ", 10, 100]} -> reply {sum=" + (i + 110) + "}");
            indexOf(lines, "child " + i + " exited: exit 0");
        }
        assertEquals("server closed; socket file removed: true", lines.get(lines.size() - 1), c.text());
        assertEquals(1 + 2 + 2 * 4 + 2 * 3 + 1, lines.size(), c.text());
    }

    private static int pidOf(List<String> lines, int child) {
        Pattern p = Pattern.compile("started child " + child + ": pid (\\d+)");
        for (String line : lines) {
            Matcher m = p.matcher(line);
            if (m.matches()) {
                return Integer.parseInt(m.group(1));
            }
        }
        throw new AssertionError("no pid for child " + child + " in " + lines);
    }

    private static int indexOf(List<String> lines, String line) {
        int i = lines.indexOf(line);
        assertTrue(i >= 0, "missing: " + line + "\nin:\n" + String.join("\n", lines));
        return i;
    }
}
