package io.dualpipe.core.codec;

/**
 * A body is not valid for its type's codec (bad JSON, malformed UTF-8, an index outside a table), or
 * the codec failed on it. {@link CodecRegistry} wraps anything else a codec throws from
 * {@code decode} in one of these. Unlike a {@link ProtocolException}, the frame boundaries are intact:
 * the connection can carry on, for instance by answering the request with an error reply.
 */
public class DecodeException extends CodecException {
    private static final long serialVersionUID = 1L;

    /**
     * @param type    the type byte of the frame's codec
     * @param message the codec and why the body is invalid
     */
    public DecodeException(int type, String message) {
        super(type, message, null);
    }

    /**
     * @param type    the type byte of the frame's codec
     * @param message the codec and why the body is invalid
     * @param cause   what the codec or its parser threw
     */
    public DecodeException(int type, String message, Throwable cause) {
        super(type, message, cause);
    }
}
