package io.dualpipe.core.internal;

import io.dualpipe.core.TestSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.SortedMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * A loop whose thread cannot start (the JVM throws OutOfMemoryError "unable to create native thread"
 * when the system is out of threads) gives its selector's fds back before the error propagates.
 */
class LoopStartFailureTest {

    @Test
    @Timeout(30)
    void aLoopWhoseThreadCannotStartLeaksNoFd() {
        SortedMap<Integer, String> before = TestSupport.fdSnapshot();
        for (int i = 0; i < 50; i++) {
            Thread[] seen = new Thread[1];
            OutOfMemoryError e = assertThrows(OutOfMemoryError.class, () -> new SingleThreadEventLoop("no-thread", true,
                    t -> {
                        seen[0] = t;
                        throw new OutOfMemoryError("unable to create native thread: possibly out of memory (test)");
                    }));
            assertEquals(0, e.getSuppressed().length, "closing the selector failed: " + java.util.Arrays.toString(e.getSuppressed()));
            assertFalse(seen[0].isAlive());
        }
        TestSupport.assertFdsBackTo(before);
    }
}
