package io.dualpipe.core.line;

import java.util.ArrayList;
import java.util.List;

/**
 * Collects a reply of one or more lines for {@link Conversation#request(String, ReplyReader)}.
 * A fresh reader is used per request; it is fed on the loop thread only.
 *
 * @param <T> what the reply becomes
 */
public interface ReplyReader<T> {

    /** Takes the next line of the reply; returns true when the reply is complete. */
    boolean onLine(String line);

    /** The reply, called once after {@link #onLine} returned true. */
    T result();

    /** A reply of exactly one line. */
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

    /** Lines up to (not including) the first line equal to {@code terminator}. */
    static ReplyReader<List<String>> untilLine(String terminator) {
        return new ReplyReader<>() {
            private final List<String> lines = new ArrayList<>();

            @Override
            public boolean onLine(String l) {
                if (l.equals(terminator)) {
                    return true;
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

    /** Exactly {@code count} lines. */
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
