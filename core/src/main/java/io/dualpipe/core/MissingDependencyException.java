package io.dualpipe.core;

/**
 * A feature was used whose optional library is not on the class path (or, on the module path, not
 * resolved): JSON messages and worker envelopes need Jackson
 * ({@code com.fasterxml.jackson.core:jackson-databind}). The message names the feature, the Maven
 * coordinates to add and, for the module path, the module to require.
 */
public class MissingDependencyException extends DualPipeException {
    private static final long serialVersionUID = 1L;
    /** The Maven coordinates of what is missing. */
    private final String dependency;

    /**
     * @param message    the feature, the coordinates to add and the module to require
     * @param dependency the Maven coordinates ({@code groupId:artifactId}) of what is missing
     * @param cause      the {@link LinkageError} or {@link ClassNotFoundException} met, or null
     */
    public MissingDependencyException(String message, String dependency, Throwable cause) {
        super(message, cause);
        this.dependency = dependency;
    }

    /** {@return the Maven coordinates ({@code groupId:artifactId}) of what is missing} */
    public String dependency() {
        return dependency;
    }
}
