package io.dualpipe.worker;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.LoopClosedException;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.Timeout;
import io.dualpipe.core.internal.Futures;
import io.dualpipe.core.internal.LogLimiter;
import io.dualpipe.core.line.LineReader;
import io.dualpipe.core.message.MessageChannel;
import io.dualpipe.process.ChildProcess;
import io.dualpipe.process.ExitStatus;
import io.dualpipe.process.internal.PosixChildProcess;
import io.dualpipe.process.internal.StderrTail;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * A worker's start and death, for the {@link WorkerSupervisor}: spawns it and wires its channel,
 * its stderr tail and its exit; and, when it dies, waits (bounded) until its exit status and last
 * stderr bytes are known, so that the {@link WorkerExitedException} failing its tasks can quote
 * them. {@link #start} runs on any thread (the pool's constructor, then the loop); the rest on the
 * loop thread.
 */
final class WorkerLife {
    private static final Logger LOG = LoggerFactory.getLogger(WorkerPool.class);
    private static final LogLimiter STDERR_LOGGED = new LogLimiter(20, Duration.ofMinutes(1));
    /** How long a dead worker's tasks wait for its exit status and last stderr bytes before they fail with what is known. */
    private static final long DEATH_WAIT_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** The tail kept of a worker whose stderr is a pipe of the pool's (StderrMode.PIPE); a TAIL worker keeps its own. */
    private static final int PIPE_TAIL_BYTES = 64 * 1024;

    private final WorkerPool.Builder b;
    private final EventLoop loop;

    WorkerLife(WorkerPool.Builder b, EventLoop loop) {
        this.b = b;
        this.loop = loop;
    }

    /** Starts a worker; {@code exited} and {@code closed} then run on the loop when it is reaped and when its channel closes. */
    Slot start(Consumer<Slot> exited, Consumer<Slot> closed) {
        ChildProcess child = b.worker.get().loop(loop).start();
        Slot s = new Slot(child);
        try {
            s.channel = MessageChannel.builder(Worker.codecs())
                    .handle(EnvelopeCodec.TYPE, Envelope.class, (ctx, e) -> {
                        Consumer<Envelope> l = b.onMessage;
                        if (l != null) {
                            l.accept(e);
                        } else {
                            LOG.debug("worker {} sent {} with nobody listening", child.pid(), e.request());
                        }
                    })
                    .open(child.stdout(), child.stdin());
            s.stderr = stderrTail(child);
        } catch (RuntimeException e) {
            child.close();
            throw e;
        }
        s.exit.whenComplete((status, error) -> onLoop(() -> exited.accept(s)));
        s.channel.closeFuture().whenComplete((v, error) -> onLoop(() -> closed.accept(s)));
        return s;
    }

    /**
     * The worker's stderr tail: its own in {@link io.dualpipe.process.StderrMode#TAIL}, the default;
     * with a pipe, the pool logs each line (WARN) and keeps the last ones; otherwise an empty one.
     */
    private static StderrTail stderrTail(ChildProcess child) {
        StderrTail own = child instanceof PosixChildProcess p ? p.tailBuffer() : null;
        if (own != null) {
            return own;
        }
        LineReader err;
        try {
            err = child.errorLines();
        } catch (InvalidArgumentException notAPipe) {
            return StderrTail.reading(null, PIPE_TAIL_BYTES); // stderr goes where the builder said
        }
        StderrTail tail = new StderrTail(PIPE_TAIL_BYTES);
        err.listen(new LineReader.Listener() {
            @Override
            public void onLine(String line) {
                // A worker decides how much it writes to stderr: a flood reaches the log bounded (the tail keeps all).
                long notLogged = STDERR_LOGGED.acquire(child.pid());
                if (notLogged >= 0) {
                    LOG.warn("worker {}: {}{}", child.pid(), line, LogLimiter.note(notLogged));
                } else {
                    LOG.debug("worker {}: {}", child.pid(), line);
                }
                tail.onData(ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.UTF_8)));
            }

            @Override
            public void onEnd() {
                tail.onEnd();
            }

            @Override
            public void onError(Throwable error) {
                tail.onError(error);
            }
        });
        return tail;
    }

    private void onLoop(Runnable task) {
        try {
            loop.runOnLoop(task);
        } catch (LoopClosedException gone) {
            // closing the loop killed and reaped every worker
        }
    }

    /**
     * Runs {@code then} once {@code s} has been reaped and its stderr has ended, or after
     * {@link #DEATH_WAIT_NANOS}: on the loop (argument true), or, once the loop has closed, on
     * whichever thread saw that (false), so that what waits on it is never left pending.
     */
    void afterDeath(Slot s, Consumer<Boolean> then) {
        AtomicBoolean once = new AtomicBoolean();
        Consumer<Boolean> fire = onLoop -> {
            if (once.compareAndSet(false, true)) {
                then.accept(onLoop);
            }
        };
        CompletableFuture<?> known = CompletableFuture.allOf(s.exit, s.stderr.ended());
        if (known.isDone()) {
            fire.accept(true);
            return;
        }
        Timeout timer;
        try {
            timer = loop.schedule(() -> fire.accept(true), DEATH_WAIT_NANOS, TimeUnit.NANOSECONDS);
        } catch (LoopClosedException closing) {
            fire.accept(false);
            return;
        }
        known.whenComplete((v, e) -> {
            timer.cancel();
            try {
                loop.runOnLoop(() -> fire.accept(true));
            } catch (LoopClosedException closed) {
                fire.accept(false);
            }
        });
    }

    /** What {@code s}'s tasks fail with now: {@code what} it did, its exit status when known, its stderr tail. */
    static WorkerExitedException exited(Slot s, String what, Throwable cause) {
        ExitStatus status = s.exit.isDone() && !s.exit.isCompletedExceptionally() ? s.exit.join() : null;
        String known = status != null ? " (" + status + ")" : s.exit.isCompletedExceptionally()
                ? " (status unknown: " + s.exit.handle((v, e) -> Futures.unwrap(e).getMessage()).join() + ")" : "";
        return new WorkerExitedException("worker " + s.child.pid() + " " + what + known + s.stderr.describe(), cause,
                s.child.pid(), status, s.stderr.text());
    }

    /** Sends DIE to every live worker of {@code slots} and completes {@code f} with every worker's exit status, in start order. */
    static void die(List<Slot> slots, long parentPid, LoopFuture<List<ExitStatus>> f, Runnable terminated) {
        List<CompletableFuture<ExitStatus>> exits = new ArrayList<>();
        try {
            for (Slot s : slots) {
                if (s.alive) {
                    s.channel.send(new Envelope(Envelope.DIE, parentPid, s.child.pid(), null));
                }
                exits.add(s.exit);
            }
        } catch (RuntimeException e) {
            // Run from a future's stage when tasks were outstanding, where a throw would vanish
            // and leave shutdown() pending for good.
            f.completeExceptionally(e);
            return;
        }
        CompletableFuture.allOf(exits.toArray(new CompletableFuture<?>[0])).whenComplete((v, e) -> {
            terminated.run();
            if (e != null) {
                f.completeExceptionally(e);
                return;
            }
            List<ExitStatus> out = new ArrayList<>();
            exits.forEach(x -> out.add(x.join()));
            f.complete(out);
        });
    }
}
