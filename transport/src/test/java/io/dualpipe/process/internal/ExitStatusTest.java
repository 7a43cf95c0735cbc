package io.dualpipe.process.internal;

import io.dualpipe.core.DualPipeException;
import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.process.ExitStatus;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Decoding of raw wait statuses (the Linux/macOS encoding) and the value semantics. */
class ExitStatusTest {

    @Test
    void decodesExitCodes() {
        for (int code : new int[] {0, 1, 42, 255}) {
            ExitStatus s = ExitStatus.fromWaitStatus(code << 8);
            assertTrue(s.exited());
            assertFalse(s.signaled());
            assertEquals(code, s.exitCode());
            assertFalse(s.coreDumped());
            assertEquals(code == 0, s.isSuccess());
            assertEquals("exit " + code, s.toString());
            assertSame(ExitStatus.ofExitCode(code), s);
        }
    }

    @Test
    void decodesSignals() {
        ExitStatus kill = ExitStatus.fromWaitStatus(9);
        assertTrue(kill.signaled());
        assertFalse(kill.exited());
        assertEquals(9, kill.signal());
        assertFalse(kill.coreDumped());
        assertFalse(kill.isSuccess());
        assertEquals("signal 9 (SIGKILL)", kill.toString());

        ExitStatus segv = ExitStatus.fromWaitStatus(0x80 | 11);
        assertEquals(11, segv.signal());
        assertTrue(segv.coreDumped());
        assertEquals("signal 11 (SIGSEGV), core dumped", segv.toString());

        assertEquals("signal 6 (SIGABRT)", ExitStatus.fromWaitStatus(6).toString());
        assertEquals("signal 15 (SIGTERM)", ExitStatus.fromWaitStatus(15).toString());
        assertEquals("signal 100", ExitStatus.ofSignal(100, false).toString());
    }

    @Test
    void stoppedOrContinuedIsNotAnEnding() {
        assertThrows(InvalidArgumentException.class, () -> ExitStatus.fromWaitStatus((19 << 8) | 0x7f));
        assertThrows(InvalidArgumentException.class, () -> ExitStatus.fromWaitStatus(0xffff));
    }

    @Test
    void askingForTheWrongHalfIsATypedError() {
        DualPipeException e = assertThrows(DualPipeException.class, () -> ExitStatus.fromWaitStatus(9).exitCode());
        assertTrue(e.getMessage().contains("signal 9 (SIGKILL)"), e.getMessage());
        assertThrows(DualPipeException.class, () -> ExitStatus.ofExitCode(0).signal());
    }

    @Test
    void factoriesCheckRanges() {
        assertEquals("exit code not in 0..255: 256",
                assertThrows(InvalidArgumentException.class, () -> ExitStatus.ofExitCode(256)).getMessage());
        assertThrows(InvalidArgumentException.class, () -> ExitStatus.ofExitCode(-1));
        assertThrows(InvalidArgumentException.class, () -> ExitStatus.ofSignal(0, false));
        assertThrows(InvalidArgumentException.class, () -> ExitStatus.ofSignal(128, false));
    }

    @Test
    void valueSemantics() {
        assertEquals(ExitStatus.ofSignal(15, false), ExitStatus.fromWaitStatus(15));
        assertEquals(ExitStatus.ofSignal(15, false).hashCode(), ExitStatus.fromWaitStatus(15).hashCode());
        assertNotEquals(ExitStatus.ofSignal(11, true), ExitStatus.ofSignal(11, false));
        assertNotEquals(ExitStatus.ofExitCode(9), ExitStatus.ofSignal(9, false));
        assertNotEquals(ExitStatus.ofExitCode(9).hashCode(), ExitStatus.ofSignal(9, false).hashCode());
        assertEquals(ExitStatus.ofExitCode(3), ExitStatus.fromWaitStatus(3 << 8));
    }
}
