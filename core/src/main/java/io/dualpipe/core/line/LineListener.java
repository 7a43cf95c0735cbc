package io.dualpipe.core.line;

/**
 * Receives what a {@link LineDecoder} finds, synchronously, on the thread that called
 * {@link LineDecoder#decode} or {@link LineDecoder#endOfInput}. Must not call back into the decoder
 * that is calling it.
 *
 * <p>Whatever a callback throws propagates out of {@code decode}; the decoder is left consistent
 * (the chunk's position is just past the line being reported), so the caller may go on feeding it
 * the chunk's remaining bytes or give up on the stream.
 */
@FunctionalInterface
public interface LineListener {

    /**
     * One line, terminator stripped. The string is the listener's to keep.
     *
     * @param line the line
     */
    void onLine(String line);

    /**
     * A line broke the length limit; it is reported here once and its bytes never reach
     * {@link #onLine}. Rethrows by default so that no input is lost silently: override to log and
     * carry on with the next line.
     *
     * @param e names the limit; its stack trace is where the decoder found the line
     */
    default void lineTooLong(LineTooLongException e) {
        throw e;
    }
}
