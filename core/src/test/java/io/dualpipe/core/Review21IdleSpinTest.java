package io.dualpipe.core;

import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Review 21, adversarial: loops with an idle spin (dc06e0a). Timers that fall due during a spin, the
 * CPU an idle spinning loop burns, the spin on one CPU, and blocking callers against a spinning loop.
 */
class Review21IdleSpinTest {

    /** The smallest lateness of {@code trials} timers of {@code delayMs}, each scheduled on the loop thread. */
    private static long minLatenessMicros(EventLoop loop, int delayMs, int trials) throws Exception {
        long min = Long.MAX_VALUE;
        for (int i = 0; i < trials; i++) {
            CompletableFuture<Long> late = new CompletableFuture<>();
            loop.execute(() -> {
                long due = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(delayMs);
                loop.schedule(() -> late.complete(System.nanoTime() - due), delayMs, TimeUnit.MILLISECONDS);
            });
            min = Math.min(min, late.get(5, TimeUnit.SECONDS));
        }
        return TimeUnit.NANOSECONDS.toMicros(min);
    }

    /** Control for the defect below: without a spin, a 10 ms timer fires within ~1 ms of its due time. */
    @Test
    @Timeout(30)
    void aTimerOfANonSpinningLoopFiresAboutOnTime() throws Exception {
        try (EventLoop loop = EventLoop.create("r21-nospin-timer", Duration.ZERO)) {
            long late = minLatenessMicros(loop, 10, 10);
            assertTrue(late < 4_000, "best of 10 timers of 10 ms fired " + late + " us late");
        }
    }

    /**
     * The run loop computes the select timeout before the spin, spins for up to that long (cut to the
     * next timer), then blocks for the full timeout computed before the spin: a timer due during
     * the spin fires up to one spin late (10 ms on a 10 ms timer: twice its delay). Request timeouts,
     * kill graces and deadlines are all such timers.
     */
    @Test
    @Timeout(30)
    @Disabled("DEFECT: a timer due during an idle spin fires late by the spin's length: the select after the spin uses the timeout computed before it")
    void DEFECT_aTimerDueDuringTheSpinFiresLateByTheSpin() throws Exception {
        try (EventLoop loop = EventLoop.create("r21-spin-timer", Duration.ofMillis(10))) {
            long late = minLatenessMicros(loop, 10, 10);
            assertTrue(late < 4_000, "best of 10 timers of 10 ms on a loop spinning 10 ms fired " + late + " us late");
        }
    }

    /** A 1 ms timer chain: without the spin's lateness, 100 links take ~100 ms, not ~200 ms. */
    @Test
    @Timeout(30)
    @Disabled("DEFECT: a chain of 1 ms timers on a spinning loop runs at half speed (each timer fires one spin late)")
    void DEFECT_aChainOfShortTimersRunsAtHalfSpeedWhileSpinning() throws Exception {
        try (EventLoop loop = EventLoop.create("r21-spin-chain", Duration.ofMillis(10))) {
            long tookMs = chainMillis(loop, 100);
            assertTrue(tookMs < 170, "100 timers of 1 ms one after another took " + tookMs + " ms");
        }
    }

    @Test
    @Timeout(30)
    void controlAChainOfShortTimersWithoutSpin() throws Exception {
        try (EventLoop loop = EventLoop.create("r21-nospin-chain", Duration.ZERO)) {
            long tookMs = chainMillis(loop, 100);
            assertTrue(tookMs < 170, "100 timers of 1 ms one after another took " + tookMs + " ms");
        }
    }

    private static long chainMillis(EventLoop loop, int links) throws Exception {
        CompletableFuture<Long> done = new CompletableFuture<>();
        AtomicInteger left = new AtomicInteger(links);
        long start = System.nanoTime();
        Runnable[] link = new Runnable[1];
        link[0] = () -> {
            if (left.decrementAndGet() == 0) {
                done.complete(System.nanoTime() - start);
            } else {
                loop.schedule(link[0], 1, TimeUnit.MILLISECONDS);
            }
        };
        loop.execute(() -> loop.schedule(link[0], 1, TimeUnit.MILLISECONDS));
        return TimeUnit.NANOSECONDS.toMillis(done.get(10, TimeUnit.SECONDS));
    }

    private static long loopThreadId(EventLoop loop) throws Exception {
        CompletableFuture<Long> id = new CompletableFuture<>();
        loop.execute(() -> id.complete(Thread.currentThread().getId()));
        return id.get(5, TimeUnit.SECONDS);
    }

    /** After its spin an idle loop sleeps in epoll: over one idle second its thread uses next to no CPU. */
    @Test
    @Timeout(30)
    void anIdleSpinningLoopSleepsAfterItsSpin() throws Exception {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        for (Duration spin : new Duration[] {Duration.ofNanos(50_000), Duration.ofMillis(10)}) {
            try (EventLoop loop = EventLoop.create("r21-spin-idle", spin)) {
                long tid = loopThreadId(loop); // woken once: it spins once, then sleeps
                long cpu0 = mx.getThreadCpuTime(tid);
                long wall0 = System.nanoTime();
                new CountDownLatch(1).await(1, TimeUnit.SECONDS); // the measured idle second; nothing to wait for
                long cpuMs = TimeUnit.NANOSECONDS.toMillis(mx.getThreadCpuTime(tid) - cpu0);
                long wallMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - wall0);
                assertTrue(cpuMs < 50, "spin " + spin + ": the idle loop used " + cpuMs + " ms of CPU in " + wallMs + " ms");
            }
        }
    }

    /** Same with a far timer pending: the spin is bounded by the spin, not by the timer's delay. */
    @Test
    @Timeout(30)
    void anIdleSpinningLoopWithAFarTimerSleepsToo() throws Exception {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        try (EventLoop loop = EventLoop.create("r21-spin-far", Duration.ofMillis(10))) {
            long tid = loopThreadId(loop);
            io.dualpipe.core.Timeout far = loop.schedule(() -> { }, 1, TimeUnit.HOURS);
            long cpu0 = mx.getThreadCpuTime(tid);
            new CountDownLatch(1).await(1, TimeUnit.SECONDS);
            long cpuMs = TimeUnit.NANOSECONDS.toMillis(mx.getThreadCpuTime(tid) - cpu0);
            far.cancel();
            assertTrue(cpuMs < 50, "the idle loop with a timer an hour out used " + cpuMs + " ms of CPU in 1 s");
        }
    }

    /**
     * A child JVM with one processor: the spin must be off. Its loop, woken by a chain of 1 ms timers
     * for ~300 ms, uses little CPU; the same probe with two processors (the control) burns a large
     * share of it spinning before each timer.
     */
    @Test
    @Timeout(120)
    void withOneProcessorTheSpinIsOff() throws Exception {
        double one = probeCpuShare(1);
        double two = probeCpuShare(2);
        assertTrue(two > 0.25, "control: with 2 CPUs the spinning loop used only " + two + " of its wall time");
        assertTrue(one < 0.15, "with 1 CPU the loop used " + one + " of its wall time (spin should be off)");
    }

    private static double probeCpuShare(int cpus) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:ActiveProcessorCount=" + cpus, "-XX:TieredStopAtLevel=1"));
        if (Runtime.version().feature() >= 22) {
            cmd.add("--enable-native-access=ALL-UNNAMED");
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Probe.class.getName()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), out);
        assertEquals(0, p.exitValue(), out);
        String line = out.lines().filter(l -> l.startsWith("R21 ")).findFirst().orElseThrow(() -> new AssertionError(out));
        String[] f = line.split(" ");
        assertEquals(String.valueOf(cpus), f[1], line);
        return Double.parseDouble(f[2]);
    }

    /** Child JVM: a loop spinning 10 ms, woken by 1 ms timers; prints "R21 cpus cpuShare". */
    public static final class Probe {
        public static void main(String[] args) throws Exception {
            ThreadMXBean mx = ManagementFactory.getThreadMXBean();
            try (EventLoop loop = EventLoop.create("r21-probe", Duration.ofMillis(10))) {
                long tid = loopThreadId(loop);
                chainMillis(loop, 20); // warm-up
                long cpu0 = mx.getThreadCpuTime(tid);
                long wall0 = System.nanoTime();
                chainMillis(loop, 150);
                long cpu = mx.getThreadCpuTime(tid) - cpu0;
                long wall = System.nanoTime() - wall0;
                System.out.println("R21 " + Runtime.getRuntime().availableProcessors() + " " + ((double) cpu / wall));
            }
        }
    }

    /** A loop task blocking on an incomplete future still fails fast on a spinning loop, and the loop goes on. */
    @Test
    @Timeout(30)
    void blockingOnTheSpinningLoopFailsFast() throws Exception {
        try (EventLoop loop = EventLoop.create("r21-spin-block", Duration.ofMillis(10))) {
            CompletableFuture<Throwable> got = new CompletableFuture<>();
            loop.execute(() -> {
                LoopFuture<String> never = loop.newFuture();
                try {
                    never.get();
                    got.complete(null);
                } catch (Throwable t) {
                    got.complete(t);
                }
            });
            assertTrue(got.get(5, TimeUnit.SECONDS) instanceof BlockingOnLoopException, String.valueOf(got.get()));
            // And a caller off the loop, blocked (spinning, then parked) on a future the loop completes, is released.
            for (int i = 0; i < 500; i++) {
                LoopFuture<Integer> f = loop.newFuture();
                int n = i;
                loop.execute(() -> f.complete(n));
                assertEquals(n, f.get(5, TimeUnit.SECONDS));
            }
        }
    }

    /**
     * Hand-overs that land right as a spin ends: a producer that parks for a random few tens of
     * microseconds between tasks hits the spin, the switch to "asleep" and the sleep in turn. Every
     * task must run, each within a bound.
     */
    @Test
    @Timeout(60)
    void tasksHandedOverAroundTheSpinsEndAllRunPromptly() throws Exception {
        try (EventLoop loop = EventLoop.create("r21-spin-edge", Duration.ofNanos(30_000))) {
            java.util.Random r = new java.util.Random(21);
            long worst = 0;
            for (int i = 0; i < 3_000; i++) {
                java.util.concurrent.locks.LockSupport.parkNanos(r.nextInt(60_000)); // pacing, not synchronisation
                CompletableFuture<Long> ran = new CompletableFuture<>();
                long t0 = System.nanoTime();
                loop.execute(() -> ran.complete(System.nanoTime() - t0));
                worst = Math.max(worst, ran.get(5, TimeUnit.SECONDS));
            }
            assertTrue(worst < TimeUnit.SECONDS.toNanos(1), "worst hand-over " + worst + " ns");
        }
    }

    /** A channel closed off the loop while it spins is deregistered by the spin's selectNow; its fd is freed. */
    @Test
    @Timeout(30)
    void aChannelClosedOffTheLoopWhileItSpinsIsReleased() throws Exception {
        try (EventLoop loop = EventLoop.create("r21-spin-close-ch", Duration.ofMillis(10))) {
            loopThreadId(loop);
            java.util.SortedMap<Integer, String> before = TestSupport.fdSnapshot();
            for (int i = 0; i < 200; i++) {
                FdChannel[] p = FdChannel.pipe();
                loop.register(p[0], java.nio.channels.SelectionKey.OP_READ, new IoHandler() {
                    @Override
                    public void ready(int readyOps) {
                    }

                    @Override
                    public void loopClosed(LoopClosedException cause) {
                    }
                }).get(5, TimeUnit.SECONDS);
                p[0].close(); // off the loop, while it spins (it just ran the registration)
                p[1].close();
            }
            TestSupport.await("the closed channels' fds freed by the spinning loop", Duration.ofSeconds(10),
                    () -> TestSupport.fdSnapshot().equals(before));
        }
    }

    @Test
    @Timeout(10)
    void theLongestSpinIsTenMilliseconds() {
        EventLoop.create("r21-spin-max", Duration.ofMillis(10)).close();
        assertThrows(InvalidArgumentException.class, () -> EventLoop.create("r21-spin-max2", Duration.ofMillis(10).plusNanos(1)));
    }
}
