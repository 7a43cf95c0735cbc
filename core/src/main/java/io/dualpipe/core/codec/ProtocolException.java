package io.dualpipe.core.codec;

import io.dualpipe.core.DualPipeException;

/**
 * The peer broke the frame format (see {@code docs/wire-format.md}): a length over the limit,
 * unknown flag bits, or a stream that ended inside a frame. There is no way to find the next frame
 * boundary after this, so the decoder that threw is finished and the connection should be closed.
 */
public class ProtocolException extends DualPipeException {
    private static final long serialVersionUID = 1L;

    /** @param message what was wrong with the frame, and the values found */
    public ProtocolException(String message) {
        super(message);
    }
}
