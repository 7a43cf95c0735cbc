package io.dualpipe.core.line;

import io.dualpipe.core.DualPipeException;

/**
 * A line had more than {@code maxLineLength} bytes before its terminator. Handed to
 * {@link LineListener#lineTooLong} once per such line; the {@link LineDecoder} has already dropped
 * what it buffered and skips the rest of the line through its newline (or other delimiter).
 */
public class LineTooLongException extends DualPipeException {
    private static final long serialVersionUID = 1L;
    /** The limit the line broke. */
    private final int maxLineLength;

    /** @param maxLineLength the limit the line broke, in bytes */
    public LineTooLongException(int maxLineLength) {
        super("line length > maxLineLength " + maxLineLength + ": discarding it through the next newline");
        this.maxLineLength = maxLineLength;
    }

    /**
     * For a decoder whose lines end at {@code delimiter} rather than LF: the message names that byte.
     *
     * @param maxLineLength the limit the line broke, in bytes
     * @param delimiter     the byte that ends the decoder's lines
     */
    public LineTooLongException(int maxLineLength, byte delimiter) {
        super("line length > maxLineLength " + maxLineLength + ": discarding it through the next delimiter "
                + String.format("0x%02x", delimiter & 0xff));
        this.maxLineLength = maxLineLength;
    }

    /** {@return the limit the line broke, in bytes, terminator excluded} */
    public int maxLineLength() {
        return maxLineLength;
    }
}
