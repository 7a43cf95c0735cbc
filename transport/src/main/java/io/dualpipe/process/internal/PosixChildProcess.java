package io.dualpipe.process.internal;

import io.dualpipe.core.ByteSink;
import io.dualpipe.core.ByteSource;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.FdChannel;
import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.LoopClosedException;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.internal.Durations;
import io.dualpipe.core.internal.FdStream;
import io.dualpipe.core.internal.Futures;
import io.dualpipe.core.internal.LazyLogger;
import io.dualpipe.core.internal.LoopFutures;
import io.dualpipe.core.internal.SingleThreadEventLoop;
import io.dualpipe.core.line.Conversation;
import io.dualpipe.core.line.LineReader;
import io.dualpipe.core.line.ReplyReader;
import io.dualpipe.process.ChildExitedException;
import io.dualpipe.process.ChildProcess;
import io.dualpipe.process.ChildProcessBuilder;
import io.dualpipe.process.ExitStatus;
import io.dualpipe.process.PipeDirection;
import io.dualpipe.process.StderrMode;

import java.nio.channels.SelectionKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/**
 * A child spawned by {@link Spawner}: its pipes are {@link FdStream}s on one loop, and its exit is
 * watched, reaped and signalled by an {@link ExitWatcher}. {@link ChildLauncher} starts it.
 *
 * <p>Once reaped, the pipes towards the child are shut down (see {@link #releaseInputs()}), so a
 * child nobody closes leaks nothing. Futures handed out are the caller's own copies.
 */
public final class PosixChildProcess implements ChildProcess {
    private static final LazyLogger LOG = new LazyLogger(PosixChildProcess.class);

    private final SingleThreadEventLoop loop;
    private final int pid;
    private final String label;
    private final FdStream stdin;
    private final FdStream stdout;
    private final FdStream stderr;
    /** Reads {@link #stderr} when it is {@link StderrMode#TAIL}; null otherwise. */
    private final StderrTail tail;
    /** Where stdin/stdout are when they are not pipes ("it reads /dev/null"), for the error messages. */
    private final String stdinWhere;
    private final String stdoutWhere;
    private final Map<Integer, FdStream> extras;
    private final ExitWatcher watcher;
    private volatile LoopFuture<ExitStatus> drained;
    /** Completes the futures this child hands out on the builder's {@link ChildProcessBuilder#completeOn} executor. */
    private final Handoff handoff;
    /** Lines, requests and their futures; a request failed by the end of stdout becomes a {@link ChildExitedException}. */
    private final ChildLines lines;

    /** {@code owned} records each fd of {@code s} as it is taken over, for {@link ChildLauncher}'s cleanup. */
    PosixChildProcess(ChildProcessBuilder b, Spawned s, OwnedFds owned, String stdinWhere, String stdoutWhere) {
        this.loop = SingleThreadEventLoop.of(b.loop());
        this.stdinWhere = stdinWhere;
        this.stdoutWhere = stdoutWhere;
        this.pid = s.pid();
        this.label = "pid " + pid + " (" + b.command().get(0) + ")";
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
        this.tail = stderr != null && b.stderrMode() == StderrMode.TAIL && b.stderrFile() == null
                ? new StderrTail(b.stderrTailBytes()) : null;
        Map<Integer, FdStream> ex = new TreeMap<>();
        List<PipeDirection> dirs = b.extraPipes();
        for (int i = 0; i < dirs.size(); i++) {
            int childFd = 3 + i;
            int fd = s.extraFd(i);
            ex.put(childFd, dirs.get(i) == PipeDirection.FROM_CHILD
                    ? owned.source(loop, fd, label + " fd " + childFd, b.readBufferLimit())
                    : owned.sink(loop, fd, label + " fd " + childFd, b.highWaterMark(), b.lowWaterMark()));
        }
        this.extras = ex.isEmpty() ? Map.of() : ex; // most children have none: no TreeMap kept per child
        FdChannel pidfd = s.pidfd() >= 0 ? owned.channel(s.pidfd(), SelectionKey.OP_READ) : null;
        this.watcher = new ExitWatcher(loop, pid, b.newProcessGroup(), label, pidfd, this::releaseInputs);
        this.handoff = new Handoff(b.completionExecutor());
        this.lines = new ChildLines(this, b.maxLineLength(), b.charset(), b.readBufferLimit(), handoff,
                new DeathNotice(loop, pid, label, watcher, tail));
        // Every registration in one task: one hop and at most one wakeup per spawn, not one per pipe.
        List<FdStream> all = streams();
        try {
            loop.execute(() -> {
                all.forEach(FdStream::startNow);
                if (tail != null) {
                    stderr.listen(tail); // before any byte is read: the tail is stderr's one consumer
                }
                watcher.startNow();
            });
        } catch (LoopClosedException e) {
            watcher.abandon(); // the launcher reaps the child; the loop's close hook must not try again
            throw e; // nothing was queued: the launcher closes every channel, still owned
        }
        // Queued: the streams own their channels now, and the loop (or the watcher) closes the pidfd.
        all.forEach(st -> owned.handedOver(st.channel()));
        if (pidfd != null) {
            owned.handedOver(pidfd);
        }
    }

    /** Spawns the child described by {@code b}; fails with a SpawnException and leaks nothing. */
    public static PosixChildProcess start(ChildProcessBuilder b) {
        return ChildLauncher.start(b);
    }

    /** Starts {@code a | b | c} on the first stage's loop; see {@link ChildLauncher#startPipeline}. */
    public static List<PosixChildProcess> startPipeline(List<ChildProcessBuilder> stages) {
        return ChildLauncher.startPipeline(stages);
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
        if (tail != null) {
            throw new InvalidArgumentException(label + ": stderr is not a pipe of yours: it is read into its tail"
                    + " (StderrMode.TAIL, the default; see stderrTail()); ask the builder for stderr(StderrMode.PIPE)"
                    + " to read it yourself");
        }
        if (stderr == null) {
            throw new InvalidArgumentException(label + ": stderr is not a pipe (it was merged, inherited, discarded or sent to a file)");
        }
        return stderr;
    }

    @Override
    public String stderrTail() {
        return tail == null ? "" : tail.text();
    }

    /** The tail reading stderr in {@link StderrMode#TAIL}, or null: for the pools, which quote it too. */
    public StderrTail tailBuffer() {
        return tail;
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

    // ---- lines: see ChildLines ----

    @Override
    public LineReader lines() {
        return lines.lines();
    }

    @Override
    public LineReader errorLines() {
        return lines.errorLines();
    }

    @Override
    public LoopFuture<Void> writeLine(String line) {
        return lines.writeLine(line);
    }

    @Override
    public Conversation conversation() {
        return lines.conversation();
    }

    @Override
    public LoopFuture<String> readLine() {
        return lines.readLine();
    }

    @Override
    public LoopFuture<String> request(String line) {
        return lines.request(line, null, null);
    }

    @Override
    public LoopFuture<String> request(String line, Duration timeout) {
        return lines.request(line, null, timeout);
    }

    @Override
    public <T> LoopFuture<T> request(String line, ReplyReader<T> reader) {
        return lines.request(line, InvalidArgumentException.requireNonNull("reader", reader), null);
    }

    // ---- exit ----

    @Override
    public LoopFuture<ExitStatus> onExit() {
        return handoff.of(() -> LoopFutures.copyOf(watcher.exit())); // what a caller does to it must not change what others see
    }

    @Override
    public LoopFuture<ExitStatus> onDrained() {
        return handoff.of(() -> LoopFutures.copyOf(drained()));
    }

    /** The library's own drained future, made on first use; never handed out. */
    private LoopFuture<ExitStatus> drained() {
        LoopFuture<ExitStatus> d = drained;
        if (d == null) {
            synchronized (this) {
                d = drained;
                if (d == null) {
                    List<CompletableFuture<?>> all = new ArrayList<>();
                    all.add(watcher.exit());
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
                            f.completeExceptionally(Futures.unwrap(e));
                        } else {
                            f.complete(watcher.exit().join());
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
        return !watcher.isReaped();
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

    @Override
    public boolean signal(int signal) {
        return watcher.signal(signal);
    }

    @Override
    public LoopFuture<ExitStatus> terminate(Duration grace) {
        InvalidArgumentException.requireNonNull("grace", grace);
        if (grace.isNegative()) {
            throw new InvalidArgumentException("grace < 0: " + grace);
        }
        if (signal(ProcessControl.SIGTERM)) {
            watcher.scheduleKill(Durations.saturatedNanos(grace));
        }
        return onExit();
    }

    @Override
    public void close() {
        // Kill before closing the pipes: a child that ends at end of input (cat, sort) would
        // otherwise often exit on its own first, and close() promises a killed child.
        try {
            signal(ProcessControl.SIGKILL);
        } catch (RuntimeException e) {
            // e.g. EPERM from killpg when a member of its group changed uid: the pipes still close
            LOG.get().warn("{}: could not kill it on close: {}", label, e.getMessage());
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
    public String toString() {
        if (isAlive()) {
            return "ChildProcess[" + label + "]";
        }
        // getNow would throw for an exit future failed by a loop close; describe it instead.
        String how;
        LoopFuture<ExitStatus> exit = watcher.exit();
        if (!exit.isDone()) {
            how = "reaped";
        } else if (exit.isCompletedExceptionally()) {
            how = "status unknown: " + exit.handle((v, e) -> Futures.unwrap(e)).join();
        } else {
            how = "exited " + exit.join();
        }
        return "ChildProcess[" + label + ", " + how + "]";
    }
}
