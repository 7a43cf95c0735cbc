package io.dualpipe.core.codec;

/**
 * A codec could not encode a message: it does not fit the codec's format (a value missing from a
 * table, an object Jackson cannot serialise, a string with an unpaired surrogate) or the codec failed.
 * {@link CodecRegistry} wraps anything else a codec throws from {@code encode} in one of these.
 */
public class EncodeException extends CodecException {
    private static final long serialVersionUID = 1L;

    /**
     * @param type    the type byte of the codec
     * @param message the codec and why the message does not fit it
     */
    public EncodeException(int type, String message) {
        super(type, message, null);
    }

    /**
     * @param type    the type byte of the codec
     * @param message the codec and why the message does not fit it
     * @param cause   what the codec or its serialiser threw
     */
    public EncodeException(int type, String message, Throwable cause) {
        super(type, message, cause);
    }
}
