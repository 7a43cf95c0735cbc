package io.dualpipe.process;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.process.internal.PosixChildProcess;

import java.nio.charset.Charset;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;

/**
 * Describes a child to start, in the spirit of {@link ProcessBuilder}: argv (no shell), working
 * directory, environment, where stdin, stdout and stderr go, extra pipes, process group or session, resource
 * limits, pipe and buffer sizes, and
 * the loop that serves it (the shared default loop when none is given).
 *
 * <p>Not thread-safe: configure it on one thread. {@link #start()} may be called repeatedly; each
 * call starts a new child with the settings of that moment.
 */
public final class ChildProcessBuilder {
    // This class is the public contract; the rules of three groups of settings live in their own
    // classes: where stdio goes (Redirects), the environment (EnvironmentEdits) and the sizes and
    // charset of the parent's side of the streams (StreamSizes).
    private final List<String> command;
    private Path directory;
    private final EnvironmentEdits environment = new EnvironmentEdits();
    private final Redirects redirects = new Redirects();
    private final List<PipeDirection> extraPipes = new ArrayList<>();
    private boolean newProcessGroup;
    private boolean newSession;
    private ResourceLimits limits;
    private boolean pseudoTerminal;
    private final StreamSizes sizes = new StreamSizes();
    private EventLoop loop;
    private Executor completeOn;

    ChildProcessBuilder(List<String> command) {
        InvalidArgumentException.requireNonNull("command", command);
        if (command.isEmpty()) {
            throw new InvalidArgumentException("command is empty: give at least the program");
        }
        for (int i = 0; i < command.size(); i++) {
            if (command.get(i) == null) {
                throw new InvalidArgumentException("command[" + i + "] is null");
            }
        }
        this.command = List.copyOf(command);
    }

    /**
     * The child's working directory; it must exist. Default: the parent's.
     *
     * @param dir the directory
     * @return this builder
     */
    public ChildProcessBuilder directory(Path dir) {
        this.directory = InvalidArgumentException.requireNonNull("directory", dir);
        return this;
    }

    /**
     * Starts the child with an empty environment (then add entries with {@link #environment(String, String)}).
     *
     * @return this builder
     */
    public ChildProcessBuilder clearEnvironment() {
        environment.clear();
        return this;
    }

    /**
     * Sets one variable (on top of the inherited environment unless cleared).
     *
     * @param name  the variable, non-empty, without {@code =}
     * @param value its value
     * @return this builder
     */
    public ChildProcessBuilder environment(String name, String value) {
        environment.put(name, value);
        return this;
    }

    /**
     * Removes one variable from what the child inherits.
     *
     * @param name the variable, non-empty, without {@code =}
     * @return this builder
     */
    public ChildProcessBuilder removeEnvironment(String name) {
        environment.remove(name);
        return this;
    }

    /**
     * Where stdin comes from. Default {@link StdinMode#PIPE}; any other choice makes
     * {@link ChildProcess#stdin()} and the writers fail with an InvalidArgumentException. Replaces
     * an earlier {@link #stdinFrom(Path)}.
     *
     * @param mode where stdin comes from
     * @return this builder
     */
    public ChildProcessBuilder stdin(StdinMode mode) {
        redirects.stdin(mode);
        return this;
    }

    /**
     * The child reads {@code file} as its stdin ({@code prog < file}). The file is opened by
     * {@link #start()} in the parent before the child exists, so a missing or unreadable file fails
     * the start with a {@link SpawnException} naming the file and the errno, and no child runs.
     *
     * @param file the file to read
     * @return this builder
     */
    public ChildProcessBuilder stdinFrom(Path file) {
        redirects.stdinFrom(file);
        return this;
    }

    /**
     * Where stdout goes. Default {@link StdoutMode#PIPE}; any other choice makes
     * {@link ChildProcess#stdout()}, the line readers and requests fail with an
     * InvalidArgumentException, and {@link ChildProcess#onDrained()} waits for the exit alone.
     * Replaces an earlier {@link #stdoutTo(Path)} or {@link #stdoutAppendTo(Path)}.
     *
     * @param mode where stdout goes
     * @return this builder
     */
    public ChildProcessBuilder stdout(StdoutMode mode) {
        redirects.stdout(mode);
        return this;
    }

    /**
     * The child writes its stdout to {@code file} ({@code prog > file}): created if missing,
     * truncated by {@link #start()} before the child runs. A file that cannot be opened fails the
     * start with a {@link SpawnException} naming it.
     *
     * @param file the file to write
     * @return this builder
     */
    public ChildProcessBuilder stdoutTo(Path file) {
        redirects.stdoutTo(file, false);
        return this;
    }

    /**
     * The child appends its stdout to {@code file} ({@code prog >> file}), created if missing.
     *
     * @param file the file to append to
     * @return this builder
     */
    public ChildProcessBuilder stdoutAppendTo(Path file) {
        redirects.stdoutTo(file, true);
        return this;
    }

    /**
     * Where stderr goes. Default {@link StderrMode#TAIL}: read continuously into a bounded tail, so
     * it can never stall the child; {@link StderrMode#PIPE} to read it yourself. Replaces an earlier
     * {@link #stderrAppendTo(Path)}.
     *
     * @param mode where stderr goes
     * @return this builder
     */
    public ChildProcessBuilder stderr(StderrMode mode) {
        redirects.stderr(mode);
        return this;
    }

    /**
     * Appends the child's stderr to {@code file} (created if missing).
     *
     * @param file the file to append to
     * @return this builder
     */
    public ChildProcessBuilder stderrAppendTo(Path file) {
        redirects.stderrAppendTo(file);
        return this;
    }

    /**
     * How many of the last stderr bytes a {@link StderrMode#TAIL} child keeps (see
     * {@link ChildProcess#stderrTail()}). Default 64 KiB; ignored by the other modes.
     *
     * @param bytes the tail's size, {@code > 0}
     * @return this builder
     */
    public ChildProcessBuilder stderrTail(int bytes) {
        redirects.stderrTail(bytes);
        return this;
    }

    /**
     * Adds a pipe beyond stdio: the first is the child's fd 3, the next fd 4, and so on. Reach the
     * parent's end with {@link ChildProcess#pipeFromChild(int)} or {@link ChildProcess#pipeToChild(int)}.
     *
     * @param direction which way the bytes flow
     * @return this builder
     */
    public ChildProcessBuilder extraPipe(PipeDirection direction) {
        extraPipes.add(InvalidArgumentException.requireNonNull("direction", direction));
        return this;
    }

    /**
     * Starts the child as the leader of a new process group, so signals can reach its descendants.
     *
     * @param value true for a new process group
     * @return this builder
     */
    public ChildProcessBuilder newProcessGroup(boolean value) {
        this.newProcessGroup = value;
        return this;
    }

    /**
     * Starts the child as the leader of a new session ({@code setsid}, as Python's
     * {@code start_new_session} and libuv's {@code detached}): its session id, process group id and
     * pid are equal, and it has no controlling terminal, so a terminal's hangup or ^C does not reach
     * it or its descendants. A session leader also leads its own process group, so
     * {@link ChildProcess#signal}, {@link ChildProcess#terminate} and {@link ChildProcess#close()} go
     * to the whole group, as with {@link #newProcessGroup(boolean)} (which this implies). Default false.
     *
     * <p>Needs POSIX_SPAWN_SETSID (glibc >= 2.26, musl, macOS >= 10.15, FreeBSD >= 13); a libc
     * without it fails {@link #start()} with a {@link SpawnException} (EINVAL) naming it.
     *
     * @param value true for a new session
     * @return this builder
     */
    public ChildProcessBuilder newSession(boolean value) {
        this.newSession = value;
        return this;
    }

    /**
     * Resource limits (CPU seconds, address space, open files, processes, file size) in force before
     * the program's first instruction; null (the default) inherits the JVM's. See
     * {@link ResourceLimits} for how they are applied (through a {@code /bin/sh} trampoline in the
     * same pid), what each does when hit, and cgroup v2 for limits over a whole tree of processes.
     * A limit that cannot be applied fails {@link #start()} with a {@link ResourceLimitException}
     * naming it, and no program runs.
     *
     * @param value the limits, or null for none
     * @return this builder
     */
    public ChildProcessBuilder limits(ResourceLimits value) {
        this.limits = value;
        return this;
    }

    /**
     * Runs the child on a pseudo-terminal instead of pipes, so that a program which block-buffers
     * its output when stdout is a pipe (C stdio, Python without {@code -u}, most programs we cannot
     * change) sees a terminal, flushes each line, and can be conversed with line by line; the same
     * idea as {@code script -qfc}, {@code unbuffer} or Python's pexpect. Default false.
     *
     * <p>What the child gets: fds 0 and 1 are the slave of a fresh pseudo-terminal, which is also
     * its controlling terminal ({@code tty} names it; the child leads a new session, hence also a
     * new process group, whatever {@link #newProcessGroup} says). stderr follows
     * {@link #stderr(StderrMode)}: {@link StderrMode#MERGE_WITH_STDOUT} puts it on the terminal too,
     * {@link StderrMode#TAIL} (the default) and {@link StderrMode#PIPE} keep it a separate pipe. The terminal starts in
     * canonical mode with ECHO off (what the parent writes is not read back) and ONLCR off (lines
     * end in {@code \n}, not {@code \r\n}); its window size is 0x0. Stdin and stdout must be left at
     * {@link StdinMode#PIPE}/{@link StdoutMode#PIPE}, or {@link #start()} throws an
     * InvalidArgumentException; pipelines refuse it too.
     *
     * <p>What the parent gets: {@link ChildProcess#stdin()} and {@link ChildProcess#stdout()} are one
     * stream over the terminal's master fd, which the line readers, {@code writeLine} and requests
     * use as for pipes, with the same threading rules (writes from any thread, reads served by the
     * loop). Bytes written go through the terminal's line discipline: control characters act (^C is
     * a SIGINT to the child, ^D ends input, ^Z stops it), so it is a channel for text, not binary
     * data, and in canonical mode a line longer than 4095 bytes is cut short by the kernel. A
     * program may change these modes itself (a shell with line editing turns echo back on).
     *
     * <p>End of input: a terminal cannot be half-closed, so {@code stdin().shutdownOutput()} writes
     * the terminal's EOF character (VEOF, ^D) after every queued write instead, twice if the last
     * byte written was not a newline (the first only completes the partial line). The child's
     * {@code read} then returns 0 and e.g. {@code cat} exits; later writes fail. End of output: once
     * the child and every process that inherited the terminal have exited, Linux reports EIO on the
     * master; that is taken as end of stream ({@code readLine()} gives null, {@link
     * ChildProcess#onDrained()} completes), and the master fd is closed once that end has been seen
     * and the child reaped, whichever comes last (closing it earlier would hang the terminal up and
     * SIGHUP a child that closed its stdio but has not exited yet).
     *
     * <p>Linux only (glibc >= 2.26 or musl, for POSIX_SPAWN_SETSID): elsewhere {@link #start()}
     * fails with a {@link SpawnException} (ENOSYS) naming the operating system.
     *
     * @param value true for a pseudo-terminal
     * @return this builder
     */
    public ChildProcessBuilder pseudoTerminal(boolean value) {
        this.pseudoTerminal = value;
        return this;
    }

    /**
     * Kernel pipe buffer size (F_SETPIPE_SZ); 1 MiB roughly doubled bulk throughput on Linux. 0 = the
     * default. Linux only: macOS pipes have no such setting (they grow by themselves up to 64 KiB),
     * so there it is ignored, and a DEBUG line says so once.
     *
     * @param bytes the size, {@code >= 0}; 0 for the kernel's default
     * @return this builder
     */
    public ChildProcessBuilder pipeBufferSize(int bytes) {
        sizes.pipeBufferSize(bytes);
        return this;
    }

    /**
     * Bytes read ahead of the consumer per output pipe before the loop stops reading it. Default 64 KiB.
     *
     * @param bytes the limit, {@code > 0}
     * @return this builder
     */
    public ChildProcessBuilder readBufferLimit(int bytes) {
        sizes.readBufferLimit(bytes);
        return this;
    }

    /**
     * stdin's backpressure marks: not writable above {@code high} queued bytes, writable again at {@code low}.
     *
     * @param low  the low water mark, 0 to {@code high}
     * @param high the high water mark, {@code > 0}
     * @return this builder
     */
    public ChildProcessBuilder writeWaterMarks(int low, int high) {
        sizes.writeWaterMarks(low, high);
        return this;
    }

    /**
     * The longest line the line readers accept before reporting a LineTooLongException. Default 64 KiB.
     *
     * @param bytes the limit, {@code > 0}
     * @return this builder
     */
    public ChildProcessBuilder maxLineLength(int bytes) {
        sizes.maxLineLength(bytes);
        return this;
    }

    /**
     * Charset of lines read and written. Default UTF-8.
     *
     * @param cs the charset
     * @return this builder
     */
    public ChildProcessBuilder charset(Charset cs) {
        sizes.charset(cs);
        return this;
    }

    /**
     * The loop to serve the child. Default {@link EventLoop#shared()}.
     *
     * @param eventLoop the loop, not null
     * @return this builder
     */
    public ChildProcessBuilder loop(EventLoop eventLoop) {
        this.loop = InvalidArgumentException.requireNonNull("loop", eventLoop);
        return this;
    }

    /**
     * Completes the futures the child hands out itself ({@link ChildProcess#onExit()},
     * {@link ChildProcess#onDrained()}, {@link ChildProcess#terminate}, {@link ChildProcess#readLine()},
     * {@link ChildProcess#writeLine}, the {@code request} methods) on {@code executor} (a Vert.x
     * context, a virtual-thread executor) instead of the loop thread, so code chained on them may
     * block or use its own thread's state, as {@link io.dualpipe.pool.ChildPoolBuilder#completeOn}
     * does for a pool. As with any {@code CompletableFuture}, a stage attached to a future that has
     * already completed runs on the thread attaching it, and a thread waiting in {@code get()} or
     * {@code join()} on that same future may run its stages too. The objects the child hands out
     * ({@link ChildProcess#stdin()}, {@link ChildProcess#lines()}, {@link ChildProcess#conversation()}, ...)
     * keep completing theirs on the loop thread. An executor that rejects a completion gets it run
     * on the thread that completed the source instead. Default: none, the loop thread.
     *
     * @param executor the executor, not null
     * @return this builder
     */
    public ChildProcessBuilder completeOn(Executor executor) {
        this.completeOn = InvalidArgumentException.requireNonNull("executor", executor);
        return this;
    }

    /**
     * Starts the child.
     *
     * @return the running child
     * @throws SpawnException when it cannot start: missing program, not executable, bad directory,
     *         a stdin, stdout or stderr file that cannot be opened
     */
    public ChildProcess start() {
        return PosixChildProcess.start(this);
    }

    /**
     * Starts the child; a failure to start fails the returned future (with a {@link SpawnException}).
     *
     * @return an already completed future: the running child, or the failure to start it
     */
    public LoopFuture<ChildProcess> spawn() {
        try {
            return LoopFuture.completed(start());
        } catch (RuntimeException e) {
            return LoopFuture.failed(e);
        }
    }

    // ---- read by the implementation ----
    /** {@return the program and its arguments (an immutable list)} */
    public List<String> command() {
        return command;
    }

    /** {@return the working directory, or null for the parent's} */
    public Path directory() {
        return directory;
    }

    /**
     * {@return the environment to pass, or null to inherit the parent's unchanged} The map is the
     * builder's own, not a copy.
     */
    public Map<String, String> environment() {
        return environment.map();
    }

    /** {@return where stdin comes from, unless {@link #stdinFile()} is set} */
    public StdinMode stdinMode() {
        return redirects.stdinMode();
    }

    /** {@return the file stdin reads, or null; it takes precedence over {@link #stdinMode()}} */
    public Path stdinFile() {
        return redirects.stdinFile();
    }

    /** {@return where stdout goes, unless {@link #stdoutFile()} is set} */
    public StdoutMode stdoutMode() {
        return redirects.stdoutMode();
    }

    /** {@return the file stdout writes, or null; it takes precedence over {@link #stdoutMode()}} */
    public Path stdoutFile() {
        return redirects.stdoutFile();
    }

    /** {@return true when {@link #stdoutFile()} is appended to rather than truncated} */
    public boolean stdoutAppend() {
        return redirects.stdoutAppend();
    }

    /** {@return where stderr goes, unless {@link #stderrFile()} is set} */
    public StderrMode stderrMode() {
        return redirects.stderrMode();
    }

    /** {@return the file stderr is appended to, or null} */
    public Path stderrFile() {
        return redirects.stderrFile();
    }

    /** {@return the size of the stderr tail; see {@link #stderrTail(int)}} */
    public int stderrTailBytes() {
        return redirects.stderrTailBytes();
    }

    /** {@return the extra pipes' directions, for child fds 3, 4, ... (a copy)} */
    public List<PipeDirection> extraPipes() {
        return List.copyOf(extraPipes);
    }

    /**
     * {@return true when the child leads its own process group: asked for, or implied by
     * {@link #newSession()}}
     */
    public boolean newProcessGroup() {
        return newProcessGroup || newSession;
    }

    /** {@return whether the child leads a new session; see {@link #newSession(boolean)}} */
    public boolean newSession() {
        return newSession;
    }

    /** {@return the resource limits, or null for none; see {@link #limits(ResourceLimits)}} */
    public ResourceLimits limits() {
        return limits;
    }

    /** {@return whether the child runs on a pseudo-terminal; see {@link #pseudoTerminal(boolean)}} */
    public boolean pseudoTerminal() {
        return pseudoTerminal;
    }

    /** {@return the kernel pipe buffer size, 0 for the default} */
    public int pipeBufferSize() {
        return sizes.pipeBufferSize();
    }

    /** {@return the bytes read ahead of the consumer per output pipe} */
    public int readBufferLimit() {
        return sizes.readBufferLimit();
    }

    /** {@return stdin's high water mark} */
    public int highWaterMark() {
        return sizes.highWaterMark();
    }

    /** {@return stdin's low water mark} */
    public int lowWaterMark() {
        return sizes.lowWaterMark();
    }

    /** {@return the longest line the line readers accept} */
    public int maxLineLength() {
        return sizes.maxLineLength();
    }

    /** {@return the charset of lines read and written} */
    public Charset charset() {
        return sizes.charset();
    }

    /** {@return the executor of {@link #completeOn}, or null} */
    public Executor completionExecutor() {
        return completeOn;
    }

    /** {@return the loop set, or {@link EventLoop#shared()}} */
    public EventLoop loop() {
        return loop != null ? loop : EventLoop.shared();
    }
}
