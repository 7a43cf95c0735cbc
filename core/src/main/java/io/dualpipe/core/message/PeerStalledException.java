package io.dualpipe.core.message;

import io.dualpipe.core.ChannelClosedException;

/**
 * The channel closed because the peer took none of our frames for the stall timeout, either while its
 * own requests filled the channel's backlog (holding more would cost unbounded memory, and reading no
 * more would leave both sides waiting for good: the peer, a channel like this one, may be waiting
 * for us in the same way), or, once the peer ended its stream or a graceful close began, while our
 * queued frames (and the peer's frames held behind them) waited to go out. Pending requests fail with
 * a {@link ChannelClosedException} caused by it, and {@link MessageChannel#closeFuture()} fails with it.
 */
public class PeerStalledException extends ChannelClosedException {
    private static final long serialVersionUID = 1L;

    /** @param message the channel, the stall timeout and the backlog */
    public PeerStalledException(String message) {
        super(message);
    }
}
