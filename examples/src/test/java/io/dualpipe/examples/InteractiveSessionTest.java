package io.dualpipe.examples;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class InteractiveSessionTest {
    @Test
    @Timeout(60)
    void bcKeepsStateAndEachCommandFollowsTheLastReply() {
        assumeTrue(Programs.onPath("bc"), "bc is not installed");
        Capture c = new Capture();
        assertEquals(List.of("6", "3", "10", "5", "16", "8", "4", "2", "1", "8"), InteractiveSession.run(c.out, 6));
        assertTrue(c.text().matches("(?s).*bc exited: pid \\d+, exit 0.*"), c.text());
    }
}
