package io.dualpipe.examples;

import io.dualpipe.DualPipe;
import io.dualpipe.process.ChildSide;

import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Service communication: one long-running worker child (same pid for every task) fed from a queue.
 * The application puts tasks on a {@link BlockingQueue}; a dispatcher thread hands each to the
 * worker and reports the result back on another queue; a poison pill ends the service.
 *
 * <pre>mvn -q -pl examples -am -DskipTests package exec:exec -Dmain=io.dualpipe.examples.ServiceWorker</pre>
 */
public final class ServiceWorker {
    private static final String POISON = "\u0000stop";
    private static final Duration TASK_TIMEOUT = Duration.ofSeconds(10);

    private ServiceWorker() {
    }

    /** The worker: factors each number it is sent; a bad task gets an error reply, not a dead worker. */
    public static final class Worker {
        private Worker() {
        }

        public static void main(String[] args) {
            ChildSide.run(io -> {
                for (String task : io.lines()) {
                    io.writeLine(handle(task));
                }
            });
        }

        static String handle(String task) {
            long n;
            try {
                n = Long.parseLong(task.trim());
            } catch (NumberFormatException e) {
                return "error: not a number: " + task;
            }
            if (n < 2) {
                return "error: nothing to factor in " + n;
            }
            List<String> factors = new ArrayList<>();
            for (long p = 2; p * p <= n; p++) {
                for (; n % p == 0; n /= p) {
                    factors.add(Long.toString(p));
                }
            }
            if (n > 1) {
                factors.add(Long.toString(n));
            }
            return task.trim() + " = " + String.join(" * ", factors) + " (worker pid " + ProcessHandle.current().pid() + ")";
        }
    }

    public static void main(String[] args) throws Exception {
        run(System.out, List.of("360", "97", "banana", "600851475143", "1"));
    }

    /** Runs the tasks through one worker; returns the results in order, then its close result. */
    static List<String> run(PrintStream out, List<String> tasks) throws Exception {
        BlockingQueue<String> todo = new LinkedBlockingQueue<>();
        BlockingQueue<String> done = new LinkedBlockingQueue<>();
        DualPipe worker = DualPipe.spawn(Worker.class);
        out.println("worker started, pid " + worker.pid());

        Thread dispatcher = new Thread(() -> {
            try {
                for (String task; !(task = todo.take()).equals(POISON); ) {
                    worker.writeLine(task);
                    done.put(worker.readline(TASK_TIMEOUT));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (RuntimeException e) {
                done.add("dispatcher failed: " + e);
            } finally {
                done.add("worker " + worker.close());
            }
        }, "dispatcher");
        dispatcher.start();

        // The application: enqueue work, then collect results as they are reported.
        todo.addAll(tasks);
        todo.add(POISON);
        List<String> results = new ArrayList<>();
        for (int i = 0; i <= tasks.size(); i++) {
            String r = done.poll(30, TimeUnit.SECONDS);
            if (r == null) {
                throw new IllegalStateException("no result within 30 s after " + results);
            }
            out.println("  " + r);
            results.add(r);
        }
        dispatcher.join(TimeUnit.SECONDS.toMillis(30));
        return results;
    }
}
