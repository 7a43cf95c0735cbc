package io.dualpipe;

import io.dualpipe.core.ChannelClosedException;
import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.line.LineDecoder;
import io.dualpipe.process.ChildProcess;
import io.dualpipe.process.ChildProcessBuilder;
import io.dualpipe.process.ExitStatus;
import io.dualpipe.process.JavaChild;
import io.dualpipe.process.StderrMode;
import io.dualpipe.process.StdoutMode;

import java.nio.charset.Charset;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A child process with a small <b>blocking</b> API for scripts and tests, mirroring the Python
 * DualPipe: {@code write}, {@code read(size, timeout)}, {@code readline(timeout)}, {@code close()}.
 * Underneath it is an asynchronous {@link ChildProcess} whose pipes an event loop serves, so the
 * parent never deadlocks against the child's pipe buffers; every wait is bounded by a timeout.
 *
 * <pre>{@code
 * DualPipe pipe = DualPipe.spawn(UppercaseChild.class);   // a Java class's main in a child JVM
 * pipe.write("Hello, world!\n");
 * String reply = pipe.readline(Duration.ofSeconds(5));    // "HELLO, WORLD!"
 * DualPipe.Result r = pipe.close();                       // pid and exit status: "pid 4242, exit 0"
 * }</pre>
 *
 * <p>{@code DualPipe.spawn("bc", "-q")} does the same with any program (argv, no shell).
 *
 * <p><b>Reading.</b> {@link #read} and {@link #readline} share one buffer of what the child wrote,
 * so they may be mixed. Both wait at most their timeout: {@link Duration#ZERO} takes only what has
 * already arrived. At the end of the child's output {@code read} returns an empty array and
 * {@code readline} returns {@code null}, again on every later call. When the time is up first, they
 * throw {@link WaitTimeoutException} and keep whatever did arrive (part of a line, say) for the next
 * call: unlike the Python original, a timeout and the end of output are never confused, and a
 * partial line is never handed out as if it were complete.
 *
 * <p><b>Polling.</b> {@link #poll(int)} and {@link #pollLine()} never wait and never time out: they
 * return what has arrived (an empty array, {@code null} when nothing has), and
 * {@link #isEndOfStream()} says when nothing more will come. {@link #readAll(int, Duration)} reads to
 * the end of the output, bounded in bytes and time.
 *
 * <p><b>Writing.</b> {@link #write} never blocks and never writes partially: the bytes are queued and
 * the loop feeds them to the child as it reads. So writing can never deadlock against a child that is
 * itself blocked writing output nobody has read yet. The queue is in memory, bounded by
 * {@link #MAX_QUEUED_BYTES}: past that, {@code write} throws a {@link io.dualpipe.core.DualPipeException}
 * naming the backlog rather than growing the heap; {@link #flush} waits, bounded, until the child has
 * taken the queue. A write the child can no longer receive (it exited or
 * closed stdin) fails: that call, a later {@code write}, or {@code flush} throws
 * {@link io.dualpipe.core.BrokenPipeException}.
 *
 * <p><b>stderr.</b> {@link #spawn(String...)} and {@link #spawn(Class, String...)} let the child
 * write straight to this process's stderr, as the forked child of the Python original does. With
 * {@link #spawn(ChildProcessBuilder)} it goes where the builder says; if that is a pipe (the
 * builder's default), read it through {@code process().errorLines()}, or a chatty child fills it and
 * stalls.
 *
 * <p><b>Threading.</b> Thread-safe: reads are serialised with each other (a blocking read's timeout
 * covers its wait for another thread's read too), writes are ordered. Do not
 * call the blocking methods on an event-loop thread: they fail there with
 * {@link io.dualpipe.core.BlockingOnLoopException} instead of deadlocking. The polls ({@code poll},
 * {@code pollLine}, {@code isEndOfStream}) never wait for the child. This object owns the
 * child's stdout; do not read {@code process().stdout()} or {@code process().lines()} as well.
 *
 * <p><b>Buffers.</b> {@code write(byte[])} copies the array, so it is the caller's again on return;
 * arrays returned by {@code read}, {@code poll} and {@code readAll} belong to the caller.
 *
 * <p><b>Not {@link AutoCloseable}:</b> {@link #close()} returns the {@link Result} as the Python
 * {@code close()} returns {@code (pid, status)}, which {@code AutoCloseable.close()} cannot. Call it in
 * a {@code finally}.
 */
public final class DualPipe {
    /** How long {@link #close()} lets the child exit on its own after its stdin is closed. */
    public static final Duration DEFAULT_CLOSE_TIMEOUT = Duration.ofSeconds(10);
    /** Bytes that may wait for the child to read them before {@code write} refuses more: 64 MiB. */
    public static final long MAX_QUEUED_BYTES = 64L * 1024 * 1024;
    /** Bytes {@link #readAll(Duration)} takes before it fails with a ReadLimitExceededException: 64 MiB. */
    public static final int DEFAULT_READ_ALL_LIMIT = 64 * 1024 * 1024;
    /** Between SIGTERM and SIGKILL when {@code close} has to stop the child. */
    public static final Duration KILL_GRACE = Duration.ofSeconds(2);

    private final ChildProcess child;
    private final Charset charset;
    private final String label;
    private final Receiver receiver; // the read half: its lock, buffer and deadlines
    private final Sender sender; // the write half: its queue bound, ordering and first failure
    private final Object closeLock = new Object();
    private volatile boolean closing;
    private volatile Result result; // written under closeLock

    private DualPipe(ChildProcess child, Charset charset, int maxLineLength, String program) {
        this.child = child;
        this.charset = charset;
        this.label = "pid " + child.pid() + " (" + program + ")";
        this.receiver = new Receiver(child.stdout(), label, maxLineLength, charset, () -> closing);
        this.sender = new Sender(child, label, () -> closing);
    }

    /**
     * What {@link #close()} returns: the child's pid and how it ended. Immutable.
     *
     * @param pid    the child's process id
     * @param status how it ended
     */
    public record Result(int pid, ExitStatus status) {
        @Override
        public String toString() {
            return "pid " + pid + ", " + status;
        }
    }

    // ---- spawning ----

    /**
     * Starts {@code command} (argv; argv[0] searched in PATH; no shell) with its stderr on ours.
     * Inherited rather than {@link StderrMode#TAIL} (the builder's default): this facade serves
     * scripts, whose user expects to see a child's warnings as a shell shows them, and an inherited
     * stderr can never stall the child either. {@link #spawn(ChildProcessBuilder)} keeps what its
     * builder says.
     *
     * @param command the program and its arguments
     * @return the running child's pipe
     * @throws io.dualpipe.process.SpawnException when it cannot start
     */
    public static DualPipe spawn(String... command) {
        return spawn(ChildProcess.builder(command).stderr(StderrMode.INHERIT));
    }

    /**
     * Runs {@code mainClass}'s {@code main(args)} in a child JVM (see {@link JavaChild}: this JVM's
     * java and class path), with its stderr on ours. The analogue of Python's
     * {@code DualPipe(target_func, *args)}.
     *
     * @param mainClass a class with a {@code public static void main(String[])}
     * @param args      the arguments passed to {@code main}
     * @return the running child's pipe
     * @throws io.dualpipe.process.SpawnException when it cannot start
     */
    public static DualPipe spawn(Class<?> mainClass, String... args) {
        return spawn(JavaChild.builder(mainClass, args).stderr(StderrMode.INHERIT));
    }

    /**
     * Starts the child {@code builder} describes: cwd, environment, process group, stderr, loop.
     *
     * @param builder the child's description; its charset and {@code maxLineLength} apply to
     *                {@link #readline} and {@link #write(String)}
     * @return the running child's pipe
     * @throws io.dualpipe.process.SpawnException when it cannot start
     * @throws InvalidArgumentException before any child starts, when stdout is not a pipe or the
     *     charset or {@code maxLineLength} cannot serve {@link #readline} (e.g. UTF-16)
     */
    public static DualPipe spawn(ChildProcessBuilder builder) {
        InvalidArgumentException.requireNonNull("builder", builder);
        // Refused before the start: failing in the constructor would leave a started child running.
        if (builder.stdoutMode() != StdoutMode.PIPE || builder.stdoutFile() != null) {
            throw new InvalidArgumentException("DualPipe reads the child's stdout, but the builder sends it to "
                    + (builder.stdoutFile() != null ? "file '" + builder.stdoutFile() + "'" : builder.stdoutMode()));
        }
        new LineDecoder(builder.maxLineLength(), builder.charset()); // checks them as readline's decoder will
        ChildProcess child = builder.start();
        Path program = Path.of(builder.command().get(0)).getFileName();
        return new DualPipe(child, builder.charset(), builder.maxLineLength(), program == null ? "?" : program.toString());
    }

    /** {@return the child's process id} */
    public int pid() {
        return child.pid();
    }

    /** {@return the asynchronous child underneath: signals, {@code onExit()}, stderr, extra pipes} */
    public ChildProcess process() {
        return child;
    }

    // ---- writing ----

    /**
     * Queues {@code data} for the child's stdin; returns at once (see the class comment).
     *
     * @param data the bytes, copied: the array is the caller's again on return
     * @throws io.dualpipe.core.BrokenPipeException when the child can no longer receive input (found
     *         by this write or an earlier one)
     * @throws ChannelClosedException after {@link #close()}
     * @throws io.dualpipe.core.DualPipeException when more than {@link #MAX_QUEUED_BYTES} already wait
     */
    public void write(byte[] data) {
        InvalidArgumentException.requireNonNull("data", data);
        sender.send(data.clone());
    }

    /**
     * Queues {@code text}, encoded in the builder's charset (UTF-8 by default). No newline is added.
     *
     * @param text the text
     * @throws io.dualpipe.core.BrokenPipeException as {@link #write(byte[])}
     */
    public void write(String text) {
        InvalidArgumentException.requireNonNull("text", text);
        sender.send(text.getBytes(charset));
    }

    /**
     * Queues {@code line} and a newline.
     *
     * @param line the line, without newline
     * @throws io.dualpipe.core.BrokenPipeException as {@link #write(byte[])}
     */
    public void writeLine(String line) {
        InvalidArgumentException.requireNonNull("line", line);
        sender.send((line + "\n").getBytes(charset));
    }

    /**
     * Waits until the child has taken every byte written so far (they are in the pipe, not
     * necessarily read yet).
     *
     * @param timeout the longest wait, {@code >= 0}
     * @throws WaitTimeoutException when it has not within {@code timeout}: the child is not reading
     * @throws io.dualpipe.core.BrokenPipeException when the child can no longer receive them
     */
    public void flush(Duration timeout) {
        sender.flush(timeout);
    }

    // ---- reading ----

    /**
     * Between 1 and {@code size} bytes of the child's output, as soon as any are there; an empty
     * array at the end of its output.
     *
     * @param size    the most bytes to return, {@code > 0}
     * @param timeout the longest wait, {@code >= 0}; {@link Duration#ZERO} takes only what is there
     * @return the bytes, the caller's; empty at the end of the output
     * @throws WaitTimeoutException when no byte came within {@code timeout}
     * @throws ChannelClosedException after {@link #close()}
     */
    public byte[] read(int size, Duration timeout) {
        return receiver.read(size, timeout);
    }

    /**
     * The next line of the child's output without its terminator (LF or CRLF), decoded in the
     * builder's charset; {@code null} at the end of its output. A last line without a newline is
     * returned once the output ends.
     *
     * @param timeout the longest wait, {@code >= 0}; {@link Duration#ZERO} takes only what is there
     * @return the line, or null at the end of the output
     * @throws WaitTimeoutException when no complete line came within {@code timeout}; the part that
     *     came is kept for the next call
     * @throws io.dualpipe.core.line.LineTooLongException once for a line over the builder's
     *     {@code maxLineLength} (64 KiB by default), which is dropped through its newline
     * @throws ChannelClosedException after {@link #close()}
     */
    public String readline(Duration timeout) {
        return receiver.readLine(timeout);
    }

    /**
     * Whatever of the child's output has arrived, at most {@code maxBytes} bytes, without waiting: the
     * Python {@code read()} without a timeout in a polling loop. An empty array means "nothing now",
     * <b>and</b> also comes at the end of the output; {@link #isEndOfStream()} tells the two apart.
     * Never throws {@link WaitTimeoutException}. Shares the buffer of {@link #read} and
     * {@link #readline}.
     *
     * <pre>{@code
     * while (!pipe.isEndOfStream()) {
     *     byte[] b = pipe.poll(4096);   // possibly empty
     *     ...                           // other work between polls
     * }
     * }</pre>
     *
     * <p>"Without waiting" means for the child: if another thread is inside a blocking read of this
     * pipe, the call waits for that one to return, as reads are serialised; on an event-loop thread,
     * which that read may need, it throws {@link io.dualpipe.core.BlockingOnLoopException} instead.
     *
     * @param maxBytes the most bytes to return, {@code > 0}
     * @return the bytes that have arrived, the caller's; possibly empty
     * @throws ChannelClosedException after {@link #close()}
     * @throws io.dualpipe.core.DualPipeException the error that ended the output, if reading it failed
     */
    public byte[] poll(int maxBytes) {
        return receiver.poll(maxBytes);
    }

    /**
     * A complete line that has already arrived, without its terminator, or {@code null} if none has;
     * never waits. At the end of the output a last line without a newline counts as complete; after
     * that it returns {@code null} again, and {@link #isEndOfStream()} is true. A partial line stays
     * buffered for the next call. Shares the buffer of {@link #read} and {@link #readline}.
     *
     * @return the line, or null when no complete line is there
     * @throws io.dualpipe.core.line.LineTooLongException once for a line over the builder's
     *     {@code maxLineLength}, as {@link #readline} does
     * @throws ChannelClosedException after {@link #close()}
     */
    public String pollLine() {
        return receiver.pollLine();
    }

    /**
     * True once the child's output has ended and every byte of it has been handed out, so that
     * {@link #poll} returns only empty arrays and {@link #pollLine} only {@code null} from then on.
     * Never waits (beyond the read lock, as {@link #poll}).
     *
     * @return true at the end of the output, once it has all been handed out
     * @throws ChannelClosedException after {@link #close()}
     */
    public boolean isEndOfStream() {
        return receiver.atEnd();
    }

    /**
     * {@link #readAll(int, Duration)} with at most {@link #DEFAULT_READ_ALL_LIMIT} bytes.
     *
     * @param timeout the longest wait for the end of the output, {@code >= 0}
     * @return the rest of the output, the caller's
     */
    public byte[] readAll(Duration timeout) {
        return readAll(DEFAULT_READ_ALL_LIMIT, timeout);
    }

    /**
     * The rest of the child's output, up to its end, as one array: what Python's
     * {@code communicate()} returns as stdout. Bytes already buffered by {@link #read} or
     * {@link #readline} come first. It does not close stdin: a child that reads to its end of input
     * (a filter, {@code cat}) finishes only after {@code process().stdin().shutdownOutput()}. The
     * exit status then comes from {@link #close()}.
     *
     * @param maxBytes the most bytes the rest of the output may hold, {@code > 0}
     * @param timeout  the longest wait for the end of the output, {@code >= 0}
     * @return the rest of the output, the caller's
     * @throws WaitTimeoutException when the output has not ended within {@code timeout}; what came is
     *     kept for the next call
     * @throws io.dualpipe.core.ReadLimitExceededException when more than {@code maxBytes} bytes come
     *     before the end: reading stops there (the child then blocks once its pipe is full), and what
     *     came stays buffered for {@link #read}; at most {@code maxBytes} plus 64 KiB are held
     * @throws ChannelClosedException after {@link #close()}
     */
    public byte[] readAll(int maxBytes, Duration timeout) {
        return receiver.readAll(maxBytes, timeout);
    }

    // ---- closing ----

    /**
     * {@link #close(Duration)} with {@link #DEFAULT_CLOSE_TIMEOUT}.
     *
     * @return the pid and the exit status
     */
    public Result close() {
        return close(DEFAULT_CLOSE_TIMEOUT);
    }

    /**
     * Closes the child's stdin (after the bytes still queued), waits up to {@code timeout} for it to
     * exit, and if it has not, sends SIGTERM, then SIGKILL after {@link #KILL_GRACE}. Output nobody
     * read is discarded meanwhile, so a child blocked writing it can still exit. Then every pipe is
     * closed. Idempotent: later calls return the same result.
     *
     * @param timeout how long the child may take to exit on its own, {@code >= 0}
     * @return the pid and the exit status, e.g. {@code exit 0}, or {@code signal 15 (SIGTERM)} for a
     *     child that had to be stopped
     * @throws WaitInterruptedException when interrupted; the child is killed before this is thrown
     * @throws io.dualpipe.core.BlockingOnLoopException on an event-loop thread while the child runs,
     *     before anything is closed
     */
    public Result close(Duration timeout) {
        Waits.check(timeout);
        Result done = result;
        if (done != null) {
            return done;
        }
        if (!child.onExit().isDone()) { // a loop-thread callback of onExit() may still close
            Waits.requireNotOnLoop("close() of " + label);
        }
        synchronized (closeLock) {
            if (result != null) {
                return result;
            }
            closing = true;
            try {
                ExitStatus status = Stopper.stop(child, timeout, label);
                result = new Result(child.pid(), status);
                return result;
            } finally {
                child.close(); // closes the pipes; kills the child only if it is somehow still running
            }
        }
    }

    @Override
    public String toString() {
        return "DualPipe[" + label + (closing ? ", closed" : "") + "]";
    }
}
