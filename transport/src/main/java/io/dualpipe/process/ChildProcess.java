package io.dualpipe.process;

import io.dualpipe.core.ByteSink;
import io.dualpipe.core.ByteSource;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.line.Conversation;
import io.dualpipe.core.line.LineReader;
import io.dualpipe.core.line.ReplyReader;

import java.time.Duration;
import java.util.List;

/**
 * A running child process whose pipes are served by an {@link EventLoop}: write to its stdin, read
 * its stdout and stderr (and extra pipes), wait for its exit, signal it.
 *
 * <p><b>Threading.</b> Every method is thread-safe. Read futures, listeners and {@link #onExit()}
 * complete on the loop thread; a write the kernel takes at once completes on the writer's thread.
 * Keep callbacks short: they run on the thread that serves every other child of the loop. With
 * {@link ChildProcessBuilder#completeOn(java.util.concurrent.Executor)}, the futures this interface
 * hands out itself ({@link #onExit()}, {@link #onDrained()}, {@link #terminate}, {@link #readLine()},
 * {@link #writeLine}, the {@code request} methods) complete on that executor instead. Conditions of
 * the running system (the child gone, a stream ended or closed, the loop closed) reach the caller
 * through those futures, never as an exception thrown by the call; a wrong call (a null argument,
 * a stream that is not a pipe, a request line that holds a line break) throws.
 *
 * <p><b>Lifecycle.</b> The loop reaps the child as soon as it exits (pidfd on Linux, polling
 * {@code waitpid(pid, WNOHANG)} elsewhere), never with {@code waitpid(-1)} and never through a
 * SIGCHLD handler, so the JDK's own children keep their statuses. Once the child is reaped, its stdin
 * and TO_CHILD pipes are shut down after their queued bytes (as the JDK's {@code Process} does), so a
 * later write fails with a {@link io.dualpipe.core.ChannelClosedException} and a grandchild reading
 * the same stdin sees end of input. {@link #close()} sends SIGKILL to a child that is still running,
 * then closes its pipes; closing the loop kills and reaps every child still on it. No zombie is left.
 */
public interface ChildProcess extends AutoCloseable {

    /**
     * A builder for {@code command} (argv; argv[0] is searched in PATH; no shell).
     *
     * @param command the program and its arguments, none null
     * @return a builder with the defaults
     * @throws io.dualpipe.core.InvalidArgumentException if {@code command} is null or empty, or an
     *         element is null
     */
    static ChildProcessBuilder builder(String... command) {
        // not List.of: it throws a bare NullPointerException for a null element, before our check names it
        return new ChildProcessBuilder(java.util.Arrays.asList(io.dualpipe.core.InvalidArgumentException.requireNonNull("command", command)));
    }

    /**
     * A builder for {@code command} (argv; argv[0] is searched in PATH; no shell).
     *
     * @param command the program and its arguments, none null
     * @return a builder with the defaults
     * @throws io.dualpipe.core.InvalidArgumentException if {@code command} is null or empty, or an
     *         element is null
     */
    static ChildProcessBuilder builder(List<String> command) {
        return new ChildProcessBuilder(command);
    }

    /**
     * Starts {@code stages} as a pipeline, {@code stages[0] | stages[1] | ...}: each stage's stdout
     * feeds the next one's stdin through a pipe only the two children hold, so end of output flows
     * down the line. The first stage's stdin and the last one's stdout follow their builders (pipes
     * by default: write into the head, read from the tail); the others must be left at
     * {@link StdinMode#PIPE} / {@link StdoutMode#PIPE}. Stderr goes where each builder says. Every
     * stage runs on one loop, the first builder's; the builders must agree on it.
     *
     * <p>Either every stage starts or none does: when stage k cannot start, stages 0..k-1 are
     * killed and reaped and every descriptor is closed before the {@link SpawnException} (about
     * stage k's program) is thrown.
     *
     * @param stages one builder per stage, first to last
     * @return the running pipeline
     * @throws io.dualpipe.core.InvalidArgumentException when there are no stages, one is null, a
     *         stage sets a stream the pipeline wires, or the stages name different loops
     */
    static Pipeline pipeline(ChildProcessBuilder... stages) {
        return Pipeline.start(stages);
    }

    /** {@return the child's process id} */
    int pid();

    /** {@return the loop serving this child's pipes} */
    EventLoop loop();

    /**
     * The child's stdin. {@link ByteSink#shutdownOutput()} closes it after the queued bytes, so {@code sort}-like children finish.
     *
     * @return the parent's end of the stdin pipe
     * @throws io.dualpipe.core.InvalidArgumentException when stdin is not a pipe (see {@link StdinMode}),
     *         naming where it reads instead; so do {@link #writeLine} and the requests
     */
    ByteSink stdin();

    /**
     * The child's stdout (with stderr too when merged).
     *
     * @return the parent's end of the stdout pipe
     * @throws io.dualpipe.core.InvalidArgumentException when stdout is not a pipe (see {@link StdoutMode}),
     *         naming where it goes instead; so do {@link #lines()}, {@link #readLine()} and the requests
     */
    ByteSource stdout();

    /**
     * The child's stderr, when the builder asked for {@link StderrMode#PIPE}.
     *
     * @return the parent's end of the stderr pipe
     * @throws io.dualpipe.core.InvalidArgumentException when stderr is not a pipe of the caller's (see
     *         {@link StderrMode}): with {@link StderrMode#TAIL}, the default, the loop reads it into
     *         {@link #stderrTail()}; so does {@link #errorLines()}
     */
    ByteSource stderr();

    /**
     * A snapshot of the last bytes the child wrote to stderr (at most
     * {@link ChildProcessBuilder#stderrTail(int)}, decoded as UTF-8; a character cut at the start is
     * replaced) when stderr is {@link StderrMode#TAIL}, the default; empty in the other modes. Grows
     * until stderr ends, which {@link #onDrained()} waits for. Thread-safe: it copies under a lock.
     *
     * @return the tail so far, possibly empty
     */
    String stderrTail();

    /**
     * The parent's end of the extra pipe on child fd {@code childFd} created with
     * {@link PipeDirection#FROM_CHILD}.
     *
     * @param childFd the pipe's fd number in the child
     * @return the parent's (read) end
     * @throws io.dualpipe.core.InvalidArgumentException when there is no such pipe in that direction
     */
    ByteSource pipeFromChild(int childFd);

    /**
     * The parent's end of the extra pipe on child fd {@code childFd} created with {@link PipeDirection#TO_CHILD}.
     *
     * @param childFd the pipe's fd number in the child
     * @return the parent's (write) end
     * @throws io.dualpipe.core.InvalidArgumentException when there is no such pipe in that direction
     */
    ByteSink pipeToChild(int childFd);

    /**
     * stdout as lines (charset and length limit from the builder). The first call takes stdout over:
     * use either lines or raw {@link #stdout()} reads, not both.
     *
     * @return the one line reader of stdout
     */
    LineReader lines();

    /**
     * stderr as lines; the first call takes stderr over.
     *
     * @return the one line reader of stderr
     */
    LineReader errorLines();

    /**
     * The next stdout line; {@code null} at end of stream. As {@code lines().readLine()}, completed
     * where {@link ChildProcessBuilder#completeOn} says.
     *
     * @return the line, or null at end of stream
     */
    default LoopFuture<String> readLine() {
        return lines().readLine();
    }

    /**
     * Writes {@code line} and a newline to stdin.
     *
     * @param line the line, without newline
     * @return completes when the kernel has the bytes
     */
    LoopFuture<Void> writeLine(String line);

    /**
     * Request/reply over stdin and stdout lines; replies match requests in FIFO order, requests are
     * written one at a time and a timeout breaks it (see {@link Conversation}). The first call takes
     * {@link #lines()} over; for other options build one with {@code Conversation.builder(stdin(), lines())}.
     *
     * @return the child's one default conversation
     */
    Conversation conversation();

    /**
     * Writes {@code line} to stdin and completes with the next stdout line. When stdout ends before
     * the reply (the child died), the request fails with a {@link ChildExitedException} naming the
     * exit status and quoting the stderr tail; so do the other {@code request} methods.
     *
     * @param line the request, without newline
     * @return the reply line
     */
    default LoopFuture<String> request(String line) {
        return conversation().request(line);
    }

    /**
     * As {@link #request(String)}, failing with a {@link io.dualpipe.core.message.RequestTimeoutException} after
     * {@code timeout}, which breaks the conversation ({@link io.dualpipe.core.line.TimeoutPolicy#BREAK}).
     *
     * @param line    the request, without newline
     * @param timeout how long to wait for the reply, positive
     * @return the reply line
     */
    default LoopFuture<String> request(String line, Duration timeout) {
        return conversation().request(line, timeout);
    }

    /**
     * Writes {@code line} and completes with a reply of one or more lines, as {@code reader} decides.
     *
     * @param <T>    what the reply becomes
     * @param line   the request, without newline
     * @param reader a fresh reader for this reply
     * @return the reply
     */
    default <T> LoopFuture<T> request(String line, ReplyReader<T> reader) {
        return conversation().request(line, reader);
    }

    /**
     * Completes with the exit status once the child has exited and been reaped.
     *
     * <p>Each call returns a new future, as the JDK's {@code Process.onExit()} does: cancelling it,
     * completing it or {@code orTimeout} on it affects that future alone, never the child's exit as
     * the library ({@link #terminate}, {@link #onDrained()}, {@link #close()}) or another caller sees
     * it. Until the child exits each such future is held by the child, so keep the one you got
     * rather than calling this in a polling loop.
     *
     * @return a new future of the exit status
     */
    LoopFuture<ExitStatus> onExit();

    /**
     * Completes with the exit status once the child has exited <em>and</em> every output pipe reached
     * end of stream with all its bytes taken. Later than {@link #onExit()} when a grandchild still holds
     * stdout open, or when output is still unread. Streams that are not pipes (inherited, discarded,
     * files) are not waited for: the parent cannot see their end. Each call returns a new future,
     * as {@link #onExit()} does.
     *
     * @return a new future of the exit status
     */
    LoopFuture<ExitStatus> onDrained();

    /** {@return true until the child has been reaped} */
    boolean isAlive();

    /**
     * Sends {@code signal} (e.g. 15 for SIGTERM) to the child, or to its whole process group when it
     * was started in its own. Safe against pid reuse: after the child is reaped this does nothing and
     * returns false; on Linux the signal goes through a pidfd.
     *
     * @param signal the signal number
     * @return true if it was sent, false if the child was already reaped (or gone: ESRCH)
     * @throws io.dualpipe.core.NativeIoException if the kernel refused it otherwise (EPERM, EINVAL)
     */
    boolean signal(int signal);

    /**
     * SIGTERM now, SIGKILL after {@code grace} if the child has not exited by then; to the whole group
     * when the child has its own. Calling it again sends SIGTERM again and can bring the SIGKILL
     * forward, never push it back: the child is killed at the earliest deadline any call asked for.
     * At most one kill timer is pending per child, and it is cancelled once the child is reaped.
     *
     * @param grace how long the child has between SIGTERM and SIGKILL, {@code >= 0}
     * @return a new future, as from {@link #onExit()}
     * @throws io.dualpipe.core.InvalidArgumentException if {@code grace} is null or negative
     */
    LoopFuture<ExitStatus> terminate(Duration grace);

    /** Closes stdin and every pipe, and kills the child (SIGKILL) if it is still running. Idempotent. */
    @Override
    void close();
}
