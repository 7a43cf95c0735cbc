package io.dualpipe.core;

/**
 * A stream has one consumer at a time: pull reads ({@code read}, {@code readLine}) or a pushed
 * listener. Switching to a listener fails the reads still pending with this; reading while a listener
 * is set fails the read.
 */
public class ConsumerConflictException extends DualPipeException {
    private static final long serialVersionUID = 1L;

    /** @param message the calls that conflict */
    public ConsumerConflictException(String message) {
        super(message);
    }
}
