package io.dualpipe.core.message.internal;

import io.dualpipe.core.ByteSource;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopClosedException;
import io.dualpipe.core.Timeout;
import io.dualpipe.core.internal.LogLimiter;
import io.dualpipe.core.codec.FrameDecoder;
import io.dualpipe.core.codec.FrameListener;
import io.dualpipe.core.codec.ProtocolException;
import io.dualpipe.core.message.PeerStalledException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static io.dualpipe.core.codec.Frames.FLAG_REPLY;
import static io.dualpipe.core.codec.Frames.FLAG_REQUEST;

/**
 * The channel's read side: frames in from the {@link ByteSource}, replies to our requests, the
 * peer's requests and messages to their handlers, and the bound on what the peer can make us queue.
 *
 * <p><b>Why not stop reading.</b> A peer's request makes us queue a reply; a peer that sends requests
 * and never reads the replies would make us queue without bound. Stopping to read whenever our
 * replies back up bounds that, but also stops us reading the replies to <i>our</i> requests, and a
 * peer doing the same (two channels that both send requests, a worker that writes progress while its
 * tasks fill our queue) then waits on us while we wait on it: both stop for good. So the input is
 * read on, and what stops is the <i>dispatch</i> of the peer's requests.
 *
 * <p><b>The design.</b>
 * <ul>
 * <li>A reply is delivered at once: delivering it produces no output, and it is what the caller waits
 *     for.</li>
 * <li>A request from the peer is dispatched while the outbound queue is writable. Otherwise it is
 *     <i>held</i> in the {@link Backlog}, and so is every frame after it (messages, replies), so that
 *     handlers and callers see the peer's frames in the order it sent them: a worker's progress still
 *     comes before its result. Held replies cost nothing against the limit: each was taken out of the
 *     request table when held (a duplicate or unknown one is dropped as ever), so there are never more
 *     than our outstanding requests, and holding them must never be what stops us reading.</li>
 * <li>A one-way message is dispatched at once while nothing is held, writable or not: the protocol
 *     makes us produce nothing for it. A handler that sends in reaction to messages is a producer
 *     like any other and paces itself with {@code isWritable()}.</li>
 * <li>When the queue is writable again (low water mark), held frames are dispatched in order, as long
 *     as it stays writable; held replies and messages go as they come up.</li>
 * <li>Only when the held frames' charge reaches the backlog limit does reading stop: the peer sent
 *     that much work while not reading our answers. It resumes once dispatch has halved the backlog.
 *     A peer that reads (a client pipelining large requests) is only slowed, as by any full pipe.</li>
 * <li>If reading has stopped and the peer takes none of our bytes for the stall timeout, the two
 *     sides are stuck for good: the peer, a channel like this one, may have stopped reading for the
 *     same reason. The channel then closes with a {@link PeerStalledException} rather than hang
 *     silently; every request on it fails, typed.</li>
 * <li>Likewise once the peer's end is read while some of its frames are held: the end is acted on
 *     (a graceful close) only after them, and they wait on the peer reading. Sending nothing more, it
 *     can never fill the backlog, so reading never stops and the watch above would never start; it is
 *     started at the end instead, and a peer that takes none of our bytes for the stall timeout
 *     closes the channel as above, as it would close a graceful one.</li>
 * </ul>
 *
 * <p>Loop thread only.
 */
final class ReadSide implements ByteSource.Listener, FrameListener {
    // The protocol-error line is the channel's: logged under its class, as before the split.
    private static final Logger LOG = LoggerFactory.getLogger(DefaultMessageChannel.class);
    // A client that sends garbage in a loop, reconnecting each time, must not flood the log (see FloodKey).
    private static final LogLimiter PROTOCOL_ERRORS_LOGGED = new LogLimiter(20, Duration.ofMinutes(1));

    private final DefaultMessageChannel channel;
    private final EventLoop loop;
    private final ByteSource in;
    private final FrameDecoder decoder;
    private final Requests requests;
    private final Dispatcher dispatcher;
    private final FrameWriter writer;
    private final Outbound outbound;
    private final Backlog backlog;
    private final Duration stallTimeout;
    private final Runnable drainTask = this::drain;
    private boolean drainArmed;
    private boolean paused;
    private boolean endPending; // the end is read; held frames are dispatched before it is acted on
    private boolean peerEnded;  // the end is read, for good
    private Timeout stallTimer;
    private long takenAtLastCheck;

    ReadSide(DefaultMessageChannel channel, ByteSource in, int maxFrameSize, Requests requests, Dispatcher dispatcher,
             FrameWriter writer, long backlogLimit, Duration stallTimeout) {
        this.channel = channel;
        this.loop = channel.loop();
        this.in = in;
        this.decoder = new FrameDecoder(maxFrameSize);
        this.requests = requests;
        this.dispatcher = dispatcher;
        this.writer = writer;
        this.outbound = writer.outbound;
        this.backlog = new Backlog(backlogLimit);
        this.stallTimeout = stallTimeout;
    }

    @Override
    public void onData(ByteBuffer chunk) {
        if (channel.isTerminated()) {
            return;
        }
        ProtocolException corrupt = null;
        writer.beginDispatch();
        try {
            decoder.decode(chunk, this);
        } catch (ProtocolException e) {
            corrupt = e;
        } finally {
            writer.endDispatch();
        }
        if (corrupt != null) {
            protocolError(corrupt);
            return;
        }
        if (!paused && backlog.isFull() && !channel.isTerminated()) {
            pause();
        }
    }

    @Override
    public void onEnd() {
        try {
            decoder.endOfInput();
        } catch (ProtocolException e) {
            protocolError(e);
            return;
        }
        // Before anything is failed: a callback of a failed request may make another, which must be
        // refused at once (no reply can come), not tracked until a graceful close or for good.
        peerEnded = true;
        if (backlog.isEmpty()) {
            channel.inputEnded();
        } else {
            endPending = true; // what the peer sent before its end is handled first
            channel.failUnanswered(); // their replies would have come before the end
            if (stallTimer == null && !channel.isTerminated()) {
                takenAtLastCheck = outbound.takenBytes();
                watchForStall();
            }
        }
    }

    /** True once the peer's end has been read: no reply to a new request can come. */
    boolean peerEnded() {
        return peerEnded;
    }

    @Override
    public void onError(Throwable error) {
        channel.terminate(error);
    }

    @Override
    public void onFrame(int type, int flags, int requestId, ByteBuffer body) {
        if (channel.isTerminated()) {
            return; // a handler closed the channel; the rest of the chunk is moot
        }
        // Reserved combinations (ERROR without REPLY, REQUEST with REPLY) are read by their REPLY bit:
        // the wire format makes only unknown bits an error.
        if ((flags & FLAG_REPLY) != 0) {
            OpenRequest p = requests.take(requestId);
            if (p == null) {
                LOG.debug("{}: reply to request {}, which is not outstanding (timed out, cancelled or never sent), dropped",
                        channel.name(), Integer.toUnsignedLong(requestId));
            } else if (backlog.isEmpty()) {
                requests.deliver(p, type, flags, requestId, body);
            } else {
                // Its timer runs on: the caller cannot see the reply until the frames ahead of it are
                // dispatched, which waits on the peer reading; a timeout bounds that wait too.
                backlog.add(type, flags, requestId, body, p);
            }
            return;
        }
        boolean request = (flags & FLAG_REQUEST) != 0;
        if (backlog.isEmpty() && (!request || outbound.isWritable())) {
            dispatcher.dispatch(type, request, requestId, body);
        } else {
            backlog.add(type, flags, requestId, body, null);
            armDrain();
        }
    }

    /** Dispatches held frames once the outbound queue is writable again. */
    private void armDrain() {
        if (drainArmed) {
            return;
        }
        drainArmed = true;
        // Completes inside the outbound's write bookkeeping: dispatch from a task of its own instead.
        outbound.whenWritable().whenComplete((v, e) -> {
            if (e != null) {
                drainArmed = false; // the queue failed: the channel is terminating
                return;
            }
            try {
                loop.execute(drainTask);
            } catch (LoopClosedException closing) {
                drainArmed = false; // the loop's shutdown fails the channel
            }
        });
    }

    /** True while some of the peer's frames wait for dispatch. */
    boolean holdsFrames() {
        return !backlog.isEmpty();
    }

    /** Dispatches held frames now, as far as the outbound queue stays writable (a graceful close). */
    void dispatchHeld() {
        drain();
    }

    private void drain() {
        drainArmed = false;
        if (channel.isTerminated()) {
            return;
        }
        writer.beginDispatch();
        try {
            Backlog.Held h;
            while ((h = backlog.peek()) != null && !channel.isTerminated()) {
                boolean request = h.reply() == null && (h.flags() & FLAG_REQUEST) != 0;
                if (request && !outbound.isWritable()) {
                    break;
                }
                backlog.poll();
                if (h.reply() != null) {
                    requests.deliver(h.reply(), h.type(), h.flags(), h.requestId(), h.bodyBuffer());
                } else {
                    dispatcher.dispatch(h.type(), request, h.requestId(), h.bodyBuffer());
                }
            }
        } finally {
            writer.endDispatch();
        }
        if (channel.isTerminated()) {
            return;
        }
        if (!backlog.isEmpty()) {
            armDrain();
        }
        if (paused && backlog.hasRoom()) {
            resume();
        }
        if (endPending && backlog.isEmpty()) {
            endPending = false;
            stopStallWatch(); // the graceful close that follows has a watch of its own
            channel.inputEnded();
        }
    }

    private void pause() {
        paused = true;
        in.pause();
        takenAtLastCheck = outbound.takenBytes();
        watchForStall();
    }

    private void resume() {
        paused = false;
        if (!endPending) {
            stopStallWatch();
        }
        in.resume();
    }

    private void watchForStall() {
        try {
            stallTimer = loop.schedule(this::checkStall, stallTimeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (LoopClosedException e) {
            // the loop's shutdown fails the channel
        }
    }

    private void checkStall() {
        stallTimer = null;
        if (!(paused || endPending) || channel.isTerminated()) {
            return;
        }
        long taken = outbound.takenBytes();
        if (taken != takenAtLastCheck || outbound.queuedBytes() == 0) {
            takenAtLastCheck = taken; // slow, not stuck (or the queue emptied and the drain is on its way)
            watchForStall();
            return;
        }
        channel.terminate(new PeerStalledException(paused ? String.format(
                "%s: the peer took none of our %d queued bytes for %s while %d of its frames (%d bytes, limit %d) waited"
                        + " for them; reading had stopped, so both sides would have waited for good",
                channel.name(), outbound.queuedBytes(), stallTimeout, backlog.size(), backlog.chargedBytes(), backlog.limit())
                : String.format("%s: the peer ended its stream, then took none of our %d queued bytes for %s while %d of its"
                        + " frames waited for them; closed instead of waiting for good",
                channel.name(), outbound.queuedBytes(), stallTimeout, backlog.size())));
    }

    private void stopStallWatch() {
        Timeout t = stallTimer;
        stallTimer = null;
        if (t != null) {
            t.cancel();
        }
    }

    private void protocolError(ProtocolException e) {
        long notLogged = PROTOCOL_ERRORS_LOGGED.acquire(FloodKey.of(channel));
        if (notLogged >= 0) {
            LOG.warn("{}: protocol error, closing the connection: {}{}", channel.name(), e.getMessage(), LogLimiter.note(notLogged));
        } else {
            LOG.debug("{}: protocol error, closing the connection: {}", channel.name(), e.getMessage());
        }
        // Replies to the valid frames before the corrupt one go out first, as far as the kernel takes
        // them now; waiting longer would let a peer that broke the protocol hold the connection open.
        outbound.flush();
        channel.terminate(e);
    }

    /** Loop, from the channel's terminate: drops what is held; held replies fail with {@code failure}. */
    void close(Throwable failure) {
        stopStallWatch();
        endPending = false;
        backlog.clear(failure);
    }

    @Override
    public String toString() {
        return channel.name();
    }
}
