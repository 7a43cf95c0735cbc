package io.dualpipe.worker;

import io.dualpipe.core.ChannelClosedException;

/** The worker running a task exited (or its pipes closed) before it answered. */
public class WorkerExitedException extends ChannelClosedException {
    private static final long serialVersionUID = 1L;

    public WorkerExitedException(String message, Throwable cause) {
        super(message, cause);
    }
}
