package io.dualpipe.examples;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ServiceWorkerTest {
    @Test
    @Timeout(60)
    void oneWorkerServesTheQueueThenStopsOnThePoisonPill() throws Exception {
        List<String> r = ServiceWorker.run(new Capture().out, List.of("12", "x", "7"));
        String pid = r.get(3).replaceAll("worker pid (\\d+), exit 0", "$1");
        assertTrue(pid.matches("\\d+"), r.get(3));
        assertEquals("12 = 2 * 2 * 3 (worker pid " + pid + ")", r.get(0));
        assertEquals("error: not a number: x", r.get(1)); // a bad task does not kill the worker
        assertEquals("7 = 7 (worker pid " + pid + ")", r.get(2));
    }
}
