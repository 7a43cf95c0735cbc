package io.dualpipe.core;

/** A caller passed a value that breaks a documented rule; the message names both. */
public class InvalidArgumentException extends DualPipeException {
    private static final long serialVersionUID = 1L;

    public InvalidArgumentException(String message) {
        super(message);
    }

    /** Returns {@code value}, or fails with {@code "<name> <= 0: <value>"}. */
    public static int requirePositive(String name, int value) {
        if (value <= 0) {
            throw new InvalidArgumentException(name + " <= 0: " + value);
        }
        return value;
    }

    /** Returns {@code value}, or fails with {@code "<name> <= 0: <value>"}. */
    public static long requirePositive(String name, long value) {
        if (value <= 0) {
            throw new InvalidArgumentException(name + " <= 0: " + value);
        }
        return value;
    }

    /** Returns {@code value}, or fails with {@code "<name> is null"}. */
    public static <T> T requireNonNull(String name, T value) {
        if (value == null) {
            throw new InvalidArgumentException(name + " is null");
        }
        return value;
    }
}
