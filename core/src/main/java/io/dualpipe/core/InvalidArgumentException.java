package io.dualpipe.core;

/** A caller passed a value that breaks a documented rule; the message names both. */
public class InvalidArgumentException extends DualPipeException {
    private static final long serialVersionUID = 1L;

    /** @param message the value and the rule it broke, e.g. {@code "maxLineLength <= 0: -3"} */
    public InvalidArgumentException(String message) {
        super(message);
    }

    /**
     * Checks that {@code value} is positive.
     *
     * @param name  the argument's name, for the message
     * @param value the value to check
     * @return {@code value}
     * @throws InvalidArgumentException {@code "<name> <= 0: <value>"} when it is not positive
     */
    public static int requirePositive(String name, int value) {
        if (value <= 0) {
            throw new InvalidArgumentException(name + " <= 0: " + value);
        }
        return value;
    }

    /**
     * Checks that {@code value} is positive.
     *
     * @param name  the argument's name, for the message
     * @param value the value to check
     * @return {@code value}
     * @throws InvalidArgumentException {@code "<name> <= 0: <value>"} when it is not positive
     */
    public static long requirePositive(String name, long value) {
        if (value <= 0) {
            throw new InvalidArgumentException(name + " <= 0: " + value);
        }
        return value;
    }

    /**
     * Checks that {@code value} is not null.
     *
     * @param <T>   the value's type
     * @param name  the argument's name, for the message
     * @param value the value to check
     * @return {@code value}
     * @throws InvalidArgumentException {@code "<name> is null"} when it is null
     */
    public static <T> T requireNonNull(String name, T value) {
        if (value == null) {
            throw new InvalidArgumentException(name + " is null");
        }
        return value;
    }
}
