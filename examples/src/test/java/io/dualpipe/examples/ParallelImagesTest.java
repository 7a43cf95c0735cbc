package io.dualpipe.examples;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ParallelImagesTest {
    @Test
    @Timeout(120)
    void everyWorkersResultMatchesAndEveryWorkerExitsCleanly() throws Exception {
        Capture c = new Capture();
        assertEquals(6, ParallelImages.run(c.out, 3, 6, 64));
        assertEquals(3, c.text().lines().filter(l -> l.matches("  worker pid \\d+: exit 0")).count(), c.text());
    }
}
