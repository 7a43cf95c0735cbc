package io.dualpipe.process;

import io.dualpipe.core.InvalidArgumentException;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** A bad command gets a typed error naming what is wrong, from either builder factory. */
class ChildProcessBuilderArgsTest {

    @Test
    void aNullElementIsNamedByItsIndex() {
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> ChildProcess.builder("cat", null));
        assertEquals("command[1] is null", e.getMessage());
        e = assertThrows(InvalidArgumentException.class, () -> ChildProcess.builder(Arrays.asList(null, "x")));
        assertEquals("command[0] is null", e.getMessage());
    }

    @Test
    void aNullOrEmptyCommandIsRefused() {
        assertThrows(InvalidArgumentException.class, () -> ChildProcess.builder((String[]) null));
        assertThrows(InvalidArgumentException.class, () -> ChildProcess.builder((List<String>) null));
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> ChildProcess.builder());
        assertEquals("command is empty: give at least the program", e.getMessage());
    }

    @Test
    void theBuilderKeepsItsOwnCopy() {
        String[] argv = {"cat", "-u"};
        ChildProcessBuilder b = ChildProcess.builder(argv);
        argv[1] = "-n";
        assertEquals(List.of("cat", "-u"), b.command());
    }
}
