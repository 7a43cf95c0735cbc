package io.dualpipe.examples;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TourTest {
    @Test
    @Timeout(60)
    void conversesAndSeesTheChildExit() {
        Capture c = new Capture();
        List<String> seen = Tour.run(c.out);
        assertEquals(List.of("4 words, 4 in total", "2 words, 6 in total", "3 words, 9 in total"), seen.subList(0, 3));
        assertTrue(seen.get(3).matches("pid \\d+, exit 0"), seen.get(3));
        assertTrue(c.text().contains("  > the quick brown fox   < 4 words, 4 in total"), c.text());
    }
}
