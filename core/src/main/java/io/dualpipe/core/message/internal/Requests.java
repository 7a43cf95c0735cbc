package io.dualpipe.core.message.internal;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.codec.CodecRegistry;
import io.dualpipe.core.message.RemoteException;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

import static io.dualpipe.core.codec.Frames.FLAG_ERROR;

/**
 * Our requests the peer has not answered: their ids, the table that finds one by the id of a reply,
 * and the delivery of that reply to the caller's future.
 *
 * <p><b>Bound.</b> Each entry is a request the caller made and can see ({@code pendingRequests()});
 * its frame was charged to the outbound queue until the kernel took it. How many may be outstanding
 * is the caller's to pace, as with sends; a timeout or cancel removes one.
 *
 * <p>Loop thread only, but for {@link #pending()}, a mirror of the table's size for other threads.
 */
final class Requests {
    private static final VarHandle PENDING;

    static {
        try {
            PENDING = MethodHandles.lookup().findVarHandle(Requests.class, "pendingCount", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final String name;
    private final CodecRegistry codecs;
    private final BodyLender lender;
    private final RequestTable table = new RequestTable();
    private final Deadlines deadlines;
    private int nextId = 1;
    @SuppressWarnings("unused") // through PENDING: written on the loop, read anywhere
    private int pendingCount;

    Requests(String name, CodecRegistry codecs, EventLoop loop, BodyLender lender) {
        this.name = name;
        this.codecs = codecs;
        this.lender = lender;
        this.deadlines = new Deadlines(name, loop, this);
    }

    /**
     * Starts {@code p}'s timeout; see {@link Deadlines}.
     *
     * @throws io.dualpipe.core.LoopClosedException when the loop is closing
     */
    void startTimeout(OpenRequest p, Duration timeout) {
        deadlines.start(p, timeout);
    }

    /** For tests: entries the timeout lanes keep. */
    int timeoutEntries() {
        return deadlines.entries();
    }

    /** The channel terminated and failed every request: the timeouts' timers go too. */
    void stopTimeouts() {
        deadlines.clear();
    }

    /** Any thread. */
    int pending() {
        return (int) PENDING.getAcquire(this);
    }

    /** The next free id; 0 is reserved by the wire format, and an id still outstanding is skipped. */
    int nextId() {
        int id;
        do {
            id = nextId++;
        } while (id == 0 || table.contains(id));
        return id;
    }

    void put(int id, OpenRequest p) {
        table.put(id, p);
        PENDING.setRelease(this, table.size());
    }

    /** Takes the request {@code requestId} answers out of the table; null if it is not outstanding. */
    OpenRequest take(int requestId) {
        OpenRequest p = table.remove(requestId);
        if (p != null) {
            PENDING.setRelease(this, table.size());
        }
        return p;
    }

    /** Forgets a request that timed out or was cancelled, if it is still the one under its id. */
    void forget(OpenRequest p) {
        int id = p.id();
        if (id != 0 && table.get(id) == p) {
            table.remove(id);
            PENDING.setRelease(this, table.size());
        }
    }

    /** Removes and returns every outstanding request. */
    List<OpenRequest> drain() {
        List<OpenRequest> all = table.drain();
        PENDING.setRelease(this, 0);
        return all;
    }

    /** Tells {@code p} the reply frame: the decoded value, or the peer's error text. */
    void deliver(OpenRequest p, int type, int flags, int requestId, ByteBuffer body) {
        if ((flags & FLAG_ERROR) != 0) {
            p.fail(new RemoteException(name, Integer.toUnsignedLong(requestId), StandardCharsets.UTF_8.decode(body).toString()));
            return;
        }
        p.deliver(codecs, lender, type, body);
    }
}
