package io.dualpipe.review21;

import io.dualpipe.nats.NatsAgent;
import io.dualpipe.nats.NatsWorkerPool;
import io.dualpipe.process.ChildProcess;

import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Review 21: not a test, the main of a child JVM that {@code io.dualpipe.nats.Review21NatsModuleTest}
 * starts with DualPipe's modules on the module path (this class on the class path, in a package of
 * its own: a class of package io.dualpipe.nats on the class path would be hidden by the module).
 * Runs one task through a pool and an agent, and prints "R21 module-of-nats answer threads-left".
 */
public final class Review21NatsModuleProbeTest {
    private Review21NatsModuleProbeTest() {
    }

    public static void main(String[] args) throws Exception {
        String url = args[0];
        String script = args[1];
        Object answer;
        try (NatsWorkerPool pool = NatsWorkerPool.builder().server(url).pool("r21mp").start();
             NatsAgent agent = NatsAgent.builder(() -> ChildProcess.builder("python3", script))
                     .server(url).pool("r21mp").name("r21mp").workers(1).start()) {
            answer = pool.submit(7).get(60, TimeUnit.SECONDS);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        Set<String> left;
        do {
            left = threadsLeft();
            if (left.isEmpty()) {
                break;
            }
            new java.util.concurrent.CountDownLatch(1).await(10, TimeUnit.MILLISECONDS);
        } while (System.nanoTime() - deadline < 0);
        System.out.println("R21 " + NatsWorkerPool.class.getModule().getName() + " " + answer + " " + left.size() + " " + left);
        System.out.flush();
        System.exit(0);
    }

    static Set<String> threadsLeft() {
        return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).map(Thread::getName)
                .filter(n -> n.startsWith("dualpipe-agent-") || n.startsWith("dualpipe-nats-submitter-"))
                .collect(java.util.stream.Collectors.toCollection(java.util.TreeSet::new));
    }
}
