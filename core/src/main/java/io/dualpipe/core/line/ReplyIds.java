package io.dualpipe.core.line;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The ids of a {@link Conversation} that correlates replies by id. An id reads
 * {@code <prefix>-<n>}: a random prefix of 12 hex digits drawn once per conversation, then a
 * counter (1, 2, 3, ...). A bare counter would let a line that merely begins with a number ("2
 * errors found"), or an id the child kept from an earlier conversation, match another outstanding
 * request and take its reply; with the prefix such a line matches nothing and goes to the
 * unsolicited lines, and since the counter never repeats, neither does an id within the conversation.
 *
 * <p>Guarded by the conversation's lock, except {@link #parse}, which reads only the final prefix.
 */
final class ReplyIds {
    private static final int MAX_DIGITS = 18; // a long never overflows

    private final String prefix;
    private final Map<Long, PendingReply<?>> pending = new HashMap<>();
    private long last;

    ReplyIds() {
        this(ThreadLocalRandom.current().nextLong());
    }

    ReplyIds(long random) {
        this.prefix = String.format("%012x", random & 0xFFFF_FFFF_FFFFL) + "-";
    }

    /** Gives {@code p} the next id and registers it; returns what its request line starts with: the id and a space (ASCII). */
    String register(PendingReply<?> p) {
        p.id = ++last;
        pending.put(p.id, p);
        return prefix + p.id + " ";
    }

    PendingReply<?> get(long id) {
        return pending.get(id);
    }

    void remove(PendingReply<?> p) {
        pending.remove(p.id, p);
    }

    int size() {
        return pending.size();
    }

    /** Every pending reply, now no longer registered. */
    List<PendingReply<?>> takeAll() {
        List<PendingReply<?>> all = new ArrayList<>(pending.values());
        pending.clear();
        return all;
    }

    /** The counter of the id that {@code line} starts with (its first {@code end} chars), or -1 when that is no id of this conversation. Any thread. */
    long parse(String line, int end) {
        int digits = end - prefix.length();
        if (digits <= 0 || digits > MAX_DIGITS || !line.startsWith(prefix)) {
            return -1;
        }
        long id = 0;
        for (int i = prefix.length(); i < end; i++) {
            char c = line.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            id = id * 10 + (c - '0');
        }
        return id == 0 ? -1 : id;
    }

    /** For the log: why a line whose id {@link #parse} read as {@code id} matched no request. */
    String whyUnmatched(String line, int end, long id) {
        if (id > 0 && id <= last) {
            return " (a late reply: request " + prefix + id + " timed out or failed)";
        } else if (id > 0) {
            return " (no request has id " + prefix + id + ")";
        }
        return end == 0 ? " (it has no request id)"
                : " (it has no request id of this conversation, whose ids read " + prefix + "<n>: '"
                + RequestLine.shorten(line.substring(0, end)) + "')";
    }
}
