package io.dualpipe.examples;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ParallelImagesTest {
    @Test
    @Timeout(120)
    void everyWorkersResultMatchesAndEveryWorkerExitsCleanly() throws Exception {
        Capture c = new Capture();
        assertEquals(12, ParallelImages.run(c.out, 3, 12, 256)); // 64 KiB frames: more than a pipe holds in flight
        assertEquals(3, c.text().lines().filter(l -> l.matches("  worker pid \\d+: exit 0")).count(), c.text());
    }
}
