package io.dualpipe.core.line;

import io.dualpipe.core.ByteSink;
import io.dualpipe.core.ChannelClosedException;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.LoopClosedException;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.internal.ConversationRequests;
import io.dualpipe.core.internal.Durations;
import io.dualpipe.core.internal.LazyLogger;
import io.dualpipe.core.internal.RequestFailures;
import io.dualpipe.core.message.RequestTimeoutException;

import java.nio.charset.Charset;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
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
    private static final LazyLogger LOG = new LazyLogger(Conversation.class);

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

    private final ByteSink out;
    private final LineReader in;
    private final EventLoop loop;
    private final Charset charset;
    private final char delimiter; // the reply stream's: a request must not contain it either
    private final int maxOutstanding;
    private final TimeoutPolicy timeoutPolicy;
    // Package-private: the reading side (ReplyRouter) pairs replies with these.
    final boolean byId;
    final Object lock = new Object();
    private final boolean pipelined;
    // Sized for the usual one request at a time; they grow as needed (the default 16 slots cost 88 B
    // apiece, and a fan-out holds a conversation per child).
    final ArrayDeque<PendingReply<?>> fifo = new ArrayDeque<>(1);   // guarded by lock: written, awaiting replies
    private final ArrayDeque<PendingReply<?>> unsent = new ArrayDeque<>(1); // guarded by lock: one at a time, not yet written
    final ReplyIds ids;      // guarded by lock; null in FIFO order
    private Throwable ended; // guarded by lock: why every request fails from now on
    /** What requests fail with once the reply stream has ended. */
    private static final String STREAM_ENDED = "the reply stream ended before the reply came";
    /** {@link #ended} while the stream ended with no request waiting, until one needs the exception: an idle end costs none. */
    private static final Throwable ENDED_QUIETLY = new Throwable(STREAM_ENDED);
    final UnsolicitedLines unsolicited = new UnsolicitedLines();

    Conversation(ByteSink out, LineReader in, Charset charset, int maxOutstanding, TimeoutPolicy timeoutPolicy,
                 boolean byId, boolean pipelined) {
        this.maxOutstanding = InvalidArgumentException.requirePositive("maxOutstanding", maxOutstanding);
        this.out = InvalidArgumentException.requireNonNull("out", out);
        this.in = InvalidArgumentException.requireNonNull("in", in);
        this.loop = in.loop();
        this.charset = InvalidArgumentException.requireNonNull("charset", charset);
        this.timeoutPolicy = InvalidArgumentException.requireNonNull("timeoutPolicy", timeoutPolicy);
        this.byId = byId;
        this.ids = byId ? new ReplyIds() : null;
        this.pipelined = pipelined;
        this.delimiter = (char) in.delimiter();
        in.listen(new ReplyRouter(this));
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
        return timeoutPolicy;
    }

    /**
     * {@return true once the conversation broke (see {@link ConversationBrokenException}); restart
     * the child} Any thread.
     */
    public boolean isBroken() {
        synchronized (lock) {
            return ended instanceof ConversationBrokenException;
        }
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
        Throwable refused = null;
        LoopFuture<Void> written = null;
        synchronized (lock) {
            int outstanding = outstandingLocked();
            if (ended != null) {
                if (ended == ENDED_QUIETLY) {
                    ended = new ChannelClosedException(STREAM_ENDED);
                }
                refused = ended;
            } else if (outstanding >= maxOutstanding) {
                refused = new TooManyRequestsException("request '" + RequestLine.shorten(line) + "': " + outstanding
                        + " requests already await replies (maxOutstanding " + maxOutstanding + "); is the peer answering?");
            } else if (byId) {
                // Registered before writing, under one lock: the reply can never overtake its entry.
                written = RequestLine.write(out, ids.register(p), line, charset);
            } else if (pipelined || (fifo.isEmpty() && unsent.isEmpty())) {
                fifo.add(p);
                written = RequestLine.write(out, "", line, charset);
            } else {
                p.unsent = RequestLine.encode("", RequestLine.bytes(line, charset)); // written once the replies before it came
                unsent.add(p);
            }
        }
        // Callers' stages run from here on, never under the lock.
        if (refused != null) {
            p.failNow(refused);
            return p.future;
        }
        watchWrite(p, written);
        if (timeout != null && !p.settled) {
            try {
                p.timer = loop.schedule(() -> timedOut(p, timeout), Durations.saturatedNanos(timeout), TimeUnit.NANOSECONDS);
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

    private void watchWrite(PendingReply<?> p, LoopFuture<Void> written) {
        if (written != null) {
            // Most writes complete at once (null: nothing allocated); only the others need a callback.
            written.whenComplete((v, e) -> {
                if (e != null) {
                    writeFailed(p, e);
                }
            });
        }
    }

    /**
     * Number of requests whose replies have not been read yet: written ones (timed-out ones included
     * under KEEP_PLACE) and, one at a time, those waiting to be written.
     *
     * @return the count, at most {@code maxOutstanding}
     */
    public int outstanding() {
        synchronized (lock) {
            return outstandingLocked();
        }
    }

    private int outstandingLocked() {
        return byId ? ids.size() : fifo.size() + unsent.size();
    }

    /**
     * Loop thread, one request at a time: the head's reply came, so the next request is written.
     * The write's failure is watched outside the lock.
     */
    void sendNext() {
        PendingReply<?> next;
        LoopFuture<Void> written;
        synchronized (lock) {
            if (pipelined || ended != null || !fifo.isEmpty()) {
                return;
            }
            do {
                next = unsent.poll();
            } while (next != null && next.removed); // timed out before it was written
            if (next == null) {
                return;
            }
            fifo.add(next);
            byte[] bytes = next.unsent;
            next.unsent = null;
            written = RequestLine.write(out, bytes);
        }
        watchWrite(next, written);
    }

    /** Loop thread: {@code p}'s timer fired. */
    private void timedOut(PendingReply<?> p, Duration timeout) {
        RequestTimeoutException e = new RequestTimeoutException("no reply to '" + RequestLine.shorten(p.request)
                + "' within " + timeout);
        if (byId) {
            synchronized (lock) {
                ids.remove(p);
            }
            p.fail(e);
            return;
        }
        boolean waiting;
        boolean written;
        synchronized (lock) {
            waiting = !p.removed && ended == null; // a timer that lost the race to the reply finds it gone
            written = p.unsent == null;
            if (waiting && !written) {
                // Never written: it costs no place. Taken out now, not when the head's reply comes,
                // or it would count against maxOutstanding meanwhile. Timers fire in deadline order,
                // so it is mostly near the queue's head and the scan is short.
                p.removed = true;
                p.unsent = null;
                unsent.remove(p);
            }
        }
        if (!waiting) {
            return;
        }
        if (!written) {
            p.fail(new RequestTimeoutException(e.getMessage() + " (never written: the request before it had no reply yet)"));
            return;
        }
        p.failNow(e);
        if (timeoutPolicy == TimeoutPolicy.BREAK) {
            breakWith("request '" + RequestLine.shorten(p.request) + "' got no reply within " + timeout, e);
        }
    }

    /** The request never fully reached the child: in FIFO order no later reply can be trusted. */
    private void writeFailed(PendingReply<?> p, Throwable e) {
        if (byId) {
            synchronized (lock) {
                ids.remove(p);
            }
            p.fail(e);
            return;
        }
        // Out of the queue before the break, or the break would fail it too and could win: its own
        // failure may complete later (a dead child's request waits for the exit status). And both
        // under one lock, before any failure runs callers' stages: with it out and the rest still
        // queued, a line (its reply to what the child got of it) would go to the request behind it.
        ConversationBrokenException broken = broken("writing request '" + RequestLine.shorten(p.request) + "' failed", e);
        boolean mine;
        List<PendingReply<?>> failed;
        synchronized (lock) {
            mine = !p.removed;
            if (mine) {
                p.removed = true;
                fifo.remove(p);
            }
            failed = breakLocked(broken);
        }
        if (mine) {
            p.fail(e);
        }
        failBroken(broken, failed);
    }

    /** Fails every outstanding and later request with a {@link ConversationBrokenException}. */
    void breakWith(String why, Throwable cause) {
        ConversationBrokenException broken = broken(why, cause);
        List<PendingReply<?>> failed;
        synchronized (lock) {
            failed = breakLocked(broken);
        }
        failBroken(broken, failed);
    }

    private static ConversationBrokenException broken(String why, Throwable cause) {
        return new ConversationBrokenException("conversation broken: " + why
                + "; later replies could not be paired with their requests, so every outstanding and later request fails"
                + " (restart the child)", cause);
    }

    /** Guarded by lock: breaks, taking every request out; null if it had ended already. */
    private List<PendingReply<?>> breakLocked(ConversationBrokenException broken) {
        if (ended != null) {
            return null;
        }
        ended = broken;
        return takeAll();
    }

    /** Outside the lock: fails what {@link #breakLocked} took (nothing if it had ended already). */
    private static void failBroken(ConversationBrokenException broken, List<PendingReply<?>> failed) {
        if (failed == null) {
            return;
        }
        LOG.get().warn("{}", broken.getMessage());
        for (PendingReply<?> p : failed) {
            p.fail(broken);
        }
    }

    /** Guarded by lock. */
    private List<PendingReply<?>> takeAll() {
        if (fifo.isEmpty() && unsent.isEmpty() && (ids == null || ids.size() == 0)) {
            return List.of(); // the usual end of an idle conversation
        }
        List<PendingReply<?>> all = new ArrayList<>(fifo);
        all.addAll(unsent);
        if (ids != null) {
            all.addAll(ids.takeAll());
        }
        for (PendingReply<?> p : all) {
            p.removed = true;
        }
        fifo.clear();
        unsent.clear();
        return all;
    }

    /**
     * The reply stream ended ({@code cause} null: with a {@link ChannelClosedException}, made only if a
     * request needs it) or failed: every outstanding and later request fails with it.
     */
    void end(Throwable cause) {
        List<PendingReply<?>> failed;
        synchronized (lock) {
            failed = takeAll();
            if (cause == null && !failed.isEmpty()) {
                cause = new ChannelClosedException(STREAM_ENDED);
            }
            if (ended == null) {
                ended = cause != null ? cause : ENDED_QUIETLY;
            }
        }
        for (PendingReply<?> p : failed) {
            p.fail(cause);
        }
    }
}
