package io.dualpipe.core.message.internal;

import io.dualpipe.core.ByteSink;
import io.dualpipe.core.ByteSource;
import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.codec.CodecRegistry;
import io.dualpipe.core.codec.Frames;
import io.dualpipe.core.message.MessageChannel;
import io.dualpipe.core.message.MessageErrorListener;
import io.dualpipe.core.message.MessageHandler;
import io.dualpipe.core.message.Peer;

import java.time.Duration;

/**
 * Everything a {@link MessageChannel} is configured with, frozen, so that a server can open any
 * number of connections with the same codecs, limits and handlers. Immutable and thread-safe; the
 * public builders ({@code MessageChannelBuilder}, the server's and the client's) fill a {@link Builder}.
 */
public final class ChannelSettings {
    /** Queued outbound bytes above which a channel reports itself not writable. */
    public static final int DEFAULT_HIGH_WATER = 64 * 1024;
    public static final int DEFAULT_LOW_WATER = 32 * 1024;
    /** Bytes of the peer's held requests (and what came after them) at which a channel stops reading. */
    public static final int DEFAULT_BACKLOG = 256 * 1024;
    /** How long a channel that stopped reading waits for the peer to take any of its bytes before it gives up. */
    public static final Duration DEFAULT_STALL_TIMEOUT = Duration.ofSeconds(10);

    final CodecRegistry codecs;
    final int maxFrameSize;
    final int lowWater;
    final int highWater;
    final HandlerTable handlers;
    final MessageErrorListener errorListener;
    final int backlogLimit;
    final Duration stallTimeout;

    private ChannelSettings(Builder b) {
        this.codecs = b.codecs;
        this.maxFrameSize = b.maxFrameSize;
        this.lowWater = b.lowWater;
        this.highWater = b.highWater;
        this.handlers = b.handlers;
        this.errorListener = b.errorListener;
        this.backlogLimit = b.backlogLimit;
        this.stallTimeout = b.stallTimeout;
    }

    public static Builder builder(CodecRegistry codecs) {
        return new Builder(codecs);
    }

    public CodecRegistry codecs() {
        return codecs;
    }

    public int maxFrameSize() {
        return maxFrameSize;
    }

    /**
     * A channel over {@code in} and {@code out}, which it takes over (it becomes {@code in}'s
     * listener and closes both when it closes). Frames are read from the moment this returns, with
     * these settings' handlers already in place.
     */
    public MessageChannel open(ByteSource in, ByteSink out, String name, Peer peer) {
        return DefaultMessageChannel.open(this, in, out, name, peer);
    }

    /** Not thread-safe; {@link #build()} takes a snapshot. */
    public static final class Builder {
        private final CodecRegistry codecs;
        private int maxFrameSize = Frames.DEFAULT_MAX_FRAME_SIZE;
        private int lowWater = DEFAULT_LOW_WATER;
        private int highWater = DEFAULT_HIGH_WATER;
        private HandlerTable handlers = HandlerTable.EMPTY;
        private MessageErrorListener errorListener;
        private int backlogLimit = DEFAULT_BACKLOG;
        private Duration stallTimeout = DEFAULT_STALL_TIMEOUT;

        private Builder(CodecRegistry codecs) {
            this.codecs = InvalidArgumentException.requireNonNull("codecs", codecs);
        }

        public Builder maxFrameSize(int bytes) {
            this.maxFrameSize = InvalidArgumentException.requirePositive("maxFrameSize", bytes);
            return this;
        }

        public Builder writeWaterMarks(int low, int high) {
            InvalidArgumentException.requirePositive("highWaterMark", high);
            if (low < 0 || low > high) {
                throw new InvalidArgumentException("lowWaterMark must be in [0, highWaterMark=" + high + "]: " + low);
            }
            this.lowWater = low;
            this.highWater = high;
            return this;
        }

        public Builder backlog(int bytes) {
            this.backlogLimit = InvalidArgumentException.requirePositive("backlog", bytes);
            return this;
        }

        public Builder stallTimeout(Duration timeout) {
            InvalidArgumentException.requireNonNull("stallTimeout", timeout);
            if (timeout.isNegative() || timeout.isZero()) {
                throw new InvalidArgumentException("stallTimeout <= 0: " + timeout);
            }
            this.stallTimeout = timeout;
            return this;
        }

        public <T> Builder handle(int type, Class<T> messageClass, MessageHandler<? super T> handler) {
            handlers = handlers.with(codecs, type, messageClass, handler);
            return this;
        }

        public Builder handleAny(MessageHandler<Object> handler) {
            handlers = handlers.withAny(handler);
            return this;
        }

        public Builder onError(MessageErrorListener listener) {
            this.errorListener = InvalidArgumentException.requireNonNull("listener", listener);
            return this;
        }

        public ChannelSettings build() {
            return new ChannelSettings(this);
        }
    }
}
