package io.dualpipe.process.internal;

import io.dualpipe.core.ByteSink;
import io.dualpipe.core.ByteSource;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.FdChannel;
import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.IoHandler;
import io.dualpipe.core.LoopClosedException;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.Timeout;
import io.dualpipe.core.internal.Durations;
import io.dualpipe.core.internal.FdStream;
import io.dualpipe.core.internal.Native;
import io.dualpipe.core.internal.SingleThreadEventLoop;
import io.dualpipe.core.line.Conversation;
import io.dualpipe.core.line.LineReader;
import io.dualpipe.process.ChildProcess;
import io.dualpipe.process.ChildProcessBuilder;
import io.dualpipe.process.ExitStatus;
import io.dualpipe.process.PipeDirection;
import io.dualpipe.process.StderrMode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.channels.SelectionKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A child spawned by {@link Spawner} whose pipes are {@link FdStream}s on one loop and whose exit is
 * watched through its pidfd (or by polling waitpid where there is none).
 *
 * <p>Exit state is written on the loop thread; {@link #signal} synchronises with the reaping so that
 * no signal is ever sent to a pid (or through a pidfd) after the child was reaped. Once reaped, the
 * pipes towards the child are shut down (see {@link #releaseInputs()}), so a child nobody closes
 * leaks nothing.
 */
public final class PosixChildProcess implements ChildProcess, IoHandler {
    private static final Logger LOG = LoggerFactory.getLogger(PosixChildProcess.class);
    private static final long MIN_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final long MAX_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
    /** How long closing a loop waits for a SIGKILLed child to be reapable. */
    private static final long KILL_REAP_NANOS = TimeUnit.SECONDS.toNanos(10);

    private final SingleThreadEventLoop loop;
    private final int pid;
    private final boolean ownGroup;
    private final String label;
    private final FdStream stdin;
    private final FdStream stdout;
    private final FdStream stderr;
    private final Map<Integer, FdStream> extras;
    private final LoopFuture<ExitStatus> exit = new LoopFuture<>();
    private volatile LoopFuture<ExitStatus> drained;
    private final int maxLineLength;
    private final java.nio.charset.Charset charset;
    private final int readBufferLimit;
    private LineReader lines;        // guarded by this
    private LineReader errorLines;   // guarded by this
    private Conversation conversation; // guarded by this

    private final Object reapLock = new Object();
    private FdChannel pidfd; // guarded by reapLock; null once reaped or when unavailable
    private boolean reaped;  // guarded by reapLock
    private long pollNanos = MIN_POLL_NANOS;
    private Runnable removeCloseHook;
    private Timeout killTimer;

    /** {@code owned} records each fd of {@code s} as it is taken over, for {@link #start}'s cleanup. */
    private PosixChildProcess(ChildProcessBuilder b, Spawned s, Owned owned) {
        this.loop = SingleThreadEventLoop.of(b.loop());
        this.pid = s.pid();
        this.ownGroup = b.newProcessGroup();
        this.label = "pid " + pid + " (" + b.command().get(0) + ")";
        this.maxLineLength = b.maxLineLength();
        this.charset = b.charset();
        this.readBufferLimit = b.readBufferLimit();
        this.stdin = s.stdinFd() < 0 ? null
                : owned.sink(loop, s.stdinFd(), label + " stdin", b.highWaterMark(), b.lowWaterMark());
        this.stdout = s.stdoutFd() < 0 ? null
                : owned.source(loop, s.stdoutFd(), label + " stdout", b.readBufferLimit());
        this.stderr = s.stderrFd() < 0 ? null
                : owned.source(loop, s.stderrFd(), label + " stderr", b.readBufferLimit());
        Map<Integer, FdStream> ex = new TreeMap<>();
        List<PipeDirection> dirs = b.extraPipes();
        for (int i = 0; i < dirs.size(); i++) {
            int childFd = 3 + i;
            int fd = s.extraFd(i);
            ex.put(childFd, dirs.get(i) == PipeDirection.FROM_CHILD
                    ? owned.source(loop, fd, label + " fd " + childFd, b.readBufferLimit())
                    : owned.sink(loop, fd, label + " fd " + childFd, b.highWaterMark(), b.lowWaterMark()));
        }
        this.extras = ex;
        if (s.pidfd() >= 0) {
            pidfd = owned.channel(s.pidfd(), SelectionKey.OP_READ);
        } else {
            removeCloseHook = loop.onClose(this::loopClosed);
        }
        // Every registration in one task: one hop and at most one wakeup per spawn, not one per pipe.
        List<FdStream> all = streams();
        try {
            loop.execute(() -> {
                all.forEach(FdStream::startNow);
                if (pidfd != null) {
                    loop.register(pidfd, SelectionKey.OP_READ, this).whenComplete((k, e) -> {
                        if (e != null) {
                            killAndReap(e instanceof LoopClosedException ? (LoopClosedException) e
                                    : new LoopClosedException(label + ": cannot watch its exit: " + e));
                        }
                    });
                } else {
                    poll();
                }
            });
        } catch (LoopClosedException e) {
            if (removeCloseHook != null) {
                removeCloseHook.run(); // start() reaps the child; the hook must not try again
            }
            throw e; // nothing was queued: start() closes every channel, still owned
        }
        // Queued: the streams own their channels now, and the loop (or killAndReap) closes the pidfd.
        all.forEach(st -> owned.handedOver(st.channel()));
        if (pidfd != null) {
            owned.handedOver(pidfd);
        }
    }

    /** Spawns the child described by {@code b}; fails with a SpawnException and leaks nothing. */
    public static PosixChildProcess start(ChildProcessBuilder b) {
        EventLoop loop = b.loop();
        if (loop.isClosed()) {
            throw new LoopClosedException("cannot start " + b.command().get(0) + ": " + loop + " is closed");
        }
        Spawned s = Spawner.spawn(toSpec(b));
        Owned owned = new Owned();
        try {
            return new PosixChildProcess(b, s, owned);
        } catch (RuntimeException e) {
            // The loop closed between the check and the registration: kill and reap, leave no fd behind.
            owned.release(s);
            ProcessControl.signal(s.pid(), -1, ProcessControl.SIGKILL);
            reapBlocking(s.pid());
            throw e;
        }
    }

    /**
     * Who owns each fd of a spawn while the child is being set up, so that a failure half way closes
     * every fd exactly once. Closing by number an fd a channel owns (as {@link Spawned#closeAll()}
     * would) can close an unrelated file that reused the number before the channel closes it again.
     * The streams are registered by one loop task queued last: until it is queued their channels are
     * ours (never registered, so closing them here races nothing); once queued, they are the loop's.
     */
    private static final class Owned {
        private final List<FdChannel> channels = new ArrayList<>();
        private final List<Integer> taken = new ArrayList<>();

        FdChannel channel(int fd, int ops) {
            FdChannel c = new FdChannel(fd, ops); // if this fails, the fd is still closed by number below
            taken.add(fd);
            channels.add(c);
            return c;
        }

        /** {@code c} is no longer ours to close. */
        void handedOver(FdChannel c) {
            channels.remove(c);
        }

        /** A stream not registered yet: its channel stays ours until the registration task is queued. */
        FdStream source(EventLoop loop, int fd, String name, int readLimit) {
            return FdStream.prepareSource(loop, channel(fd, SelectionKey.OP_READ), name, readLimit);
        }

        FdStream sink(EventLoop loop, int fd, String name, int highWater, int lowWater) {
            return FdStream.prepareSink(loop, channel(fd, SelectionKey.OP_WRITE), name, highWater, lowWater);
        }

        void release(Spawned s) {
            for (FdChannel c : channels) {
                try {
                    c.close(); // never registered: closed at once, and no registration can race it
                } catch (java.io.IOException | RuntimeException e) {
                    LOG.debug("closing {} failed", c, e);
                }
            }
            List<Integer> all = new ArrayList<>(List.of(s.stdinFd(), s.stdoutFd(), s.stderrFd(), s.pidfd()));
            for (int i = 0; i < s.extraFdCount(); i++) {
                all.add(s.extraFd(i));
            }
            for (int fd : all) {
                if (fd >= 0 && !taken.contains(fd)) {
                    Native.closeQuietly(fd);
                }
            }
        }
    }

    private static SpawnSpec toSpec(ChildProcessBuilder b) {
        SpawnSpec.Builder spec = SpawnSpec.builder(b.command())
                .newProcessGroup(b.newProcessGroup())
                .pipeSize(b.pipeBufferSize());
        if (b.directory() != null) {
            spec.workingDirectory(b.directory().toString());
        }
        if (b.environment() != null) {
            spec.environment(b.environment());
        }
        if (b.stderrFile() != null) {
            spec.stderrAppendTo(b.stderrFile().toString());
        } else {
            spec.stderr(toSpec(b.stderrMode()));
        }
        for (PipeDirection d : b.extraPipes()) {
            spec.extraPipe(d == PipeDirection.FROM_CHILD ? SpawnSpec.PipeDirection.CHILD_WRITES : SpawnSpec.PipeDirection.CHILD_READS);
        }
        return spec.build();
    }

    private static SpawnSpec.Stderr toSpec(StderrMode mode) {
        switch (mode) {
            case PIPE: return SpawnSpec.Stderr.PIPE;
            case MERGE_WITH_STDOUT: return SpawnSpec.Stderr.MERGE_WITH_STDOUT;
            case INHERIT: return SpawnSpec.Stderr.INHERIT;
            case DISCARD: return SpawnSpec.Stderr.DISCARD;
            default: throw new InvalidArgumentException("unknown stderr mode " + mode);
        }
    }

    // ---- accessors ----

    @Override
    public int pid() {
        return pid;
    }

    @Override
    public EventLoop loop() {
        return loop;
    }

    @Override
    public ByteSink stdin() {
        if (stdin == null) {
            throw new InvalidArgumentException(label + ": stdin is not a pipe");
        }
        return stdin;
    }

    @Override
    public ByteSource stdout() {
        return stdout;
    }

    @Override
    public ByteSource stderr() {
        if (stderr == null) {
            throw new InvalidArgumentException(label + ": stderr is not a pipe (it was merged, inherited, discarded or sent to a file)");
        }
        return stderr;
    }

    @Override
    public ByteSource pipeFromChild(int childFd) {
        FdStream s = extras.get(childFd);
        if (s == null || s.channel().validOps() != SelectionKey.OP_READ) {
            throw new InvalidArgumentException(label + ": no FROM_CHILD pipe on child fd " + childFd + " (extra pipes: " + describeExtras() + ")");
        }
        return s;
    }

    @Override
    public ByteSink pipeToChild(int childFd) {
        FdStream s = extras.get(childFd);
        if (s == null || s.channel().validOps() != SelectionKey.OP_WRITE) {
            throw new InvalidArgumentException(label + ": no TO_CHILD pipe on child fd " + childFd + " (extra pipes: " + describeExtras() + ")");
        }
        return s;
    }

    private String describeExtras() {
        List<String> out = new ArrayList<>();
        extras.forEach((fd, s) -> out.add(fd + (s.channel().validOps() == SelectionKey.OP_READ ? " FROM_CHILD" : " TO_CHILD")));
        return out.isEmpty() ? "none" : String.join(", ", out);
    }

    // ---- lines ----

    @Override
    public synchronized LineReader lines() {
        if (lines == null) {
            if (stdout == null) {
                throw new InvalidArgumentException(label + ": stdout is not a pipe");
            }
            lines = LineReader.of(stdout, maxLineLength, charset, Math.max(readBufferLimit, maxLineLength));
        }
        return lines;
    }

    @Override
    public synchronized LineReader errorLines() {
        if (errorLines == null) {
            errorLines = LineReader.of(stderr(), maxLineLength, charset, Math.max(readBufferLimit, maxLineLength));
        }
        return errorLines;
    }

    @Override
    public LoopFuture<Void> writeLine(String line) {
        InvalidArgumentException.requireNonNull("line", line);
        return stdin().write((line + "\n").getBytes(charset));
    }

    @Override
    public synchronized Conversation conversation() {
        if (conversation == null) {
            conversation = Conversation.over(stdin(), lines(), charset);
        }
        return conversation;
    }

    // ---- exit ----

    @Override
    public LoopFuture<ExitStatus> onExit() {
        return exit;
    }

    @Override
    public LoopFuture<ExitStatus> onDrained() {
        LoopFuture<ExitStatus> d = drained;
        if (d == null) {
            synchronized (this) {
                d = drained;
                if (d == null) {
                    List<CompletableFuture<?>> all = new ArrayList<>();
                    all.add(exit);
                    if (stdout != null) {
                        all.add(stdout.endOfStream());
                    }
                    if (stderr != null) {
                        all.add(stderr.endOfStream());
                    }
                    for (FdStream s : extras.values()) {
                        if (s.channel().validOps() == SelectionKey.OP_READ) {
                            all.add(s.endOfStream());
                        }
                    }
                    LoopFuture<ExitStatus> f = new LoopFuture<>();
                    CompletableFuture.allOf(all.toArray(new CompletableFuture<?>[0])).whenComplete((v, e) -> {
                        if (e != null) {
                            f.completeExceptionally(e instanceof java.util.concurrent.CompletionException && e.getCause() != null ? e.getCause() : e);
                        } else {
                            f.complete(exit.join());
                        }
                    });
                    drained = d = f;
                }
            }
        }
        return d;
    }

    @Override
    public boolean isAlive() {
        synchronized (reapLock) {
            return !reaped;
        }
    }

    @Override
    public void ready(int readyOps) {
        poll();
    }

    /** Loop thread: reaps the child if it has exited; in polling mode, schedules the next look. */
    private void poll() {
        ExitStatus status;
        try {
            // Reaped under the lock signal() takes: once waitpid has freed the pid, no signal may
            // find the child still marked alive and go to whoever reuses the pid (or its group).
            synchronized (reapLock) {
                status = ProcessControl.waitNoHang(pid);
                if (status != null) {
                    reaped = true;
                }
            }
        } catch (RuntimeException e) {
            LOG.error("{}: waitpid failed; its exit status is lost", label, e);
            markReaped();
            exit.completeExceptionally(e);
            return;
        }
        if (status != null) {
            markReaped();
            releaseInputs();
            exit.complete(status);
        } else if (pidfd == null && !loop.isClosed()) {
            loop.schedule(this::poll, pollNanos, TimeUnit.NANOSECONDS);
            pollNanos = Math.min(pollNanos * 2, MAX_POLL_NANOS);
        }
    }

    /**
     * The child is gone, so the pipes it read from are shut down after their queued bytes, as the
     * JDK's Process does: a caller who only awaits {@link #onExit()} and never calls {@link #close()}
     * would otherwise keep their fds and selector keys for good. Output pipes close themselves at end
     * of stream, which may come later when a grandchild still holds them. A grandchild that inherited
     * stdin sees end of input here.
     */
    private void releaseInputs() {
        for (FdStream s : streams()) {
            if (s.channel().validOps() == SelectionKey.OP_WRITE) {
                s.shutdownOutput();
            }
        }
    }

    private void markReaped() {
        FdChannel fd;
        synchronized (reapLock) {
            reaped = true;
            fd = pidfd;
            pidfd = null;
        }
        if (fd != null) {
            try {
                fd.close();
            } catch (java.io.IOException e) {
                LOG.debug("{}: closing pidfd failed", label, e);
            }
        }
        Timeout t = killTimer;
        if (t != null) {
            t.cancel();
        }
        if (removeCloseHook != null) {
            removeCloseHook.run();
        }
    }

    @Override
    public boolean signal(int signal) {
        synchronized (reapLock) {
            if (reaped) {
                return false;
            }
            if (ownGroup) {
                return ProcessControl.signalGroup(pid, signal);
            }
            return ProcessControl.signal(pid, pidfd == null ? -1 : pidfd.getFD(), signal);
        }
    }

    @Override
    public LoopFuture<ExitStatus> terminate(Duration grace) {
        InvalidArgumentException.requireNonNull("grace", grace);
        if (grace.isNegative()) {
            throw new InvalidArgumentException("grace < 0: " + grace);
        }
        if (signal(ProcessControl.SIGTERM)) {
            try {
                killTimer = loop.schedule(() -> signal(ProcessControl.SIGKILL), Durations.saturatedNanos(grace), TimeUnit.NANOSECONDS);
            } catch (LoopClosedException e) {
                signal(ProcessControl.SIGKILL);
            }
        }
        return exit;
    }

    @Override
    public void close() {
        // Kill before closing the pipes: a child that ends at end of input (cat, sort) would
        // otherwise often exit on its own first, and close() promises a killed child.
        try {
            signal(ProcessControl.SIGKILL);
        } catch (RuntimeException e) {
            // e.g. EPERM from killpg when a member of its group changed uid: the pipes still close
            LOG.warn("{}: could not kill it on close: {}", label, e.getMessage());
        } finally {
            for (FdStream s : streams()) {
                s.close();
            }
        }
    }

    private List<FdStream> streams() {
        List<FdStream> all = new ArrayList<>();
        if (stdin != null) {
            all.add(stdin);
        }
        if (stdout != null) {
            all.add(stdout);
        }
        if (stderr != null) {
            all.add(stderr);
        }
        all.addAll(extras.values());
        return all;
    }

    @Override
    public void loopClosed(LoopClosedException cause) {
        killAndReap(cause);
    }

    /** The loop is going away: nothing will watch this child any more, so kill it and reap it now. */
    private void killAndReap(LoopClosedException cause) {
        if (signal(ProcessControl.SIGKILL)) {
            LOG.debug("{}: killed because {}", label, cause.getMessage());
        }
        boolean wasReaped;
        synchronized (reapLock) {
            wasReaped = reaped;
        }
        if (!wasReaped) {
            reapBlocking(pid);
            markReaped();
        }
        exit.completeExceptionally(cause);
    }

    /** Waits for a SIGKILLed child to become reapable; bounded, off the hot path (loop close only). */
    private static void reapBlocking(int pid) {
        long deadline = System.nanoTime() + KILL_REAP_NANOS;
        while (ProcessControl.waitNoHang(pid) == null) {
            if (System.nanoTime() - deadline > 0) {
                LOG.error("pid {} did not die within 10 s of SIGKILL; it will be left to init", pid);
                return;
            }
            LockSupport.parkNanos(200_000);
        }
    }

    @Override
    public String toString() {
        if (isAlive()) {
            return "ChildProcess[" + label + "]";
        }
        // getNow would throw for an exit future failed by a loop close; describe it instead.
        String how;
        if (!exit.isDone()) {
            how = "reaped";
        } else if (exit.isCompletedExceptionally()) {
            how = "status unknown: " + exit.handle((v, e) -> e instanceof java.util.concurrent.CompletionException
                    && e.getCause() != null ? e.getCause() : e).join();
        } else {
            how = "exited " + exit.join();
        }
        return "ChildProcess[" + label + ", " + how + "]";
    }
}
