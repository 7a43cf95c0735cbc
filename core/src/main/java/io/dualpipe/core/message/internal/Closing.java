package io.dualpipe.core.message.internal;

import io.dualpipe.core.ByteSink;
import io.dualpipe.core.ByteSource;
import io.dualpipe.core.ChannelClosedException;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopClosedException;
import io.dualpipe.core.LoopFuture;

import java.util.List;

/**
 * How a {@link DefaultMessageChannel} closes. Gracefully: our queued frames drain, the peer's held
 * frames are dispatched and their answers drained too, then it terminates, within the stall timeout
 * ({@link DrainWatch}) if the peer reads nothing. At once ({@link #terminate}): every request still
 * waiting fails, the queues are dropped, the streams closed, the close future completed.
 *
 * <p>The channel keeps the state itself (open, closing, closed; terminated), since the per-message
 * path reads it; this holds the procedures. Loop thread only, but for {@link #onLoop}.
 */
final class Closing {
    private final DefaultMessageChannel channel;
    private final EventLoop loop;
    private final ByteSource in;
    private final ByteSink out;
    private final Requests requests;
    private final Outbound outbound;
    private final ReadSide readSide;
    private final DrainWatch drainWatch;

    Closing(DefaultMessageChannel channel, ByteSource in, ByteSink out, Requests requests, Outbound outbound, ReadSide readSide,
            DrainWatch drainWatch) {
        this.channel = channel;
        this.loop = channel.loop();
        this.in = in;
        this.out = out;
        this.requests = requests;
        this.outbound = outbound;
        this.readSide = readSide;
        this.drainWatch = drainWatch;
    }

    /** Any thread, once the channel went from open to closing: flushes, then terminates once settled. */
    void beginGraceful() {
        onLoop(() -> {
            outbound.flush();
            terminateWhenSettled();
            if (!channel.isTerminated()) {
                drainWatch.start();
            }
        });
    }

    /**
     * Loop: terminates once our queue has drained and none of the peer's frames is held. Held frames
     * were read before the close finished: a reply among them is delivered, a request answered, so
     * they are dispatched (from a task: this completes inside the queue's write bookkeeping) and
     * their output drained first.
     */
    private void terminateWhenSettled() {
        outbound.whenDrained().whenComplete((v, e) -> {
            if (e != null || !readSide.holdsFrames()) {
                channel.terminate(e);
                return;
            }
            try {
                loop.execute(() -> {
                    readSide.dispatchHeld();
                    outbound.flush();
                    terminateWhenSettled();
                });
            } catch (LoopClosedException closing) {
                // the loop's shutdown fails the channel
            }
        });
    }

    /** Runs {@code r} on the loop; once the loop is closing, its shutdown fails the channel instead. Any thread. */
    void onLoop(Runnable r) {
        try {
            loop.runOnLoop(r);
        } catch (LoopClosedException e) {
            // The loop tells the source it closed; the source tells us (onError), and we terminate there.
            in.close();
            if (out != in) {
                out.close();
            }
        }
    }

    /**
     * Loop: fails our requests the peer has not answered: at its end of stream every reply it sent is
     * read (held ones are out of the table already), so the rest can never come. Also while its held
     * frames still wait for dispatch, which may take as long as the peer reads nothing.
     */
    void failUnanswered() {
        List<OpenRequest> orphans = requests.drain();
        if (!orphans.isEmpty()) {
            ChannelClosedException e = new ChannelClosedException(channel.name() + ": the peer closed its end with "
                    + orphans.size() + " request(s) unanswered");
            for (OpenRequest p : orphans) {
                p.fail(e);
            }
        }
    }

    /** Loop, once, from the channel's terminate (its state already closed): see {@link DefaultMessageChannel#terminate}. */
    void terminate(Throwable cause, LoopFuture<Void> closed) {
        drainWatch.stop();
        List<OpenRequest> orphans = requests.drain();
        requests.stopTimeouts();
        RuntimeException failure = cause instanceof LoopClosedException l ? l
                : new ChannelClosedException(channel.name() + (cause == null ? ": closed" : ": closed by " + cause), cause);
        outbound.fail(failure);
        readSide.close(failure);
        for (OpenRequest p : orphans) {
            p.fail(failure);
        }
        in.close();
        if (out != in) {
            out.close();
        }
        if (cause == null) {
            closed.complete(null);
        } else {
            closed.completeExceptionally(cause);
        }
    }
}
