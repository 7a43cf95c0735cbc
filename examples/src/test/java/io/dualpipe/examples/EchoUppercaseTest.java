package io.dualpipe.examples;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EchoUppercaseTest {
    @Test
    @Timeout(60)
    void javaAndPythonChildrenAnswerInUpperCase() {
        Capture c = new Capture();
        List<String> replies = EchoUppercase.run(c.out);
        List<String> expected = List.of("HELLO, WORLD!", "TESTING DUALPIPE");
        assertEquals(expected, replies.subList(0, 2));
        if (Programs.onPath("python3")) {
            assertEquals(expected, replies.subList(2, 4));
        }
        assertEquals(Programs.onPath("python3") ? 2 : 1,
                c.text().lines().filter(l -> l.matches("  Closed: pid \\d+, exit 0")).count(), c.text());
        assertTrue(c.text().contains("Response 1: HELLO, WORLD!"), c.text());
    }
}
