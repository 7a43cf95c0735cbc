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
import io.dualpipe.process.StdinMode;
import io.dualpipe.process.StdoutMode;
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
    /** Where stdin/stdout are when they are not pipes ("it reads /dev/null"), for the error messages. */
    private final String stdinWhere;
    private final String stdoutWhere;
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
    private PosixChildProcess(ChildProcessBuilder b, Spawned s, Owned owned, String stdinWhere, String stdoutWhere) {
        this.loop = SingleThreadEventLoop.of(b.loop());
        this.stdinWhere = stdinWhere;
        this.stdoutWhere = stdoutWhere;
        this.pid = s.pid();
        this.ownGroup = b.newProcessGroup();
        this.label = "pid " + pid + " (" + b.command().get(0) + ")";
        this.maxLineLength = b.maxLineLength();
        this.charset = b.charset();
        this.readBufferLimit = b.readBufferLimit();
        if (s.isTerminal()) {
            // One master fd, written as stdin and read as stdout: one stream, registered once.
            this.stdin = owned.terminal(loop, s.stdinFd(), label + " terminal", b.readBufferLimit(),
                    b.highWaterMark(), b.lowWaterMark(), s.terminalEof());
            this.stdout = this.stdin;
        } else {
            this.stdin = s.stdinFd() < 0 ? null
                    : owned.sink(loop, s.stdinFd(), label + " stdin", b.highWaterMark(), b.lowWaterMark());
            this.stdout = s.stdoutFd() < 0 ? null
                    : owned.source(loop, s.stdoutFd(), label + " stdout", b.readBufferLimit());
        }
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
        if (b.pseudoTerminal() && (b.stdinFile() != null || b.stdinMode() != StdinMode.PIPE
                || b.stdoutFile() != null || b.stdoutMode() != StdoutMode.PIPE)) {
            throw new InvalidArgumentException("cannot start " + b.command().get(0)
                    + ": pseudoTerminal(true) makes the terminal its stdin and stdout, but " + stdinWhere(b)
                    + " / " + stdoutWhere(b) + "; leave stdin and stdout at PIPE");
        }
        Spawned s = Spawner.spawn(specOf(b).build());
        return wrap(b, s, stdinWhere(b), stdoutWhere(b));
    }

    /**
     * Takes a running child over; on failure (the loop closed between the caller's check and the
     * registration) kills and reaps it and leaves no fd behind.
     */
    private static PosixChildProcess wrap(ChildProcessBuilder b, Spawned s, String stdinWhere, String stdoutWhere) {
        Owned owned = new Owned();
        try {
            return new PosixChildProcess(b, s, owned, stdinWhere, stdoutWhere);
        } catch (RuntimeException e) {
            owned.release(s);
            killAndReapBlocking(b, s.pid());
            throw e;
        }
    }

    private static void killAndReapBlocking(ChildProcessBuilder b, int pid) {
        try {
            if (b.newProcessGroup()) {
                ProcessControl.signalGroup(pid, ProcessControl.SIGKILL);
            } else {
                ProcessControl.signal(pid, -1, ProcessControl.SIGKILL);
            }
        } catch (RuntimeException e) {
            LOG.warn("pid {}: could not kill it: {}", pid, e.getMessage());
        }
        reapBlocking(pid);
    }

    /**
     * Starts {@code a | b | c}: one CLOEXEC pipe between each pair of stages, whose ends only the two
     * children hold, so end of output propagates down the line as it does in a shell. The first
     * stage's stdin and the last one's stdout follow their builders; every stage serves on the
     * first stage's loop.
     *
     * <p>All children are spawned before any is handed to the loop: a stage that fails to start
     * kills and reaps the ones before it and closes every fd, here and now, before the
     * SpawnException propagates, so the caller never sees half a pipeline.
     *
     * @throws InvalidArgumentException when a stage sets a stream the pipeline wires, or runs on
     *         another loop
     */
    public static List<PosixChildProcess> startPipeline(List<ChildProcessBuilder> stages) {
        int n = stages.size();
        EventLoop loop = stages.get(0).loop();
        for (int i = 0; i < n; i++) {
            ChildProcessBuilder b = stages.get(i);
            String stage = "pipeline stage " + i + " (" + b.command().get(0) + ")";
            if (b.loop() != loop) {
                throw new InvalidArgumentException(stage + " runs on " + b.loop() + " but stage 0 on " + loop
                        + ": every stage of a pipeline is served by one loop");
            }
            if (b.pseudoTerminal()) {
                throw new InvalidArgumentException(stage + " asks for a pseudo-terminal, which pipelines do not support"
                        + " (it would be both the stage's stdin and stdout)");
            }
            if (i > 0 && (b.stdinMode() != StdinMode.PIPE || b.stdinFile() != null)) {
                throw new InvalidArgumentException(stage + " sets stdin to " + (b.stdinFile() != null
                        ? "file '" + b.stdinFile() + "'" : b.stdinMode())
                        + ": only the first stage's stdin is free, the others read the previous stage's stdout");
            }
            if (i < n - 1 && (b.stdoutMode() != StdoutMode.PIPE || b.stdoutFile() != null)) {
                throw new InvalidArgumentException(stage + " sets stdout to " + (b.stdoutFile() != null
                        ? "file '" + b.stdoutFile() + "'" : b.stdoutMode())
                        + ": only the last stage's stdout is free, the others feed the next stage's stdin");
            }
        }
        if (loop.isClosed()) {
            throw new LoopClosedException("cannot start a pipeline of " + n + ": " + loop + " is closed");
        }
        List<Spawned> spawned = new ArrayList<>(n);
        int readEnd = -1; // read end of the pipe into the next stage, ours until that stage holds it
        try {
            for (int i = 0; i < n; i++) {
                ChildProcessBuilder b = stages.get(i);
                SpawnSpec.Builder spec = specOf(b);
                int[] next = null;
                try {
                    if (readEnd >= 0) {
                        spec.stdinFromFd(readEnd);
                    }
                    if (i < n - 1) {
                        next = Spawner.pipe(stages.get(i + 1).command().get(0),
                                Math.max(b.pipeBufferSize(), stages.get(i + 1).pipeBufferSize()));
                        spec.stdoutToFd(next[1]);
                    }
                    spawned.add(Spawner.spawn(spec.build()));
                } finally {
                    // The children hold their copies now (or none exists). Ours would keep the next
                    // stage from seeing end of input when this one exits, and this one from EPIPE.
                    Native.closeQuietly(readEnd);
                    readEnd = -1;
                    if (next != null) {
                        Native.closeQuietly(next[1]);
                        readEnd = next[0];
                    }
                }
            }
        } catch (RuntimeException e) {
            Native.closeQuietly(readEnd);
            for (int i = 0; i < spawned.size(); i++) {
                Spawned s = spawned.get(i);
                s.closeAll(); // never wrapped: no channel owns these fds
                killAndReapBlocking(stages.get(i), s.pid());
            }
            throw e;
        }
        List<PosixChildProcess> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            ChildProcessBuilder b = stages.get(i);
            try {
                out.add(wrap(b, spawned.get(i),
                        i > 0 ? "it reads the previous pipeline stage's stdout" : stdinWhere(b),
                        i < n - 1 ? "it feeds the next pipeline stage's stdin" : stdoutWhere(b)));
            } catch (RuntimeException e) {
                // The loop closed meanwhile: wrap() cleaned up stage i; the later ones were never
                // taken over, and the earlier ones are the closing loop's to kill and reap.
                for (int j = i + 1; j < n; j++) {
                    spawned.get(j).closeAll();
                    killAndReapBlocking(stages.get(j), spawned.get(j).pid());
                }
                out.forEach(PosixChildProcess::close);
                throw e;
            }
        }
        return out;
    }

    private static String stdinWhere(ChildProcessBuilder b) {
        if (b.stdinFile() != null) {
            return "it reads file '" + b.stdinFile() + "'";
        }
        return switch (b.stdinMode()) {
            case PIPE -> "it is a pipe"; // never shown
            case INHERIT -> "it is the parent's stdin (StdinMode.INHERIT)";
            case NULL_DEVICE -> "it reads /dev/null (StdinMode.NULL_DEVICE)";
        };
    }

    private static String stdoutWhere(ChildProcessBuilder b) {
        if (b.stdoutFile() != null) {
            return "it goes to file '" + b.stdoutFile() + "'";
        }
        return switch (b.stdoutMode()) {
            case PIPE -> "it is a pipe"; // never shown
            case INHERIT -> "it is the parent's stdout (StdoutMode.INHERIT)";
            case DISCARD -> "it goes to /dev/null (StdoutMode.DISCARD)";
        };
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

        FdStream terminal(EventLoop loop, int fd, String name, int readLimit, int highWater, int lowWater, byte eof) {
            return FdStream.prepareTerminal(loop, channel(fd, SelectionKey.OP_READ | SelectionKey.OP_WRITE), name,
                    readLimit, highWater, lowWater, eof);
        }

        void release(Spawned s) {
            for (FdChannel c : channels) {
                try {
                    c.close(); // never registered: closed at once, and no registration can race it
                } catch (java.io.IOException | RuntimeException e) {
                    LOG.debug("closing {} failed", c, e);
                }
            }
            // A set: a pty master is both stdinFd and stdoutFd, and must be closed once.
            java.util.Set<Integer> all = new java.util.LinkedHashSet<>(List.of(s.stdinFd(), s.stdoutFd(), s.stderrFd(),
                    s.pidfd()));
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

    private static SpawnSpec.Builder specOf(ChildProcessBuilder b) {
        SpawnSpec.Builder spec = SpawnSpec.builder(b.command())
                .newProcessGroup(b.newProcessGroup())
                .newSession(b.newSession())
                .limits(b.limits())
                .pseudoTerminal(b.pseudoTerminal())
                .pipeSize(b.pipeBufferSize());
        if (b.directory() != null) {
            spec.workingDirectory(b.directory().toString());
        }
        if (b.environment() != null) {
            spec.environment(b.environment());
        }
        if (b.stdinFile() != null) {
            spec.stdinFrom(b.stdinFile().toString());
        } else {
            spec.stdin(switch (b.stdinMode()) {
                case PIPE -> SpawnSpec.Stdin.PIPE;
                case INHERIT -> SpawnSpec.Stdin.INHERIT;
                case NULL_DEVICE -> SpawnSpec.Stdin.NULL_DEVICE;
            });
        }
        if (b.stdoutFile() != null) {
            if (b.stdoutAppend()) {
                spec.stdoutAppendTo(b.stdoutFile().toString());
            } else {
                spec.stdoutTo(b.stdoutFile().toString());
            }
        } else {
            spec.stdout(switch (b.stdoutMode()) {
                case PIPE -> SpawnSpec.Stdout.PIPE;
                case INHERIT -> SpawnSpec.Stdout.INHERIT;
                case DISCARD -> SpawnSpec.Stdout.DISCARD;
            });
        }
        if (b.stderrFile() != null) {
            spec.stderrAppendTo(b.stderrFile().toString());
        } else {
            spec.stderr(toSpec(b.stderrMode()));
        }
        for (PipeDirection d : b.extraPipes()) {
            spec.extraPipe(d == PipeDirection.FROM_CHILD ? SpawnSpec.PipeDirection.CHILD_WRITES : SpawnSpec.PipeDirection.CHILD_READS);
        }
        return spec;
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
            throw new InvalidArgumentException(label + ": stdin is not a pipe: " + stdinWhere);
        }
        return stdin;
    }

    @Override
    public ByteSource stdout() {
        if (stdout == null) {
            throw new InvalidArgumentException(label + ": stdout is not a pipe: " + stdoutWhere);
        }
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
            lines = LineReader.of(stdout(), maxLineLength, charset, Math.max(readBufferLimit, maxLineLength));
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
        if (stdin != null && stdin == stdout) {
            // A pseudo-terminal: not shut down (that would write ^D), but closed once it has
            // reported its end. Never before the reaping: closing the master SIGHUPs the child.
            stdin.closeAtEndOfInput();
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
        if (stdout != null && stdout != stdin) { // a terminal is one stream for both
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
