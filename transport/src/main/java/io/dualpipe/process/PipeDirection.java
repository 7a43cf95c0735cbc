package io.dualpipe.process;

/** Which way an extra pipe (child fd 3 and up) carries bytes. */
public enum PipeDirection {
    /** The child writes its fd; the parent reads it as a {@link io.dualpipe.core.ByteSource}. */
    FROM_CHILD,
    /** The parent writes it as a {@link io.dualpipe.core.ByteSink}; the child reads its fd. */
    TO_CHILD
}
