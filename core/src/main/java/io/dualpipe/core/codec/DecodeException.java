package io.dualpipe.core.codec;

/**
 * A body is not valid for its type's codec (bad JSON, malformed UTF-8, an index outside a table), or
 * the codec failed on it. {@link CodecRegistry} wraps anything else a codec throws from
 * {@code decode} in one of these. Unlike a {@link ProtocolException}, the frame boundaries are intact:
 * the connection can carry on, for instance by answering the request with an error reply.
 */
public class DecodeException extends CodecException {
    private static final long serialVersionUID = 1L;

    public DecodeException(int type, String message) {
        super(type, message, null);
    }

    public DecodeException(int type, String message, Throwable cause) {
        super(type, message, cause);
    }
}
