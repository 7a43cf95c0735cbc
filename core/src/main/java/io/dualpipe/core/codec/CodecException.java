package io.dualpipe.core.codec;

import io.dualpipe.core.DualPipeException;

/**
 * A message could not be turned into a body or back. Carries the type byte of the codec involved;
 * the message names that codec and the reason.
 */
public abstract class CodecException extends DualPipeException {
    private static final long serialVersionUID = 1L;
    /** The message type byte, 0..255. */
    private final int type;

    /**
     * @param type    the type byte of the codec involved
     * @param message the codec and the reason
     * @param cause   what the codec threw, or null
     */
    protected CodecException(int type, String message, Throwable cause) {
        super(message, cause);
        this.type = type;
    }

    /** {@return the message type byte, 0..255} */
    public int type() {
        return type;
    }

    /** {@code "codec 0x03 (json<Object>)"}: how messages name a codec. */
    static String describe(MessageCodec<?> codec) {
        return String.format("codec 0x%02x (%s)", codec.type(), codec);
    }
}
