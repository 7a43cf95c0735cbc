package io.dualpipe.worker;

import io.dualpipe.core.DualPipeException;

/**
 * A worker answered a task with an envelope whose request is not {@link Envelope#FINISHED}
 * ({@code "ERROR"}, say): the task fails rather than take that envelope's payload for its result.
 */
public class UnexpectedReplyException extends DualPipeException {
    private static final long serialVersionUID = 1L;
    private final transient Envelope reply;

    /**
     * @param message the task and the request word the worker answered with
     * @param reply   the envelope the worker answered with
     */
    public UnexpectedReplyException(String message, Envelope reply) {
        super(message);
        this.reply = reply;
    }

    /** {@return the envelope the worker answered with (null after deserialisation)} */
    public Envelope reply() {
        return reply;
    }
}
