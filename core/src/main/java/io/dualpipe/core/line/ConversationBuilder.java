package io.dualpipe.core.line;

import io.dualpipe.core.ByteSink;
import io.dualpipe.core.InvalidArgumentException;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;

/**
 * Options of a {@link Conversation}: {@code Conversation.builder(out, in).timeoutPolicy(...).build()}.
 * Not thread-safe; {@link #build()} takes {@code in} over.
 */
public final class ConversationBuilder {
    private final ByteSink out;
    private final LineReader in;
    private Charset charset = StandardCharsets.UTF_8;
    private int maxOutstanding = Conversation.DEFAULT_MAX_OUTSTANDING;
    private TimeoutPolicy timeoutPolicy = TimeoutPolicy.BREAK;
    private boolean byId;
    private boolean pipelined;

    ConversationBuilder(ByteSink out, LineReader in) {
        this.out = InvalidArgumentException.requireNonNull("out", out);
        this.in = InvalidArgumentException.requireNonNull("in", in);
    }

    /**
     * The charset requests are encoded in (replies are decoded by {@code in}'s). Default UTF-8.
     *
     * @param charset the charset
     * @return this builder
     */
    public ConversationBuilder charset(Charset charset) {
        this.charset = InvalidArgumentException.requireNonNull("charset", charset);
        return this;
    }

    /**
     * Requests that may await replies at once (timed-out ones included under
     * {@link TimeoutPolicy#KEEP_PLACE}); past that a request fails at once with a
     * {@link TooManyRequestsException}. Default {@link Conversation#DEFAULT_MAX_OUTSTANDING}.
     *
     * @param maxOutstanding the limit, {@code > 0}
     * @return this builder
     */
    public ConversationBuilder maxOutstanding(int maxOutstanding) {
        this.maxOutstanding = InvalidArgumentException.requirePositive("maxOutstanding", maxOutstanding);
        return this;
    }

    /**
     * What a timed-out request does to a FIFO conversation. Default {@link TimeoutPolicy#BREAK}.
     *
     * @param policy the policy
     * @return this builder
     */
    public ConversationBuilder timeoutPolicy(TimeoutPolicy policy) {
        this.timeoutPolicy = InvalidArgumentException.requireNonNull("policy", policy);
        return this;
    }

    /**
     * Pairs replies with requests by an id instead of by order, for a child that echoes it: each
     * request goes out as {@code <id> <line>}, and each reply line must read {@code <id> <reply>} (or
     * just {@code <id>} for an empty reply). An id is an opaque token without spaces (a random
     * per-conversation prefix and a counter, e.g. {@code 3f9a2c1d0e7b-12}): the child echoes the
     * first word of the request as it got it. A reply line whose id matches no outstanding request
     * is never paired with one. See {@link Conversation} for the format. Default false.
     *
     * @param byId true to pair by id
     * @return this builder
     */
    public ConversationBuilder correlateById(boolean byId) {
        this.byId = byId;
        return this;
    }

    /**
     * In FIFO order, writes each request at once instead of one at a time. By default a request is
     * written only once the reply to the one before it came: then a skipped reply makes only its own
     * request time out, and no reply can reach the wrong request. Pipelined, a child that skips a reply
     * hands the next reply to the request before it at once, long before any timeout can tell; so
     * pipeline only a child that answers every line (e.g. a filter such as {@code cat} or
     * {@code tr}), or correlate by id. Requests correlated by id are always written at once. Default false.
     *
     * @param pipelined true to write each request at once
     * @return this builder
     */
    public ConversationBuilder pipelined(boolean pipelined) {
        this.pipelined = pipelined;
        return this;
    }

    /** {@return the conversation; it takes {@code in} over} */
    public Conversation build() {
        return new Conversation(out, in, charset, maxOutstanding, timeoutPolicy, byId, pipelined);
    }
}
