package io.dualpipe.nats.internal;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;

/**
 * The two threads of an agent's own: one that publishes results (and, last, stops the agent) and
 * one timer for the {@code inProgress} heartbeats, each named after the agent so that a thread dump
 * tells whose it is, and both daemons, so that an agent nobody closed does not keep its JVM alive.
 * The agent's third thread, the puller, is {@link Puller}'s own. Kept apart from the agent so that
 * how the threads are made and in which order they end sit in one place.
 *
 * <p><b>Threading.</b> Thread-safe, as the executors are. Made once on the thread that starts the
 * agent; {@link #onTimer} is called from the NATS client's connection-event thread, {@link #stopNow}
 * from the thread closing the agent, {@link #stopGently} from the results thread itself.
 */
public final class AgentThreads {
    private final ExecutorService results;
    private final ScheduledExecutorService timer;

    /** Starts the threads of agent {@code agent}. */
    public AgentThreads(String agent) {
        this.results = Executors.newSingleThreadExecutor(daemon("dualpipe-agent-" + agent + "-results"));
        this.timer = Executors.newSingleThreadScheduledExecutor(daemon("dualpipe-agent-" + agent + "-heartbeats"));
    }

    /** {@return the thread that publishes results, acknowledges tasks, and stops the drained agent} */
    public ExecutorService results() {
        return results;
    }

    /** {@return the heartbeat timer} */
    public ScheduledExecutorService timer() {
        return timer;
    }

    /** Runs {@code r} on the timer thread, unless the agent has stopped: then nothing runs any more. */
    public void onTimer(Runnable r) {
        try {
            timer.execute(r);
        } catch (RejectedExecutionException closed) {
            // the agent has stopped: nothing runs any more
        }
    }

    /** For {@code close()}: both threads end, the work queued on them dropped (JetStream redelivers). */
    public void stopNow() {
        results.shutdownNow();
        timer.shutdownNow();
    }

    /**
     * For the end of a drain, from the results thread's last task: the heartbeats stop at once (no
     * task is held any more), the results thread once that task has returned.
     */
    public void stopGently() {
        timer.shutdownNow();
        results.shutdown();
    }

    private static ThreadFactory daemon(String threadName) {
        return r -> {
            Thread t = new Thread(r, threadName);
            t.setDaemon(true);
            return t;
        };
    }
}
