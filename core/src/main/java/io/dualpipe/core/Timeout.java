package io.dualpipe.core;

/** A task scheduled on an {@link EventLoop}. Thread-safe. */
public interface Timeout {

    /**
     * Stops the task if it has not run yet. From another thread the removal hops onto the loop, but
     * the task is guaranteed not to start once this returns true.
     *
     * @return true if this call cancelled it, false if it already ran or was cancelled
     */
    boolean cancel();

    /** {@return true once the task ran or was cancelled} */
    boolean isDone();
}
