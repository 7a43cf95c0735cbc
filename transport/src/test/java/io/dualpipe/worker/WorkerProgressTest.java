package io.dualpipe.worker;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.process.ExitStatus;
import io.dualpipe.process.JavaChild;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A worker that sends progress ({@link Worker#send}) before it finishes each task, with many tasks
 * in flight. The pool's channel used to stop reading when a chunk held the worker's one-way
 * progress and the tasks it had queued were over its high water mark; the worker, blocked writing
 * progress into the full pipe, never read another task, so no task ever finished (0 of 400 with 64
 * in flight; all of them with 1).
 */
class WorkerProgressTest {
    private static final int TASKS = 400;
    private static final int TASK_SIZE = 4 * 1024;

    @Test
    @Timeout(120)
    void progressBeforeEachResultWithManyTasksInFlightFinishesEveryTask() throws Exception {
        try (EventLoop loop = EventLoop.create("progress-pool")) {
            AtomicInteger progress = new AtomicInteger();
            WorkerPool pool = WorkerPool.builder(() -> JavaChild.builder(ProgressWorker.class))
                    .workers(1).maxInFlightPerWorker(64).loop(loop)
                    .onMessage(e -> {
                        if (e.is("PROGRESS")) {
                            progress.incrementAndGet();
                        }
                    })
                    .start();
            try {
                List<LoopFuture<Object>> results = new ArrayList<>(TASKS);
                for (int i = 0; i < TASKS; i++) {
                    results.add(pool.submit(String.valueOf(i % 10).repeat(TASK_SIZE + i)));
                }
                int finished = 0;
                for (int i = 0; i < TASKS; i++) {
                    assertEquals(TASK_SIZE + i, ((Number) results.get(i).get(60, TimeUnit.SECONDS)).intValue(), "task " + i);
                    finished++;
                }
                assertEquals(TASKS, finished);
                // the progress envelopes came on the same pipe, each before its task's result
                assertEquals(TASKS, progress.get());
            } finally {
                List<ExitStatus> statuses = pool.shutdown().get(30, TimeUnit.SECONDS);
                statuses.forEach(s -> assertEquals(ExitStatus.ofExitCode(0), s));
            }
        }
    }
}
