package io.dualpipe.nats.internal;

import io.nats.client.JetStreamApiException;
import io.nats.client.Message;
import io.nats.client.impl.Headers;

/**
 * The headers DualPipe puts on NATS messages, and the outcome words of a result. A task is a JSON
 * body with {@link #TASK} (its id) and {@link #REPLY} (the subject its result goes to); a result is
 * a body with {@link #TASK}, {@link #STATUS} and, for some statuses, {@link #WORD} or
 * {@link #DELIVERIES}. Stateless.
 */
public final class Wire {
    public static final String TASK = "DualPipe-Task";
    public static final String REPLY = "DualPipe-Reply";
    public static final String STATUS = "DualPipe-Status";
    public static final String WORD = "DualPipe-Word";
    public static final String AGENT = "DualPipe-Agent";
    public static final String DELIVERIES = "DualPipe-Deliveries";

    /** The worker answered FINISHED: the body is the result's JSON. */
    public static final String FINISHED = "FINISHED";
    /** The task threw in the worker: the body is the worker's error text (UTF-8). */
    public static final String ERROR = "ERROR";
    /** The worker answered with another word ({@link #WORD}): the body is that envelope's data as JSON. */
    public static final String UNEXPECTED = "UNEXPECTED";
    /** Given up after max deliver: the body says why (UTF-8); {@link #DELIVERIES} counts them. */
    public static final String FAILED = "FAILED";
    /** The worker's answer is over the server's max_payload: the body says how big (UTF-8). */
    public static final String TOO_BIG = "TOO_BIG";
    /** Bytes of a message kept for its headers when its body is checked against the server's max_payload. */
    public static final int HEADER_ROOM = 512;

    /** JetStream API errors of a stream that refuses a message because it is full (DiscardPolicy.New). */
    private static final int MAX_MESSAGES_EXCEEDED = 10077;
    private static final int MAX_BYTES_EXCEEDED = 10078;
    private static final int RESOURCES_EXCEEDED = 10047;

    private Wire() {
    }

    public static String header(Message m, String name) {
        Headers h = m.getHeaders();
        return h == null ? null : h.getFirst(name);
    }

    /** The JetStream API error in {@code e}'s causes, or null. */
    public static JetStreamApiException apiError(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof JetStreamApiException api) {
                return api;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return null;
    }

    public static boolean isStreamFull(JetStreamApiException e) {
        int c = e.getApiErrorCode();
        return c == MAX_MESSAGES_EXCEEDED || c == MAX_BYTES_EXCEEDED || c == RESOURCES_EXCEEDED
                || (e.getErrorDescription() != null && e.getErrorDescription().contains("exceeded"));
    }
}
