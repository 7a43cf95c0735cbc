package io.dualpipe.nats;

import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.process.ChildProcess;
import io.dualpipe.worker.TaskTimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code resultTimeout}: a task no agent answers in time fails typed instead of waiting for ever,
 * stops counting as pending, and its late result (an agent that comes later runs it) is dropped as
 * a duplicate.
 */
class NatsResultTimeoutTest {

    @Test
    @Timeout(120)
    void aTaskNoAgentAnswersFailsTypedAndItsLateResultIsDropped(@TempDir Path dir) throws Exception {
        try (NatsServer nats = NatsServer.start(dir);
             NatsWorkerPool pool = NatsWorkerPool.builder().server(nats.url()).pool("late")
                     .resultTimeout(Duration.ofMillis(300)).maxPending(3).start()) {
            List<CompletableFuture<Object>> fs = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                fs.add(pool.submit(i + 2));
            }
            for (CompletableFuture<Object> f : fs) {
                ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(30, TimeUnit.SECONDS));
                assertInstanceOf(TaskTimeoutException.class, e.getCause());
                assertTrue(e.getCause().getMessage().contains("no result within resultTimeout PT0.3S"), e.getCause().getMessage());
            }
            pool.whenIdle().get(5, TimeUnit.SECONDS); // the timed-out tasks no longer count
            assertTrue(pool.isIdle());
            try (NatsAgent agent = NatsAgent.builder(() -> ChildProcess.builder("python3", Fixtures.script().toString()))
                    .server(nats.url()).pool("late").name("late-agent").workers(1).start()) {
                // the agent runs the 3 stale tasks; their results come to a submitter that no longer
                // waits for them: dropped, and nothing counts as pending again
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (pool.duplicatesDropped() < 3 && System.nanoTime() < deadline) {
                    java.util.concurrent.locks.LockSupport.parkNanos(10_000_000L);
                }
                assertEquals(3, pool.duplicatesDropped());
                assertTrue(pool.isIdle());
            }
        }
    }

    @Test
    void aResultTimeoutThatIsNotPositiveIsRefusedWithItsValue() {
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                () -> NatsWorkerPool.builder().resultTimeout(Duration.ZERO));
        assertTrue(e.getMessage().contains("resultTimeout"), e.getMessage());
        assertThrows(InvalidArgumentException.class, () -> NatsWorkerPool.builder().resultTimeout(Duration.ofSeconds(-1)));
    }
}
