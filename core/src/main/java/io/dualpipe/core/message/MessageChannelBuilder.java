package io.dualpipe.core.message;

import io.dualpipe.core.ByteSink;
import io.dualpipe.core.ByteSource;
import io.dualpipe.core.codec.CodecRegistry;
import io.dualpipe.core.message.internal.ChannelSettings;

/**
 * Configures and opens a {@link MessageChannel}. Handlers registered here are in place before the
 * first frame is read.
 *
 * <p>Not thread-safe: configure it on one thread. {@link #open} may be called repeatedly; each
 * channel gets the settings of that moment.
 */
public final class MessageChannelBuilder {
    private final ChannelSettings.Builder settings;
    private String name;
    private Peer peer;

    MessageChannelBuilder(CodecRegistry codecs) {
        this.settings = ChannelSettings.builder(codecs);
    }

    /**
     * The largest body accepted from the peer, and sent to it. Default 16 MiB.
     *
     * @param bytes the limit, {@code > 0}
     * @return this builder
     */
    public MessageChannelBuilder maxFrameSize(int bytes) {
        settings.maxFrameSize(bytes);
        return this;
    }

    /**
     * Not writable above {@code high} queued bytes, writable again at {@code low}. Default 32/64 KiB.
     *
     * @param low  the low water mark, 0 to {@code high}
     * @param high the high water mark, {@code > 0}
     * @return this builder
     */
    public MessageChannelBuilder writeWaterMarks(int low, int high) {
        settings.writeWaterMarks(low, high);
        return this;
    }

    /**
     * How many bytes of the peer's requests the channel holds, undispatched, while its own frames are
     * backed up (each held frame also costs 64 bytes of bookkeeping); at this many it stops reading
     * until dispatch has halved them. Default 256 KiB. See "Backpressure" in {@link MessageChannel}.
     *
     * @param bytes the limit, {@code > 0}
     * @return this builder
     */
    public MessageChannelBuilder backlog(int bytes) {
        settings.backlog(bytes);
        return this;
    }

    /**
     * How long a channel whose backlog is full, and so stopped reading, waits for the peer to take any
     * of its queued bytes before it closes with a {@link PeerStalledException}; and how long a graceful
     * close ({@link MessageChannel#closeGracefully()}, the peer's end of stream) waits for the peer to
     * take any of them. Default 10 s.
     *
     * <p>"Take" is measured at our end: bytes the kernel accepts from the channel's queue. With the
     * socket's send buffer full, the kernel accepts more only once the peer has read most of it
     * (about 200 KiB on a Unix socket by default; TCP's auto-sized buffers can hold several MiB), so a
     * peer that reads, but less than about a buffer's worth per timeout, is closed as stalled. Set the
     * timeout for the slowest reader you serve: at 10 s, one reading under ~20 KiB/s over a Unix
     * socket is cut off.
     *
     * @param timeout the wait, positive
     * @return this builder
     */
    public MessageChannelBuilder stallTimeout(java.time.Duration timeout) {
        settings.stallTimeout(timeout);
        return this;
    }

    /**
     * Routes messages of {@code type} to {@code handler}, as {@link MessageChannel#handle} does.
     *
     * @param <T>          the class the handler takes
     * @param type         the type byte, 1..255
     * @param messageClass what the handler takes
     * @param handler      called on the loop thread for each such message
     * @return this builder
     * @throws io.dualpipe.core.InvalidArgumentException as {@link MessageChannel#handle} does
     */
    public <T> MessageChannelBuilder handle(int type, Class<T> messageClass, MessageHandler<? super T> handler) {
        settings.handle(type, messageClass, handler);
        return this;
    }

    /**
     * Sets the catch-all handler, as {@link MessageChannel#handleAny} does.
     *
     * @param handler called on the loop thread for each message without a handler of its own
     * @return this builder
     */
    public MessageChannelBuilder handleAny(MessageHandler<Object> handler) {
        settings.handleAny(handler);
        return this;
    }

    /**
     * Replaces the error listener, as {@link MessageChannel#onError} does.
     *
     * @param listener called on the loop thread, not null
     * @return this builder
     */
    public MessageChannelBuilder onError(MessageErrorListener listener) {
        settings.onError(listener);
        return this;
    }

    /**
     * The channel's name in logs and errors. Default: derived from the streams'.
     *
     * @param channelName the name, or null for the default
     * @return this builder
     */
    public MessageChannelBuilder name(String channelName) {
        this.name = channelName;
        return this;
    }

    /**
     * What {@link MessageChannel#peer()} reports, e.g. a child's pid. Default: unknown.
     *
     * @param p the peer, or null for unknown
     * @return this builder
     */
    public MessageChannelBuilder peer(Peer p) {
        this.peer = p;
        return this;
    }

    /**
     * Opens a channel reading frames from {@code in} and writing them to {@code out} (the same
     * object for a socket). The channel takes both over: it becomes {@code in}'s listener, and
     * closing it closes them.
     *
     * @param in  where frames are read from
     * @param out where frames are written
     * @return the open channel
     * @throws io.dualpipe.core.InvalidArgumentException if they are served by different loops
     */
    public MessageChannel open(ByteSource in, ByteSink out) {
        return settings.build().open(in, out, name, peer);
    }
}
