package io.dualpipe.core.internal;

import java.util.concurrent.CompletableFuture;

/**
 * How a failed request of a {@link io.dualpipe.core.line.Conversation} ends, for a transport that
 * can say more than the conversation: a child process turns "the reply stream ended" into "the
 * child exited (exit 3) before it answered", once the exit status is known. Given per request
 * through {@link ConversationRequests}; it costs the request nothing (no future, no callback) until
 * the request fails.
 *
 * <p>Called on the thread that fails the request (the loop thread, or the caller's for a request
 * refused at once), outside the conversation's lock. It must complete {@code future} exceptionally,
 * now or later, and must not block.
 */
public interface RequestFailures {
    /** {@code request} (the line as given) failed with {@code cause}: fail {@code future}, with it or with a better one. */
    void fail(String request, Throwable cause, CompletableFuture<?> future);
}
