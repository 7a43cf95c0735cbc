package io.dualpipe.core.line;

import io.dualpipe.core.ByteSink;
import io.dualpipe.core.ChannelClosedException;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.LoopClosedException;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.internal.ConversationRequests;
import io.dualpipe.core.internal.Durations;
import io.dualpipe.core.internal.RequestFailures;
import io.dualpipe.core.message.RequestTimeoutException;

import java.nio.charset.Charset;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Request/reply in lines: each {@link #request} writes one line and completes with the reply that
 * follows. Replies are paired with requests in FIFO order, which is what a line-oriented child (a
 * REPL, {@code bc}, a filter) gives, or by an id the child echoes (below).
 *
 * <p><b>Never a wrong answer.</b> In FIFO order a child that skips one reply ({@code bc} prints
 * nothing for {@code x=5}) would hand every later reply to the request before it. So by default:
 * <ul>
 *   <li>requests are written one at a time, each once the reply to the one before it came (the
 *       others wait here, in order, counted as outstanding), so a skipped reply cannot reach
 *       another request; {@link ConversationBuilder#pipelined(boolean)} writes them at once, for a
 *       child that answers every line;</li>
 *   <li>a request that times out breaks the conversation ({@link TimeoutPolicy#BREAK}): it fails
 *       with a {@link RequestTimeoutException}, and every outstanding and later request with a
 *       {@link ConversationBrokenException} naming it; restart the child.
 *       {@link TimeoutPolicy#KEEP_PLACE} is for a child that always answers, if late: the timed-out
 *       request keeps its place and its late reply is dropped. A timeout counts from the call, so a
 *       request can time out before it was written; that one just fails.</li>
 * </ul>
 * A reply that cannot be read to its end (an over-long line in a multi-line reply, a
 * {@link ReplyReader} that throws) breaks the conversation too; an over-long one-line reply fails its
 * own request only. A request line holding LF, CR or the reply delimiter is refused, since the child
 * could read it as two lines.
 *
 * <p><b>Correlation by id</b> ({@link ConversationBuilder#correlateById(boolean)}), for a child that
 * can tag its replies: each request is written as {@code "<id> <line>"}, and every line of its reply
 * must read {@code "<id> <text>"} ({@code "<id>"} alone is an empty line); the reply's text is what
 * follows the first space. An id is an opaque ASCII token without spaces, which the child echoes as
 * it got it: a random prefix drawn per conversation and a counter, e.g. {@code 3f9a2c1d0e7b-12}, so
 * a line that merely begins with a number, or an id from an earlier conversation, matches no
 * request, and no id repeats. Replies may come in any order, and one that never comes costs only
 * its own request, which fails by its timeout: give such requests a timeout, since an over-long
 * reply line cannot be told apart and is dropped (logged). A line whose id matches no outstanding
 * request (a late reply for a timed-out id, a stray line) is never paired: it goes to the
 * unsolicited-line handler, or is dropped and logged.
 *
 * <p><b>Other failures.</b> When the stream ends or fails, every outstanding request fails with a
 * {@link ChannelClosedException} (or the read error), as does every later one. At most
 * {@code maxOutstanding} requests may await replies; past that a request fails at once with a
 * {@link TooManyRequestsException}. Lines that no request waits for go to the
 * {@link #onUnsolicitedLine unsolicited-line handler}, or are dropped and logged at WARN, once per
 * burst.
 *
 * <p><b>Threading.</b> {@link #request} may be called from any thread; the order of calls is the
 * order of the lines written (and, in FIFO order, of the replies matched). Reply futures complete on
 * the loop thread, so {@code request(a).thenCompose(r -> request(b))} chains without blocking.
 */
public final class Conversation {
    /** Default bound on requests awaiting replies. */
    public static final int DEFAULT_MAX_OUTSTANDING = 65_536;

    static {
        ConversationRequests.register(new ConversationRequests.Requester() {
            @Override
            public <T> LoopFuture<T> request(Conversation c, String line, ReplyReader<T> reader, Duration timeout,
                                             RequestFailures failures) {
                return c.request(line, reader, timeout, failures);
            }
        });
    }

    private final LineReader in;
    private final EventLoop loop;
    private final char delimiter; // the reply stream's: a request must not contain it either
    /** The requests awaiting replies, their writing, and how they all fail; see {@link RequestQueue}. */
    private final RequestQueue requests;
    private final UnsolicitedLines unsolicited = new UnsolicitedLines();

    Conversation(ByteSink out, LineReader in, Charset charset, int maxOutstanding, TimeoutPolicy timeoutPolicy,
                 boolean byId, boolean pipelined) {
        // Checked in this order, so the first bad argument is the one named.
        InvalidArgumentException.requirePositive("maxOutstanding", maxOutstanding);
        InvalidArgumentException.requireNonNull("out", out);
        this.in = InvalidArgumentException.requireNonNull("in", in);
        this.loop = in.loop();
        InvalidArgumentException.requireNonNull("charset", charset);
        InvalidArgumentException.requireNonNull("timeoutPolicy", timeoutPolicy);
        this.requests = new RequestQueue(out, charset, maxOutstanding, timeoutPolicy, byId, pipelined);
        this.delimiter = (char) in.delimiter();
        in.listen(new ReplyRouter(requests, unsolicited));
    }

    /**
     * A conversation writing requests to {@code out} and reading replies from {@code in}, which it
     * takes over; FIFO order, {@link TimeoutPolicy#BREAK}.
     *
     * @param out     where requests are written
     * @param in      where replies are read; the conversation becomes its listener
     * @param charset the charset requests are encoded in
     * @return the conversation
     */
    public static Conversation over(ByteSink out, LineReader in, Charset charset) {
        return builder(out, in).charset(charset).build();
    }

    /**
     * As {@link #over(ByteSink, LineReader, Charset)}, with at most {@code maxOutstanding} requests
     * awaiting replies.
     *
     * @param out            where requests are written
     * @param in             where replies are read; the conversation becomes its listener
     * @param charset        the charset requests are encoded in
     * @param maxOutstanding the bound on requests awaiting replies, {@code > 0}
     * @return the conversation
     */
    public static Conversation over(ByteSink out, LineReader in, Charset charset, int maxOutstanding) {
        return builder(out, in).charset(charset).maxOutstanding(maxOutstanding).build();
    }

    /**
     * Options: timeout policy, correlation by id, charset, bound on outstanding requests.
     *
     * @param out where requests will be written
     * @param in  where replies will be read; {@link ConversationBuilder#build()} takes it over
     * @return a builder with the defaults of {@link #over(ByteSink, LineReader, Charset)} and UTF-8
     */
    public static ConversationBuilder builder(ByteSink out, LineReader in) {
        return new ConversationBuilder(out, in);
    }

    /**
     * Sets where lines go that arrive while no request waits for them. Default: dropped and logged at
     * WARN, once per burst.
     *
     * @param handler called on the loop thread, or null for the default
     */
    public void onUnsolicitedLine(LineReader.Listener handler) {
        unsolicited.handler = handler;
    }

    /** {@return the policy a timed-out request follows in FIFO order} */
    public TimeoutPolicy timeoutPolicy() {
        return requests.timeoutPolicy;
    }

    /**
     * {@return true once the conversation broke (see {@link ConversationBrokenException}); restart
     * the child} Any thread.
     */
    public boolean isBroken() {
        return requests.isBroken();
    }

    /**
     * Writes {@code line} (a newline is added) and completes with the next line; no timeout.
     *
     * @param line the request, without terminator
     * @return the reply line
     * @throws InvalidArgumentException if {@code line} holds LF, CR or the reply delimiter
     */
    public LoopFuture<String> request(String line) {
        return request(line, null, null);
    }

    /**
     * As {@link #request(String)}, failing with a {@link RequestTimeoutException} after {@code timeout}.
     *
     * @param line    the request, without terminator
     * @param timeout how long to wait for the reply, positive, or null for no limit
     * @return the reply line
     * @throws InvalidArgumentException if {@code line} holds LF, CR or the reply delimiter, or the
     *         timeout is not positive
     */
    public LoopFuture<String> request(String line, Duration timeout) {
        return request(line, null, timeout);
    }

    /**
     * Writes {@code line} and completes with the reply {@code reader} collects; no timeout.
     *
     * @param <T>    what the reply becomes
     * @param line   the request, without terminator
     * @param reader a fresh reader for this request's reply, not null
     * @return the reply
     * @throws InvalidArgumentException if {@code line} holds LF, CR or the reply delimiter, or
     *         {@code reader} is null
     */
    public <T> LoopFuture<T> request(String line, ReplyReader<T> reader) {
        return request(line, InvalidArgumentException.requireNonNull("reader", reader), null);
    }

    /**
     * Writes {@code line} and completes with the reply {@code reader} collects, or fails with a
     * {@link RequestTimeoutException} after {@code timeout} (null: no limit), which also breaks a FIFO
     * conversation under {@link TimeoutPolicy#BREAK}. A null reader means a reply of one line, the
     * common case, which then costs no reader object.
     *
     * @param <T>     what the reply becomes
     * @param line    the request, without terminator
     * @param reader  a fresh reader for this request's reply, or null for one line
     * @param timeout how long to wait for the reply, positive, or null for no limit
     * @return the reply
     * @throws InvalidArgumentException if {@code line} holds LF, CR or the reply delimiter, or the timeout is not positive
     */
    public <T> LoopFuture<T> request(String line, ReplyReader<T> reader, Duration timeout) {
        return request(line, reader, timeout, null);
    }

    /** As above; a failure of the request goes through {@code failures} when not null (see {@link ConversationRequests}). */
    private <T> LoopFuture<T> request(String line, ReplyReader<T> reader, Duration timeout, RequestFailures failures) {
        RequestLine.check(line, delimiter);
        if (timeout != null && (timeout.isNegative() || timeout.isZero())) {
            throw new InvalidArgumentException("timeout <= 0: " + timeout);
        }
        PendingReply<T> p = new PendingReply<>(line, reader, failures);
        if (!requests.add(p, line)) {
            return p.future; // refused: failed already
        }
        if (timeout != null && !p.settled) {
            try {
                p.timer = loop.schedule(() -> requests.timedOut(p, timeout), Durations.saturatedNanos(timeout), TimeUnit.NANOSECONDS);
            } catch (LoopClosedException e) {
                p.fail(e);
                return p.future;
            }
            if (p.settled) {
                p.timer.cancel(); // the reply or a failure beat the assignment above
            }
        }
        return p.future;
    }

    /**
     * Number of requests whose replies have not been read yet: written ones (timed-out ones included
     * under KEEP_PLACE) and, one at a time, those waiting to be written.
     *
     * @return the count, at most {@code maxOutstanding}
     */
    public int outstanding() {
        return requests.outstanding();
    }
}
