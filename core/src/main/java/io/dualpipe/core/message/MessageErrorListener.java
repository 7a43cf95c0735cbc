package io.dualpipe.core.message;

import io.dualpipe.core.DualPipeException;

/**
 * Hears about messages a {@link MessageChannel} received but could not deliver: a body its codec
 * could not decode ({@link io.dualpipe.core.codec.DecodeException}), a type byte with no codec
 * ({@link io.dualpipe.core.codec.UnknownTypeException}) or no handler ({@link NoHandlerException}),
 * or a handler that threw ({@link HandlerException}). None of these close the channel: the frame
 * boundaries are intact and the next message is handled normally. If the message was a request, the
 * channel has already answered it with an error reply.
 *
 * <p>Protocol errors (a corrupt header, a stream cut inside a frame) are not reported here: they
 * close the channel, which logs them and fails its {@link MessageChannel#closeFuture()} with the
 * {@link io.dualpipe.core.codec.ProtocolException}.
 *
 * <p><b>Threading.</b> Called on the channel's loop thread; must not block. What it throws is logged
 * (bounded: 20 times a minute per listener class at WARN, the rest at DEBUG) and ignored. The default
 * listener logs at WARN, bounded likewise per kind of error.
 */
@FunctionalInterface
public interface MessageErrorListener {

    /**
     * A message could not be delivered.
     *
     * @param channel the channel it arrived on
     * @param error   why: a {@code DecodeException}, {@code UnknownTypeException},
     *                {@link NoHandlerException} or {@link HandlerException}
     */
    void onError(MessageChannel channel, DualPipeException error);
}
