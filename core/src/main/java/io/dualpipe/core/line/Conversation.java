package io.dualpipe.core.line;

import io.dualpipe.core.ByteSink;
import io.dualpipe.core.ChannelClosedException;
import io.dualpipe.core.DualPipeException;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.Timeout;
import io.dualpipe.core.internal.Durations;
import io.dualpipe.core.message.RequestTimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.nio.charset.Charset;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * Request/reply in lines: each {@link #request} writes one line and completes with the reply that
 * follows. Many requests may be in flight; replies are matched to requests in strict FIFO order,
 * which is what a line-oriented child (a REPL, {@code bc}, a filter) gives.
 *
 * <p>A request that times out keeps its place: its late reply is read and dropped, so the next
 * request still gets its own reply. When the stream ends or fails, every outstanding request fails
 * with a {@link ChannelClosedException} (or the read error). At most {@link #DEFAULT_MAX_OUTSTANDING}
 * requests may await replies (timed-out ones included); past that a request fails at once with a
 * {@link TooManyRequestsException}. Lines that arrive when no request is
 * outstanding go to the unsolicited-line handler (logged and dropped by default).
 *
 * <p><b>Threading.</b> {@link #request} may be called from any thread; the order of calls is the
 * order of the lines written and of the replies matched. Reply futures complete on the loop thread,
 * so {@code request(a).thenCompose(r -> request(b))} chains without blocking.
 */
public final class Conversation {
    private static final Logger LOG = LoggerFactory.getLogger(Conversation.class);

    private final ByteSink out;
    private final LineReader in;
    private final EventLoop loop;
    private final Charset charset;
    private final char delimiter; // the reply stream's: a request must not contain it either
    private final Object lock = new Object();
    private final ArrayDeque<Pending<?>> pending = new ArrayDeque<>(); // guarded by lock
    private Throwable ended; // guarded by lock
    private volatile LineReader.Listener unsolicited;

    /** Default bound on requests awaiting replies, timed-out ones included. */
    public static final int DEFAULT_MAX_OUTSTANDING = 65_536;

    private final int maxOutstanding;

    private Conversation(ByteSink out, LineReader in, Charset charset, int maxOutstanding) {
        this.maxOutstanding = InvalidArgumentException.requirePositive("maxOutstanding", maxOutstanding);
        this.out = InvalidArgumentException.requireNonNull("out", out);
        this.in = InvalidArgumentException.requireNonNull("in", in);
        this.loop = in.loop();
        this.charset = InvalidArgumentException.requireNonNull("charset", charset);
        this.delimiter = (char) in.delimiter();
        in.listen(new LineReader.Listener() {
            @Override
            public void onLine(String line) {
                reply(line);
            }

            @Override
            public void onLineTooLong(LineTooLongException e) {
                failHead(e);
            }

            @Override
            public void onEnd() {
                end(new ChannelClosedException("the reply stream ended before the reply came"));
            }

            @Override
            public void onError(Throwable error) {
                end(error);
            }
        });
    }

    /** A conversation writing requests to {@code out} and reading replies from {@code in}, which it takes over. */
    public static Conversation over(ByteSink out, LineReader in, Charset charset) {
        return new Conversation(out, in, charset, DEFAULT_MAX_OUTSTANDING);
    }

    /**
     * As {@link #over(ByteSink, LineReader, Charset)}, with at most {@code maxOutstanding} requests
     * awaiting replies: a timed-out request keeps its place until its late reply is read, so against a
     * peer that stopped answering the bound turns a retry loop into a {@link TooManyRequestsException}
     * instead of a growing queue.
     */
    public static Conversation over(ByteSink out, LineReader in, Charset charset, int maxOutstanding) {
        return new Conversation(out, in, charset, maxOutstanding);
    }

    /** Lines that arrive while no request waits. Default: logged at DEBUG and dropped. */
    public void onUnsolicitedLine(LineReader.Listener handler) {
        this.unsolicited = handler;
    }

    /** Writes {@code line} (a newline is added) and completes with the next line. */
    public LoopFuture<String> request(String line) {
        return request(line, null, null);
    }

    /** As {@link #request(String)}, failing with a {@link RequestTimeoutException} after {@code timeout}. */
    public LoopFuture<String> request(String line, Duration timeout) {
        return request(line, null, timeout);
    }

    /** Writes {@code line} and completes with the reply {@code reader} collects. */
    public <T> LoopFuture<T> request(String line, ReplyReader<T> reader) {
        return request(line, InvalidArgumentException.requireNonNull("reader", reader), null);
    }

    /**
     * Writes {@code line} and completes with the reply {@code reader} collects, or fails with a
     * {@link RequestTimeoutException} after {@code timeout} (null: no limit). A null reader means a reply of
     * one line, the common case, which then costs no reader object.
     */
    public <T> LoopFuture<T> request(String line, ReplyReader<T> reader, Duration timeout) {
        checkLine(line);
        if (timeout != null && (timeout.isNegative() || timeout.isZero())) {
            throw new InvalidArgumentException("timeout <= 0: " + timeout);
        }
        Pending<T> p = new Pending<>(reader);
        ByteBuffer bytes = encode(line);
        Throwable refused = null;
        LoopFuture<Void> written = null;
        synchronized (lock) {
            if (ended != null) {
                refused = ended;
            } else if (pending.size() >= maxOutstanding) {
                refused = new TooManyRequestsException("request '" + line + "': " + pending.size()
                        + " requests already await replies (maxOutstanding " + maxOutstanding + "); is the peer answering?");
            } else {
                // Queued before writing, under one lock: the reply can never overtake its entry.
                pending.add(p);
                written = out.writeOrQueue(bytes);
            }
        }
        // Callers' stages run from here on, never under the lock.
        if (refused != null) {
            p.future.completeExceptionally(refused);
            return p.future;
        }
        if (written != null) {
            // Most writes complete at once (null: nothing allocated); only the others need a callback.
            written.whenComplete((v, e) -> {
                if (e != null) {
                    p.future.completeExceptionally(e);
                }
            });
        }
        if (timeout != null) {
            try {
                p.timer = loop.schedule(() -> p.future.completeExceptionally(new RequestTimeoutException(
                        "no reply to '" + line + "' within " + timeout)), Durations.saturatedNanos(timeout), TimeUnit.NANOSECONDS);
            } catch (io.dualpipe.core.LoopClosedException e) {
                p.future.completeExceptionally(e);
                return p.future;
            }
            if (p.future.isDone()) {
                p.timer.cancel(); // the reply beat the assignment above
            }
        }
        return p.future;
    }

    /**
     * Refuses a request that the child could read as two lines, which would pair every later reply
     * with the request before it: LF; CR, which a terminal with ICRNL (a pseudo-terminal's default)
     * turns into LF and which many readers also end a line at; and the reply stream's own delimiter.
     */
    private void checkLine(String line) {
        InvalidArgumentException.requireNonNull("line", line);
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (c == '\n' || c == '\r' || c == delimiter) {
                throw new InvalidArgumentException("request line has " + describe(c) + " at index " + i
                        + ", which would split it into two lines and pair later replies with the wrong requests: '"
                        + escape(line) + "'");
            }
        }
    }

    private static String describe(char c) {
        switch (c) {
            case '\n':
                return "a line feed (\\n)";
            case '\r':
                return "a carriage return (\\r; a terminal with ICRNL reads it as a line feed)";
            default:
                return String.format("the reply delimiter 0x%02x", (int) c);
        }
    }

    private static String escape(String line) {
        StringBuilder b = new StringBuilder(Math.min(line.length(), 200) + 16);
        int i = 0;
        for (; i < line.length() && b.length() < 200; i++) {
            char c = line.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                b.append(c == '\n' ? "\\n" : c == '\r' ? "\\r" : String.format("\\x%02x", (int) c));
            } else {
                b.append(c);
            }
        }
        return i < line.length() ? b + "..." : b.toString();
    }

    private ByteBuffer encode(String line) {
        byte[] b = line.getBytes(charset);
        byte[] withLf = java.util.Arrays.copyOf(b, b.length + 1);
        withLf[b.length] = '\n';
        return ByteBuffer.wrap(withLf);
    }

    /** Number of requests whose replies have not been read yet (including timed-out ones). */
    public int outstanding() {
        synchronized (lock) {
            return pending.size();
        }
    }

    private void reply(String line) {
        Pending<?> head;
        synchronized (lock) {
            head = pending.peek();
        }
        // The head is fed outside the lock (a ReplyReader is user code); only this loop thread ever
        // removes entries, so it is still the head when it is taken off below.
        boolean done = head != null && head.take(line);
        if (done) {
            synchronized (lock) {
                pending.poll();
            }
        }
        if (head == null) {
            LineReader.Listener u = unsolicited;
            if (u != null) {
                u.onLine(line);
            } else {
                LOG.debug("dropped a line no request waits for: {}", line);
            }
            return;
        }
        if (done) {
            head.finish();
        }
    }

    /** Fails the request at the head (its reply was unreadable) and moves on. */
    private void failHead(DualPipeException e) {
        Pending<?> head;
        synchronized (lock) {
            head = pending.poll();
        }
        if (head != null) {
            head.fail(e);
        }
    }

    private void end(Throwable cause) {
        ArrayDeque<Pending<?>> failed;
        synchronized (lock) {
            ended = cause;
            failed = new ArrayDeque<>(pending);
            pending.clear();
        }
        for (Pending<?> p : failed) {
            p.fail(cause);
        }
    }

    private static final class Pending<T> {
        final ReplyReader<T> reader; // null: a reply of one line
        final LoopFuture<T> future = new LoopFuture<>();
        volatile Timeout timer;
        private String single;

        Pending(ReplyReader<T> reader) {
            this.reader = reader;
        }

        /** Feeds one reply line; true when the reply is complete. */
        boolean take(String line) {
            if (reader == null) {
                single = line;
                return true;
            }
            return reader.onLine(line);
        }

        void finish() {
            Timeout t = timer;
            if (t != null) {
                t.cancel();
            }
            T result;
            try {
                @SuppressWarnings("unchecked") // reader == null only for request(String...), whose T is String
                T one = (T) single;
                result = reader == null ? one : reader.result();
            } catch (RuntimeException e) {
                future.completeExceptionally(e);
                return;
            }
            future.complete(result);
        }

        void fail(Throwable cause) {
            Timeout t = timer;
            if (t != null) {
                t.cancel();
            }
            future.completeExceptionally(cause);
        }
    }
}
