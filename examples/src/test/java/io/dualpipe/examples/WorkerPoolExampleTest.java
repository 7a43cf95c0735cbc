package io.dualpipe.examples;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class WorkerPoolExampleTest {
    @Test
    @Timeout(60)
    void countsPrimesInWorkersThenStopsThem() throws Exception {
        List<String> lines = WorkerPoolExample.run(new Capture().out, 2, List.of(10, 100, 1_000));
        assertEquals("primes below 10: 4", lines.get(1));
        assertEquals("primes below 100: 25", lines.get(2));
        assertEquals("primes below 1000: 168", lines.get(3));
        assertEquals("poison pill sent; exits: [exit 0, exit 0]", lines.get(4));
    }
}
