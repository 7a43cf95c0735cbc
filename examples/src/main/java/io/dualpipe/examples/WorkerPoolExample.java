package io.dualpipe.examples;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.process.JavaChild;
import io.dualpipe.worker.Worker;
import io.dualpipe.worker.WorkerPool;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * pymulproc's pattern in Java: a parent runs N worker children, sends them tasks (DO), collects
 * results (FINISHED), waits until all work is done, and stops them with the poison pill (DIE).
 *
 * <pre>mvn -q -pl examples -am -DskipTests package exec:exec -Dmain=io.dualpipe.examples.WorkerPoolExample</pre>
 */
public final class WorkerPoolExample {

    /** The worker child: counts the primes below its task's number. */
    public static final class PrimeCounter {
        public static void main(String[] args) {
            Worker.run((data, worker) -> {
                int n = ((Number) data).intValue();
                int count = 0;
                for (int i = 2; i < n; i++) {
                    boolean prime = true;
                    for (int d = 2; (long) d * d <= i; d++) {
                        if (i % d == 0) {
                            prime = false;
                            break;
                        }
                    }
                    if (prime) {
                        count++;
                    }
                }
                return count;
            });
        }
    }

    public static void main(String[] args) throws Exception {
        run(System.out, 3, List.of(10, 100, 1_000, 10_000, 100_000, 200_000));
    }

    /** Runs the pool and returns the lines it printed, for the test. */
    static List<String> run(PrintStream out, int workers, List<Integer> tasks) throws Exception {
        List<String> lines = new ArrayList<>();
        try (EventLoop loop = EventLoop.create("pool")) {
            WorkerPool pool = WorkerPool.builder(() -> JavaChild.builder(PrimeCounter.class)).workers(workers).loop(loop).start();
            say(out, lines, "started " + workers + " workers: pids " + pool.workerPids());
            List<LoopFuture<Object>> results = new ArrayList<>();
            for (int n : tasks) {
                results.add(pool.submit(n)); // DO, to the least busy worker
            }
            pool.whenIdle().get(60, TimeUnit.SECONDS); // pymulproc's queue_join
            for (int i = 0; i < tasks.size(); i++) {
                say(out, lines, "primes below " + tasks.get(i) + ": " + results.get(i).get());
            }
            say(out, lines, "poison pill sent; exits: " + pool.shutdown().get(30, TimeUnit.SECONDS));
        }
        return lines;
    }

    private static void say(PrintStream out, List<String> lines, String line) {
        out.println(line);
        lines.add(line);
    }
}
