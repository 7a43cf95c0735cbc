package io.dualpipe.examples;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SandboxTest {
    @Test
    @Timeout(60)
    void snippetsRunConfinedAndAreStoppedOnOverrun() throws Exception {
        Capture c = new Capture();
        List<Sandbox.Outcome> o = Sandbox.run(c.out);
        Sandbox.Outcome ok = o.get(0);
        assertEquals("exit 0", ok.status());
        assertTrue(ok.output().contains("hello from /"), ok.output());
        assertTrue(ok.output().contains("PATH"), ok.output());
        assertFalse(ok.output().contains("HOME"), ok.output()); // the environment was cleared
        assertTrue(o.get(1).stopped());
        assertTrue(o.get(2).stopped());
        assertEquals(Sandbox.OUTPUT_LIMIT, o.get(2).output().length());
        assertEquals("exit 3", o.get(3).status());
        assertTrue(c.text().contains("is gone too"), c.text());

        Sandbox.Outcome forks = o.get(4);
        assertFalse(forks.stopped(), "the process limit stopped it, not the time limit: " + c.text());
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("started (\\d+) of " + Sandbox.FORKS).matcher(forks.output());
        assertTrue(m.find(), forks.output());
        assertTrue(Integer.parseInt(m.group(1)) < Sandbox.MAX_PROCESSES, forks.output());
        Sandbox.Outcome hog = o.get(5);
        assertFalse(hog.stopped(), "the address-space limit stopped it, not the time limit: " + c.text());
        assertEquals("exit 1", hog.status());
        assertTrue(hog.output().contains("MemoryError"), hog.output());
        assertEquals(2, c.text().split("processes left in its group: 0", -1).length - 1, c.text());
    }
}
