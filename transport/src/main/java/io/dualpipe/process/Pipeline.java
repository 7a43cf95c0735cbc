package io.dualpipe.process;

import io.dualpipe.core.ByteSink;
import io.dualpipe.core.ByteSource;
import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.internal.Futures;
import io.dualpipe.core.internal.LoopFutures;
import io.dualpipe.core.line.LineReader;
import io.dualpipe.process.internal.PosixChildProcess;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Children linked stdout to stdin, as a shell runs {@code a | b | c}; started by
 * {@link ChildProcess#pipeline(ChildProcessBuilder...)}. The pipes between stages belong to the
 * children alone (the parent keeps neither end), so when a stage exits the next one sees end of
 * input, and a stage writing to an exited one gets EPIPE, exactly as in a shell.
 *
 * <p><b>Ownership.</b> Each stage is an ordinary {@link ChildProcess} with its own lifecycle
 * (reaped by the loop as soon as it exits); the parent reaches the ends of the line through
 * {@link #stdin()} (the first stage's, when it is a pipe) and {@link #stdout()} (the last stage's).
 * {@link #close()} closes every stage.
 *
 * <p><b>Threading.</b> Immutable; every method is thread-safe. All stages are served by one loop, so
 * {@link #onExit()} and reads complete on that loop's thread.
 */
public final class Pipeline implements AutoCloseable {
    private final List<ChildProcess> stages;
    private final LoopFuture<List<ExitStatus>> exits = new LoopFuture<>();

    private Pipeline(List<ChildProcess> stages) {
        List<ChildProcess> copy = List.copyOf(stages);
        this.stages = copy;
        // Each stage's onExit() is a future of our own (a caller's copy cannot poison it), and we
        // never hand these out either.
        List<LoopFuture<ExitStatus>> stageExits = new ArrayList<>(copy.size());
        for (ChildProcess p : copy) {
            stageExits.add(p.onExit());
        }
        CompletableFuture<?>[] all = stageExits.toArray(new CompletableFuture<?>[0]);
        // Captures the local lists, not this: the callback may run on the loop thread before the
        // constructor returns.
        CompletableFuture.allOf(all).whenComplete((v, e) -> {
            if (e != null) {
                exits.completeExceptionally(Futures.unwrap(e));
            } else {
                List<ExitStatus> statuses = new ArrayList<>(all.length);
                for (LoopFuture<ExitStatus> f : stageExits) {
                    statuses.add(f.join()); // all done: never blocks, even on the loop thread
                }
                exits.complete(List.copyOf(statuses));
            }
        });
    }

    static Pipeline start(ChildProcessBuilder... stages) {
        InvalidArgumentException.requireNonNull("stages", stages);
        if (stages.length == 0) {
            throw new InvalidArgumentException("pipeline has no stages: give at least one builder");
        }
        for (int i = 0; i < stages.length; i++) {
            if (stages[i] == null) {
                throw new InvalidArgumentException("stages[" + i + "] is null");
            }
        }
        return new Pipeline(new ArrayList<>(PosixChildProcess.startPipeline(List.of(stages))));
    }

    /** {@return every stage, first to last (an immutable list)} */
    public List<ChildProcess> stages() {
        return stages;
    }

    /** {@return the stage the parent feeds (the head)} */
    public ChildProcess first() {
        return stages.get(0);
    }

    /** {@return the stage the parent reads (the tail)} */
    public ChildProcess last() {
        return stages.get(stages.size() - 1);
    }

    /**
     * The first stage's stdin. {@link ByteSink#shutdownOutput()} ends the input of the whole line:
     * each stage sees end of input once the one before it exits.
     *
     * @return the first stage's stdin
     * @throws InvalidArgumentException when the first stage's stdin is not a pipe
     */
    public ByteSink stdin() {
        return first().stdin();
    }

    /**
     * The last stage's stdout.
     *
     * @return the last stage's stdout
     * @throws InvalidArgumentException when the last stage's stdout is not a pipe
     */
    public ByteSource stdout() {
        return last().stdout();
    }

    /** {@return the last stage's stdout as lines; see {@link ChildProcess#lines()}} */
    public LineReader lines() {
        return last().lines();
    }

    /**
     * Completes with every stage's exit status, in stage order, once all of them have been reaped
     * (completing on the loop thread, or on the caller's when all have exited already). Like a
     * shell's {@code PIPESTATUS}: a failing middle stage is visible, not masked by the tail. Fails
     * as a stage's {@link ChildProcess#onExit()} fails (its loop closed before it was reaped).
     *
     * <p>Each call returns a new future: cancelling or completing it (or {@code orTimeout}) affects
     * that future alone, never the pipeline's exit as other callers see it.
     *
     * @return a new future of the stages' statuses, in stage order
     */
    public LoopFuture<List<ExitStatus>> onExit() {
        return LoopFutures.copyOf(exits);
    }

    /** Closes every stage: SIGKILL to those still running, then their pipes. Idempotent. */
    @Override
    public void close() {
        RuntimeException first = null;
        for (ChildProcess p : stages) {
            try {
                p.close();
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    @Override
    public String toString() {
        return "Pipeline" + stages;
    }
}
