package io.dualpipe.review11;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.FdChannel;
import io.dualpipe.process.ChildProcess;
import io.dualpipe.process.ExitStatus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * review11: the jffi bindings (Native, LibC, CFunction, Posix, PosixLib) and the LazyLoggers are
 * initialised at first use; here eight threads of a fresh JVM make that first use at once, through
 * different doors (a pipe, a loop, a spawn). No deadlock of class initialisation, no failure, and
 * every spawn's exit status is right.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ConcurrentFirstUseTest {

    public static final class Main {
        public static void main(String[] args) throws Exception {
            int n = 8;
            CyclicBarrier barrier = new CyclicBarrier(n);
            List<String> results = Collections.synchronizedList(new ArrayList<>());
            List<Thread> threads = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int kind = i % 3;
                Thread t = new Thread(() -> {
                    try {
                        barrier.await();
                        if (kind == 0) {
                            FdChannel[] p = FdChannel.pipe();
                            p[0].close();
                            p[1].close();
                        } else if (kind == 1) {
                            try (EventLoop loop = EventLoop.create("first-use")) {
                                java.util.concurrent.CountDownLatch ran = new java.util.concurrent.CountDownLatch(1);
                                loop.execute(ran::countDown);
                                if (!ran.await(20, TimeUnit.SECONDS)) {
                                    throw new AssertionError("loop task did not run");
                                }
                            }
                        } else {
                            try (ChildProcess c = ChildProcess.builder("sh", "-c", "exit 7").start()) {
                                ExitStatus s = c.onExit().get(20, TimeUnit.SECONDS);
                                if (!s.equals(ExitStatus.ofExitCode(7))) {
                                    throw new AssertionError("status " + s);
                                }
                            }
                        }
                        results.add("ok");
                    } catch (Throwable e) {
                        results.add(e.toString());
                    }
                });
                threads.add(t);
                t.start();
            }
            for (Thread t : threads) {
                t.join(60_000);
            }
            for (String r : results) {
                System.out.println(r);
            }
            System.exit(0);
        }
    }

    @Test
    void eightThreadsMakingTheFirstCallsAtOnceAllSucceed() throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        for (int round = 0; round < 3; round++) {
            Process p = new ProcessBuilder(java.toString(), "-cp", System.getProperty("java.class.path"), Main.class.getName())
                    .redirectError(ProcessBuilder.Redirect.DISCARD).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
            try {
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                if (!p.waitFor(60, TimeUnit.SECONDS)) {
                    throw new AssertionError("child JVM hung (class initialisation deadlock?)");
                }
                assertEquals(Collections.nCopies(8, "ok"), out.lines().toList(), out);
            } finally {
                p.destroyForcibly();
            }
        }
    }
}
