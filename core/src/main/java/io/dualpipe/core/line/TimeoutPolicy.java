package io.dualpipe.core.line;

/**
 * What a {@link Conversation} that pairs replies in FIFO order does when a request times out. The
 * child may have skipped that reply or may still send it; the conversation cannot tell which, and a
 * wrong guess pairs every later reply with the wrong request. A conversation that correlates replies
 * by id ({@link ConversationBuilder#correlateById(boolean)}) needs no policy: a timeout costs only
 * its own request there.
 */
public enum TimeoutPolicy {
    /**
     * The default, and the safe choice for a child that may not answer a line at all ({@code bc}
     * prints nothing for {@code x=5}): the timed-out request fails with a
     * {@link io.dualpipe.core.message.RequestTimeoutException}, and the conversation is broken: every
     * outstanding and later request fails with a {@link ConversationBrokenException} naming the
     * request that timed out. No reply is ever handed to the wrong request; the owner restarts the
     * child (and makes a new conversation).
     */
    BREAK,

    /**
     * For a child known to answer every line, only sometimes late: the timed-out request fails, but
     * keeps its place, so its late reply is read and dropped and the next request still gets its
     * own. If the child never sends that reply, every later reply goes to the request before it.
     * Timed-out requests count against {@code maxOutstanding} until their replies come.
     */
    KEEP_PLACE
}
