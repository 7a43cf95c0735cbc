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
    }
}
