package io.dualpipe.process;

import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.LoopFuture;

import java.time.Duration;
import java.util.List;

/**
 * The common one-shot job in one call: start a command, feed it some input, collect its stdout
 * (bounded) and the tail of its stderr, and complete with its {@link RunResult} once it has exited
 * and both streams have ended, or fail typed.
 *
 * <pre>{@code
 * RunResult r = Command.of("sort").input("b\na\n").timeout(Duration.ofSeconds(5))
 *         .maxOutput(1 << 20).checkExit(true).run().get();
 * r.stdoutText(); // "a\nb\n"
 * }</pre>
 *
 * <p><b>Failures</b>, all through the future, never thrown by {@link #run()}: a
 * {@link SpawnException} when the child cannot start; a {@link CommandTimeoutException} when the
 * timeout passes first; an {@link OutputLimitException} when stdout exceeds {@code maxOutput}
 * (unless {@link #truncateOutput(boolean) truncation} was asked for); a {@link NonZeroExitException}
 * with {@link #checkExit(boolean) checkExit} when it ends unsuccessfully. The last three carry the
 * output read so far and the stderr tail ({@link CommandException#result()}).
 *
 * <p><b>The whole group.</b> The child is started as the leader of its own process group (the
 * builder's {@code newProcessGroup} is set to true unless it asks for {@code newSession}), so a
 * timeout or an output overrun kills it <em>and</em> everything it started (SIGKILL to the group),
 * closes the pipes and reaps the child before the future fails: no process of the group and no
 * zombie stays behind. Without a timeout, a descendant that keeps stdout or stderr open after the
 * child exited keeps the run waiting, as {@code $(cmd)} would in a shell: set a timeout for
 * commands you do not trust. After a success, processes that left the group's pipes are not
 * touched.
 *
 * <p><b>Streams.</b> stdin gets the input, then end of file (no input: end of file at once), when
 * it is a pipe; stdout must be a pipe; stderr is read continuously into a ring of the last
 * {@code stderrTail} bytes when it is a pipe (so a chatty child never stalls on it; with
 * {@link StderrMode#TAIL}, the default, the child's own tail is quoted, so the builder's
 * {@code stderrTail} bounds it too), and is left
 * alone otherwise (merged into stdout, inherited, discarded, a file).
 *
 * <p><b>Threading.</b> Configure it on one thread; {@link #run()} may be called repeatedly, each
 * call starting a new child. The future completes on the builder's loop thread; blocking on it
 * from that thread fails fast. Memory is bounded by {@code maxOutput + stderrTail} per run.
 */
public final class Command {
    private final ChildProcessBuilder builder;
    private byte[] input;
    private String inputText;
    private Duration timeout;
    private int maxOutput = 16 << 20;
    private boolean truncateOutput;
    private int stderrTail = 64 << 10;
    private boolean checkExit;

    private Command(ChildProcessBuilder builder) {
        this.builder = InvalidArgumentException.requireNonNull("builder", builder);
    }

    /**
     * A command for {@code argv} (argv[0] searched in PATH; no shell).
     *
     * @param argv the program and its arguments
     * @return a command with the defaults
     */
    public static Command of(String... argv) {
        return new Command(ChildProcess.builder(argv));
    }

    /**
     * A command for {@code argv} (argv[0] searched in PATH; no shell).
     *
     * @param argv the program and its arguments
     * @return a command with the defaults
     */
    public static Command of(List<String> argv) {
        return new Command(ChildProcess.builder(argv));
    }

    /**
     * A command for a configured builder (directory, environment, limits, loop, charset ...); its
     * stream settings must fit (see the class comment). {@link #run()} sets its newProcessGroup.
     *
     * @param builder the child's description
     * @return a command with the defaults
     */
    public static Command of(ChildProcessBuilder builder) {
        return new Command(builder);
    }

    /** {@return the builder the runs start from, for settings this class has no shortcut for} */
    public ChildProcessBuilder builder() {
        return builder;
    }

    /**
     * Bytes written to stdin before end of file (copied). Default none.
     *
     * @param bytes the input, copied
     * @return this command
     */
    public Command input(byte[] bytes) {
        this.input = InvalidArgumentException.requireNonNull("input", bytes).clone();
        this.inputText = null;
        return this;
    }

    /**
     * Text written to stdin in the builder's charset before end of file. Default none.
     *
     * @param text the input
     * @return this command
     */
    public Command input(String text) {
        this.inputText = InvalidArgumentException.requireNonNull("input", text);
        this.input = null;
        return this;
    }

    /**
     * How long the run may take from the spawn on; then its group is killed. Default: no limit.
     *
     * @param d the timeout, positive
     * @return this command
     */
    public Command timeout(Duration d) {
        InvalidArgumentException.requireNonNull("timeout", d);
        if (d.isNegative() || d.isZero()) {
            throw new InvalidArgumentException("timeout <= 0: " + d);
        }
        this.timeout = d;
        return this;
    }

    /**
     * The most stdout bytes kept. Default 16 MiB.
     *
     * @param bytes the limit, {@code > 0}
     * @return this command
     */
    public Command maxOutput(int bytes) {
        this.maxOutput = InvalidArgumentException.requirePositive("maxOutput", bytes);
        return this;
    }

    /**
     * True: stdout past {@code maxOutput} is read and dropped, and the result says
     * {@link RunResult#stdoutTruncated()}; false (the default): the run fails with an
     * {@link OutputLimitException} and the child's group is killed.
     *
     * @param value true to truncate
     * @return this command
     */
    public Command truncateOutput(boolean value) {
        this.truncateOutput = value;
        return this;
    }

    /**
     * How many of the last stderr bytes are kept. Default 64 KiB.
     *
     * @param bytes the tail's size, {@code > 0}
     * @return this command
     */
    public Command stderrTail(int bytes) {
        this.stderrTail = InvalidArgumentException.requirePositive("stderrTail", bytes);
        return this;
    }

    /**
     * True: an unsuccessful end (exit code other than 0, or a signal) fails the run with a
     * {@link NonZeroExitException}. Default false.
     *
     * @param value true to check
     * @return this command
     */
    public Command checkExit(boolean value) {
        this.checkExit = value;
        return this;
    }

    /**
     * Starts the child and returns at once. See the class comment for what completes the future
     * and how it fails; it never throws.
     *
     * @return the result, once the child has exited and both streams have ended
     */
    public LoopFuture<RunResult> run() {
        byte[] bytes = inputText != null ? inputText.getBytes(builder.charset()) : input;
        return CommandRun.start(builder, bytes, timeout, maxOutput, truncateOutput, stderrTail, checkExit);
    }
}
