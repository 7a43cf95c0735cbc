package io.dualpipe.examples;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BufferingDeadlockTest {
    @Test
    @Timeout(60)
    void blockBufferedChildrenTimeOutAndEachFixAnswers() throws Exception {
        Capture c = new Capture();
        Map<String, String> r = BufferingDeadlock.run(c.out);
        assertEquals("timeout", r.get("tr"));
        assertEquals("hello", r.get("grep"));
        assertEquals("HELLO", r.get("eof"));
        if (Programs.onPath("python3")) {
            assertEquals("timeout", r.get("python3"));
            assertEquals("HELLO", r.get("python3 -u"));
        }
        if (Programs.onPath("stdbuf")) {
            assertEquals("HELLO", r.get("stdbuf"));
        }
        assertTrue(c.text().contains("still blocked after"), c.text());
    }
}
