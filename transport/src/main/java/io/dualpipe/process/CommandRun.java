package io.dualpipe.process;

import io.dualpipe.core.ByteSource;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.Timeout;
import io.dualpipe.process.internal.PosixChildProcess;
import io.dualpipe.process.internal.ProcessControl;
import io.dualpipe.process.internal.StderrTail;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.Charset;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * One run of a {@link Command}, built on the public {@link ChildProcess} API: push listeners on
 * stdout and stderr, the exit future, and a loop timer. The result is decided once (guarded by
 * this): success when the exit and both ends of stream are in; otherwise the first of timeout,
 * output overrun or a read error kills the group and fails the future after the child is reaped.
 */
final class CommandRun {
    private static final Logger LOG = LoggerFactory.getLogger(CommandRun.class);

    private final ChildProcess child;
    private final String label;
    private final LoopFuture<RunResult> result;
    private final Duration timeout;
    private final int maxOutput;
    private final boolean truncate;
    private final boolean checkExit;
    private final Charset charset;

    // guarded by this
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private boolean truncated;
    /** The stderr bytes kept, read by us in StderrMode.PIPE; its ring is sized on demand, so unused it costs nothing. */
    private final StderrTail pipeTail;
    private final int tailBytes;
    private long stderrBytes;
    private StderrTail childTail; // the child's own in StderrMode.TAIL, else null (and pipeTail is used)
    private boolean stdoutEnded;
    private boolean stderrEnded;
    private ExitStatus status;
    private boolean decided;
    private Timeout timer;

    private CommandRun(ChildProcess child, ChildProcessBuilder b, Duration timeout, int maxOutput, boolean truncate,
                       int stderrTail, boolean checkExit) {
        this.child = child;
        this.label = "pid " + child.pid() + " (" + b.command().get(0) + ")";
        this.result = child.loop().newFuture();
        this.timeout = timeout;
        this.maxOutput = maxOutput;
        this.truncate = truncate;
        this.checkExit = checkExit;
        this.charset = b.charset();
        this.pipeTail = new StderrTail(stderrTail);
        this.tailBytes = stderrTail;
    }

    static LoopFuture<RunResult> start(ChildProcessBuilder b, byte[] input, Duration timeout, int maxOutput,
                                       boolean truncate, int stderrTail, boolean checkExit) {
        if (!b.newSession()) {
            b.newProcessGroup(true);
        }
        ChildProcess child;
        try {
            child = b.start();
        } catch (RuntimeException e) {
            return LoopFuture.failed(e);
        }
        CommandRun run = new CommandRun(child, b, timeout, maxOutput, truncate, stderrTail, checkExit);
        run.begin(b, input);
        return run.result;
    }

    private void begin(ChildProcessBuilder b, byte[] input) {
        EventLoop loop = child.loop();
        try {
            ByteSource stdout = child.stdout(); // throws (naming where it goes) unless a pipe
            if (timeout != null) {
                Timeout t = loop.schedule(this::timedOut, timeout.toNanos(), TimeUnit.NANOSECONDS);
                synchronized (this) {
                    timer = t;
                }
            }
            stdout.listen(new ByteSource.Listener() {
                @Override
                public void onData(ByteBuffer data) {
                    stdoutData(data);
                }

                @Override
                public void onEnd() {
                    ended(true);
                }

                @Override
                public void onError(Throwable error) {
                    failed(error);
                }
            });
            if (b.stderrMode() == StderrMode.PIPE && b.stderrFile() == null) {
                child.stderr().listen(new ByteSource.Listener() {
                    @Override
                    public void onData(ByteBuffer data) {
                        stderrData(data);
                    }

                    @Override
                    public void onEnd() {
                        ended(false);
                    }

                    @Override
                    public void onError(Throwable error) {
                        failed(error);
                    }
                });
            } else if (child instanceof PosixChildProcess p && p.tailBuffer() != null) {
                StderrTail t = p.tailBuffer(); // StderrMode.TAIL: the child reads it already; quoted at the end
                synchronized (this) {
                    childTail = t;
                }
                t.ended().whenComplete((v, e) -> ended(false));
            } else {
                ended(false);
            }
            child.onExit().whenComplete((s, e) -> {
                if (e != null) {
                    failed(e);
                } else {
                    exited(s);
                }
            });
            if (b.stdinMode() == StdinMode.PIPE && b.stdinFile() == null) {
                if (input != null && input.length > 0) {
                    // A child that exits without reading its input breaks the pipe: that is its
                    // business, the run still reports how it ended.
                    child.stdin().write(input).whenComplete((v, e) -> {
                        if (e != null) {
                            LOG.debug("{}: input not fully taken: {}", label, e.toString());
                        }
                    });
                }
                child.stdin().shutdownOutput();
            }
        } catch (RuntimeException e) {
            failed(e);
        }
    }

    private synchronized void stdoutData(ByteBuffer data) {
        if (decided) {
            return;
        }
        int room = maxOutput - out.size();
        int n = Math.min(room, data.remaining());
        byte[] copy = new byte[n];
        data.get(copy);
        out.write(copy, 0, n);
        if (data.hasRemaining()) {
            if (truncate) {
                truncated = true; // the rest is taken and dropped, so the child never blocks on it
            } else {
                decided = true;
                killThenFail(s -> new OutputLimitException(label + ": stdout longer than maxOutput " + maxOutput
                        + " bytes; its process group was killed", snapshot(s), maxOutput));
            }
        }
    }

    private synchronized void stderrData(ByteBuffer data) {
        stderrBytes += data.remaining();
        pipeTail.onData(data);
    }

    private synchronized byte[] tail() {
        return (childTail != null ? childTail : pipeTail).bytes(tailBytes);
    }

    private synchronized RunResult snapshot(ExitStatus s) {
        return new RunResult(s, out.toByteArray(), truncated, tail(), childTail != null ? childTail.total() : stderrBytes,
                charset);
    }

    private synchronized void ended(boolean stdout) {
        if (stdout) {
            stdoutEnded = true;
        } else {
            stderrEnded = true;
        }
        maybeFinish();
    }

    private synchronized void exited(ExitStatus s) {
        status = s;
        maybeFinish();
    }

    private synchronized void maybeFinish() {
        if (decided || status == null || !stdoutEnded || !stderrEnded) {
            return;
        }
        decided = true;
        cancelTimer();
        child.close(); // reaped and drained: releases the pipes' channels now
        RunResult r = snapshot(status);
        if (checkExit && !status.isSuccess()) {
            result.completeExceptionally(new NonZeroExitException(label + " ended unsuccessfully: " + status, r));
        } else {
            result.complete(r);
        }
    }

    private synchronized void timedOut() {
        if (decided) {
            return;
        }
        decided = true;
        String how = status == null ? "" : " (it had exited, " + status + ", but its pipes were still held open)";
        killThenFail(s -> new CommandTimeoutException(label + " still running after the timeout of " + timeout
                + how + "; its process group was killed", snapshot(s), timeout));
    }

    private synchronized void failed(Throwable error) {
        if (decided) {
            return;
        }
        decided = true;
        killThenFail(s -> error);
    }

    /**
     * SIGKILL to the whole group, close the pipes, and fail once the child is reaped (the loop
     * reaps it: no zombie, and the status in the partial result is the real one).
     */
    private void killThenFail(java.util.function.Function<ExitStatus, Throwable> failure) {
        cancelTimer();
        try {
            if (!child.signal(ProcessControl.SIGKILL) && child.onExit().isDone()) {
                // The leader was reaped but descendants hold its pipes: they are still members of
                // its group, and a group id stays taken (not reusable as a pid) while it has
                // members, so killpg reaches them and no one else; ESRCH when none is left.
                ProcessControl.signalGroup(child.pid(), ProcessControl.SIGKILL);
            }
        } catch (RuntimeException e) {
            LOG.warn("{}: could not kill its process group: {}", label, e.getMessage());
        }
        child.close();
        child.onExit().whenComplete((s, e) -> result.completeExceptionally(failure.apply(s)));
    }

    private void cancelTimer() {
        if (timer != null) {
            timer.cancel();
        }
    }
}
