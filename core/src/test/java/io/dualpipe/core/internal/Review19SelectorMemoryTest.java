package io.dualpipe.core.internal;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Review 19 of 8b7a083 (EpollSelector allocates its direct buffers before the epoll fd and eventfd,
 * and closes both if the key table's buffer fails): in a JVM with a direct-memory limit, a selector
 * is opened with exactly enough memory left for none, one, two, three or all four of its buffers.
 * Every failure is an OutOfMemoryError that leaves the fd count as it was; with room for all, it opens.
 */
class Review19SelectorMemoryTest {
    private static final long MAX = 1 << 20;

    @Test
    @Timeout(120)
    void aDirectMemoryFailureAtEachAllocationLeaksNoFd() throws Exception {
        int events = 1024 * EpollKeyTable.EVENT_SIZE; // MAX_EVENTS * EVENT_SIZE
        // events, then drainBuffer (8), one (8), then the key table's ctlEvent (16)
        long[] slacks = {0, events - 1, events, events + 7, events + 8, events + 15, events + 16, events + 31, events + 32, events + 4096};
        String[] expected = {"oom", "oom", "oom", "oom", "oom", "oom", "oom", "oom", "ok", "ok"};
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:MaxDirectMemorySize=" + MAX, "-cp", System.getProperty("java.class.path"),
                Review19SelectorMemoryMain.class.getName(), String.valueOf(MAX)));
        for (long s : slacks) {
            cmd.add(String.valueOf(s));
        }
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        List<String> lines = out.lines().filter(l -> l.startsWith("R19 ")).toList();
        assertEquals(slacks.length, lines.size(), out);
        for (int i = 0; i < slacks.length; i++) {
            String[] f = lines.get(i).split(" ");
            assertEquals(String.valueOf(slacks[i]), f[1]);
            assertEquals(expected[i], f[2], "slack " + slacks[i] + ": " + out);
            assertEquals(f[3], f[4], "fds before and after a selector with " + slacks[i] + " bytes of direct memory left: " + out);
        }
    }
}
