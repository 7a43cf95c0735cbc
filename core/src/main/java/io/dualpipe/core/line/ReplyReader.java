package io.dualpipe.core.line;

import java.util.ArrayList;
import java.util.List;

/**
 * Collects a reply of one or more lines for {@link Conversation#request(String, ReplyReader)}.
 * A fresh reader is used per request; it is fed on the loop thread only. A reader that throws from
 * {@link #onLine} fails its request with what it threw and breaks the conversation (where that reply
 * ends is unknown).
 *
 * @param <T> what the reply becomes
 */
public interface ReplyReader<T> {

    /**
     * Takes the next line of the reply.
     *
     * @param line the line, terminator stripped
     * @return true when the reply is complete
     */
    boolean onLine(String line);

    /**
     * Called once after {@link #onLine} returned true.
     *
     * @return the reply
     */
    T result();

    /** {@return a reader for a reply of exactly one line} */
    static ReplyReader<String> oneLine() {
        return new ReplyReader<>() {
            private String line;

            @Override
            public boolean onLine(String l) {
                line = l;
                return true;
            }

            @Override
            public String result() {
                return line;
            }
        };
    }

    /** What {@link #untilLine(String)} collects at most: 4 Mi characters, each line's terminator counted as one. */
    int DEFAULT_MAX_REPLY_CHARS = 4 * 1024 * 1024;

    /**
     * Lines up to (not including) the first line equal to {@code terminator}, at most
     * {@link #DEFAULT_MAX_REPLY_CHARS} characters, as {@link #untilLine(String, int)}.
     *
     * @param terminator the line that ends the reply, not part of it
     * @return a fresh reader
     */
    static ReplyReader<List<String>> untilLine(String terminator) {
        return untilLine(terminator, DEFAULT_MAX_REPLY_CHARS);
    }

    /**
     * Lines up to (not including) the first line equal to {@code terminator}. A reply that grows past
     * {@code maxChars} (each line counting its length plus one) before the terminator fails with a
     * {@link ReplyTooLongException}: a child that never sends the terminator cannot fill the heap.
     *
     * @param terminator the line that ends the reply, not part of it
     * @param maxChars   the most characters the reply may hold, {@code > 0}
     * @return a fresh reader
     */
    static ReplyReader<List<String>> untilLine(String terminator, int maxChars) {
        io.dualpipe.core.InvalidArgumentException.requireNonNull("terminator", terminator);
        io.dualpipe.core.InvalidArgumentException.requirePositive("maxChars", maxChars);
        return new ReplyReader<>() {
            private final List<String> lines = new ArrayList<>();
            private long chars;

            @Override
            public boolean onLine(String l) {
                if (l.equals(terminator)) {
                    return true;
                }
                chars += l.length() + 1L;
                if (chars > maxChars) {
                    throw new ReplyTooLongException("reply longer than maxChars " + maxChars
                            + " without its terminator line '" + terminator + "' (" + lines.size() + " lines so far)");
                }
                lines.add(l);
                return false;
            }

            @Override
            public List<String> result() {
                return lines;
            }
        };
    }

    /**
     * {@return a reader of exactly {@code count} lines}
     *
     * @param count how many lines, {@code > 0}
     */
    static ReplyReader<List<String>> lines(int count) {
        io.dualpipe.core.InvalidArgumentException.requirePositive("count", count);
        return new ReplyReader<>() {
            private final List<String> lines = new ArrayList<>(count);

            @Override
            public boolean onLine(String l) {
                lines.add(l);
                return lines.size() == count;
            }

            @Override
            public List<String> result() {
                return lines;
            }
        };
    }
}
