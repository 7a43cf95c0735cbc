package io.dualpipe.core.internal;

import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.line.Conversation;
import io.dualpipe.core.line.ReplyReader;

import java.time.Duration;

/**
 * The transport's way to a {@link Conversation} request whose failures a {@link RequestFailures}
 * explains, without making that hook public API: {@code Conversation} registers its implementation
 * here when its class initialises (as the JDK's {@code SharedSecrets} do). Thread-safe.
 */
public final class ConversationRequests {
    /** What {@link Conversation} implements; see {@link #request}. */
    public interface Requester {
        <T> LoopFuture<T> request(Conversation c, String line, ReplyReader<T> reader, Duration timeout,
                                  RequestFailures failures);
    }

    private static volatile Requester requester;

    private ConversationRequests() {
    }

    /** Conversation's static initialiser, once. */
    public static void register(Requester r) {
        synchronized (ConversationRequests.class) {
            if (requester != null) {
                throw new IllegalStateException("a Requester is already registered");
            }
            requester = r;
        }
    }

    /**
     * {@link Conversation#request(String, ReplyReader, Duration)} on {@code c}, except that the
     * request's future fails through {@code failures}. The class of {@code c} is initialised (there is
     * an instance), so its requester is registered.
     */
    public static <T> LoopFuture<T> request(Conversation c, String line, ReplyReader<T> reader, Duration timeout,
                                            RequestFailures failures) {
        return requester.request(c, line, reader, timeout, failures);
    }
}
