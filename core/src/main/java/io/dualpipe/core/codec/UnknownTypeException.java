package io.dualpipe.core.codec;

/** No codec is registered for a type byte: {@code "no codec for type 0x2a"}. */
public class UnknownTypeException extends CodecException {
    private static final long serialVersionUID = 1L;

    /** @param type the type byte no codec is registered for */
    public UnknownTypeException(int type) {
        super(type, String.format("no codec for type 0x%02x", type), null);
    }
}
