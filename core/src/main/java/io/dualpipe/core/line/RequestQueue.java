package io.dualpipe.core.line;

import io.dualpipe.core.ByteSink;
import io.dualpipe.core.ChannelClosedException;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.internal.LazyLogger;
import io.dualpipe.core.message.RequestTimeoutException;

import java.nio.charset.Charset;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * The requests of a {@link Conversation} that await replies, and the writing of their lines: the
 * written ones in FIFO order (or registered by id), those not yet written while one at a time, and
 * why every request fails once the conversation broke or the reply stream ended. The conversation
 * checks arguments and runs the timers; {@link ReplyRouter} takes answered requests off.
 *
 * <p><b>Threading.</b> {@link #add}, {@link #outstanding} and {@link #isBroken} run on any thread;
 * the rest on the loop thread. {@link #lock} guards the queues, the ids and {@link #ended}, and a
 * request's line is written under it, so lines go out in the order requests were queued and a reply
 * can never overtake its entry. Requests fail and complete only outside the lock, since callers'
 * stages run there.
 *
 * <p><b>Buffers.</b> A request's line is encoded when it is written (from the thread's scratch, see
 * {@link RequestLine#write(ByteSink, String, String, Charset)}), or, while it waits its turn, into an
 * array of its own ({@link PendingReply#unsent}), which is handed to the sink when the turn comes.
 */
final class RequestQueue {
    // Named as the conversation, as before the split: logs and their configuration name the public type.
    private static final LazyLogger LOG = new LazyLogger(Conversation.class);
    /** What requests fail with once the reply stream has ended. */
    private static final String STREAM_ENDED = "the reply stream ended before the reply came";
    /** {@link #ended} while the stream ended with no request waiting, until one needs the exception: an idle end costs none. */
    private static final Throwable ENDED_QUIETLY = new Throwable(STREAM_ENDED);

    private final ByteSink out;
    private final Charset charset;
    private final int maxOutstanding;
    final TimeoutPolicy timeoutPolicy;
    final boolean byId;
    private final boolean pipelined;
    final Object lock = new Object();
    // Sized for the usual one request at a time; they grow as needed (the default 16 slots cost 88 B
    // apiece, and a fan-out holds a conversation per child).
    final ArrayDeque<PendingReply<?>> fifo = new ArrayDeque<>(1);   // guarded by lock: written, awaiting replies
    private final ArrayDeque<PendingReply<?>> unsent = new ArrayDeque<>(1); // guarded by lock: one at a time, not yet written
    final ReplyIds ids;      // guarded by lock; null in FIFO order
    private Throwable ended; // guarded by lock: why every request fails from now on

    /** Arguments already checked by the conversation. */
    RequestQueue(ByteSink out, Charset charset, int maxOutstanding, TimeoutPolicy timeoutPolicy, boolean byId,
                 boolean pipelined) {
        this.out = out;
        this.charset = charset;
        this.maxOutstanding = maxOutstanding;
        this.timeoutPolicy = timeoutPolicy;
        this.byId = byId;
        this.ids = byId ? new ReplyIds() : null;
        this.pipelined = pipelined;
    }

    /**
     * Queues {@code p}, writing {@code line} now unless it waits its turn. Any thread. False when the
     * request was refused (the conversation ended, or too many await replies): {@code p} has failed.
     */
    boolean add(PendingReply<?> p, String line) {
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
            return false;
        }
        watchWrite(p, written);
        return true;
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

    /** See {@link Conversation#outstanding()}. Any thread. */
    int outstanding() {
        synchronized (lock) {
            return outstandingLocked();
        }
    }

    private int outstandingLocked() {
        return byId ? ids.size() : fifo.size() + unsent.size();
    }

    /** See {@link Conversation#isBroken()}. Any thread. */
    boolean isBroken() {
        synchronized (lock) {
            return ended instanceof ConversationBrokenException;
        }
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

    /** Loop thread: {@code p}'s timer, set for {@code timeout}, fired. */
    void timedOut(PendingReply<?> p, Duration timeout) {
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
