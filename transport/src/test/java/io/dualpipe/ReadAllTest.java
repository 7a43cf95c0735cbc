package io.dualpipe;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.ReadLimitExceededException;
import io.dualpipe.process.ChildProcess;
import io.dualpipe.process.ExitStatus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** {@link io.dualpipe.core.ByteSource#readAll(int)} on real children's stdout. */
class ReadAllTest {
    private static final long STEP = 10;

    @Test
    @Timeout(30)
    void fiveMebibytesThroughCatExactly() throws Exception {
        try (EventLoop loop = EventLoop.create("readall-cat")) {
            ChildProcess cat = ChildProcess.builder("cat").loop(loop).start();
            try {
                byte[] data = new byte[5 * 1024 * 1024];
                new Random(7).nextBytes(data);
                var all = cat.stdout().readAll(6 * 1024 * 1024); // asked for before the bytes come
                cat.stdin().write(data);
                cat.stdin().shutdownOutput();
                assertArrayEquals(data, all.get(STEP, TimeUnit.SECONDS));
                assertEquals(ExitStatus.ofExitCode(0), cat.onExit().get(STEP, TimeUnit.SECONDS));
            } finally {
                cat.close();
            }
        }
    }

    @Test
    @Timeout(30)
    void outputOfAShellCommand() throws Exception {
        try (EventLoop loop = EventLoop.create("readall-sh")) {
            ChildProcess sh = ChildProcess.builder("sh", "-c", "printf 'one\\ntwo\\n'; printf three").loop(loop).start();
            try {
                assertEquals("one\ntwo\nthree", new String(sh.stdout().readAll(1024).get(STEP, TimeUnit.SECONDS)));
                assertTrue(sh.onExit().get(STEP, TimeUnit.SECONDS).isSuccess());
            } finally {
                sh.close();
            }
        }
    }

    @Test
    @Timeout(30)
    void emptyOutput() throws Exception {
        try (EventLoop loop = EventLoop.create("readall-true")) {
            ChildProcess t = ChildProcess.builder("true").loop(loop).start();
            try {
                assertEquals(0, t.stdout().readAll(1).get(STEP, TimeUnit.SECONDS).length);
                assertTrue(t.onExit().get(STEP, TimeUnit.SECONDS).isSuccess());
            } finally {
                t.close();
            }
        }
    }

    @Test
    @Timeout(30)
    void overTheLimitIsATypedErrorAndTheChildIsStillReapedAndItsPipesClosed() throws Exception {
        try (EventLoop loop = EventLoop.create("readall-limit")) {
            Leaks.Baseline before = Leaks.baseline();
            // 10 MB: far more than the limit, the pipe and the loop's buffer; the child blocks writing.
            ChildProcess yes = ChildProcess.builder("sh", "-c", "head -c 10000000 /dev/zero").loop(loop).start();
            int pid = yes.pid();
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> yes.stdout().readAll(100_000).get(STEP, TimeUnit.SECONDS));
            ReadLimitExceededException tooMuch = assertInstanceOf(ReadLimitExceededException.class, e.getCause());
            assertEquals(100_000, tooMuch.limit());
            assertTrue(tooMuch.getMessage().contains("more than maxBytes 100000 bytes"), tooMuch.getMessage());
            assertTrue(yes.isAlive(), "reading stopped, so the child is held back, not drained");
            yes.close(); // kills it: it would never finish its output
            ExitStatus status = yes.onExit().get(STEP, TimeUnit.SECONDS);
            assertFalse(status.isSuccess(), status.toString());
            await("pid " + pid + " reaped", () -> !Files.exists(Path.of("/proc/" + pid)));
            Leaks.awaitNoFdsBeyond(before);
        }
    }

    private static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(STEP);
        long pause = 100_000;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                fail("not within " + STEP + " s: " + what);
            }
            LockSupport.parkNanos(pause);
            pause = Math.min(pause * 2, 20_000_000);
        }
    }
}
