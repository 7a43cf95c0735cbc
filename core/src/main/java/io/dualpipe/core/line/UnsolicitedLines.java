package io.dualpipe.core.line;

import io.dualpipe.core.internal.LazyLogger;

/**
 * Where a {@link Conversation}'s lines go that no request waits for: to the user's handler, or
 * dropped and logged, at WARN once per burst (the first line of a run of such lines; the others at
 * DEBUG), so a chatty child cannot flood the log and a lost reply is never silent. Loop thread only,
 * except {@link #handler}.
 */
final class UnsolicitedLines {
    private static final LazyLogger LOG = new LazyLogger(Conversation.class);

    volatile LineReader.Listener handler;
    private int burst; // lines dropped since a reply last went to its request

    /** {@code line} came and no request waits for it; {@code why} says more, or is empty. */
    void dropped(String line, String why) {
        LineReader.Listener h = handler;
        if (h != null) {
            h.onLine(line);
            return;
        }
        if (burst++ == 0) {
            LOG.get().warn("dropped a line no request waits for{}: '{}' (more in this burst are logged at DEBUG)", why, RequestLine.shorten(line));
        } else {
            LOG.get().debug("dropped a line no request waits for{}: '{}'", why, RequestLine.shorten(line));
        }
    }

    /** Something no request waits for was skipped that the handler cannot be given (an over-long line). */
    void skipped(String what) {
        if (burst++ == 0) {
            LOG.get().warn("dropped {} (more in this burst are logged at DEBUG)", what);
        } else {
            LOG.get().debug("dropped {}", what);
        }
    }

    /** A reply went to its request: the burst, if any, is over. */
    void matched() {
        if (burst != 0) {
            LOG.get().debug("{} lines no request waited for were dropped in that burst", burst);
            burst = 0;
        }
    }
}
