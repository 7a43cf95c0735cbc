package io.dualpipe.worker;

import io.dualpipe.core.InvalidArgumentException;

/**
 * One message between a pool and its workers, in pymulproc's shape: a request word, the sender's pid,
 * the recipient's pid (0 when the message is for whoever takes it), and an optional payload that
 * JSON can carry (null, numbers, strings, lists, maps). On the wire it is the JSON array
 * {@code ["DO", 1234, 5678, {"value": 20}]} in a frame of type {@link EnvelopeCodec#TYPE}.
 *
 * <p>Immutable, hence thread-safe; the payload is whatever the sender put there and is not copied.
 *
 * @param request      the operation, e.g. {@link #DO}, {@link #FINISHED}, {@link #DIE}
 * @param senderPid    the sender's pid
 * @param recipientPid the recipient's pid, or 0 for whoever takes it
 * @param data         the payload, or null
 */
public record Envelope(String request, long senderPid, long recipientPid, Object data) {
    /** Do a task: the payload is its input. */
    public static final String DO = "DO";
    /** A task is done: the payload is its result. */
    public static final String FINISHED = "FINISHED";
    /** Stop as soon as possible: the poison pill. */
    public static final String DIE = "DIE";

    /**
     * Checks the request and the pids.
     *
     * @param request      the operation, not null or empty
     * @param senderPid    the sender's pid, {@code >= 0} (0: unspecified)
     * @param recipientPid the recipient's pid, {@code >= 0} (0: whoever takes it)
     * @param data         the payload, or null
     * @throws InvalidArgumentException if {@code request} is null or empty, or a pid is negative
     */
    public Envelope {
        InvalidArgumentException.requireNonNull("request", request);
        if (request.isEmpty()) {
            throw new InvalidArgumentException("request is empty: name the operation, e.g. DO, FINISHED, DIE");
        }
        if (senderPid < 0 || recipientPid < 0) {
            throw new InvalidArgumentException("pids must be >= 0 (0 = unspecified): sender " + senderPid + ", recipient " + recipientPid);
        }
    }

    /**
     * {@return true when the request is {@code request} (case-sensitive)}
     *
     * @param request the operation to compare with
     */
    public boolean is(String request) {
        return this.request.equals(request);
    }
}
