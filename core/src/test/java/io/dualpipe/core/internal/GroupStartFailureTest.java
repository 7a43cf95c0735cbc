package io.dualpipe.core.internal;

import io.dualpipe.core.TestSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.SortedMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * A group whose third loop cannot start its thread (OutOfMemoryError "unable to create native
 * thread") stops the two it started before the error reaches the caller: nobody could ever close them.
 */
class GroupStartFailureTest {

    @Test
    @Timeout(30)
    void theLoopsStartedBeforeAFailureAreClosed() {
        SortedMap<Integer, String> before = TestSupport.fdSnapshot();
        for (int round = 0; round < 10; round++) {
            OutOfMemoryError e = assertThrows(OutOfMemoryError.class, () -> new MultiThreadEventLoopGroup(4, "gsf",
                    i -> new SingleThreadEventLoop("gsf-" + i, false, "gsf", i < 2 ? Thread::start : t -> {
                        throw new OutOfMemoryError("unable to create native thread: possibly out of memory (test)");
                    })));
            assertEquals("unable to create native thread: possibly out of memory (test)", e.getMessage());
            for (int i = 0; i < 4; i++) {
                assertFalse(TestSupport.threadAlive("gsf-" + i), "gsf-" + i + " left running");
            }
        }
        TestSupport.assertFdsBackTo(before);
    }
}
