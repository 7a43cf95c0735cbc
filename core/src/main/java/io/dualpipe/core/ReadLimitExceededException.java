package io.dualpipe.core;

/**
 * A stream read to its end ({@link ByteSource#readAll(int)}, the facade's {@code readAll}) had more
 * bytes than the caller allowed. Reading stopped at that point, so memory stayed bounded by the limit:
 * the rest of the stream is still unread in its source (close it, or read on).
 *
 * <p>Immutable, hence thread-safe.
 */
public class ReadLimitExceededException extends DualPipeException {
    private static final long serialVersionUID = 1L;
    /** The {@code maxBytes} the stream exceeded. */
    private final long limit;

    /**
     * @param what the stream, for the message (e.g. {@code "pid 4242 (cat) stdout"})
     * @param limit the {@code maxBytes} that was exceeded
     */
    public ReadLimitExceededException(String what, long limit) {
        super(what + ": more than maxBytes " + limit + " bytes before the end of the stream; stopped reading");
        this.limit = limit;
    }

    /** {@return the {@code maxBytes} the stream exceeded} */
    public long limit() {
        return limit;
    }
}
