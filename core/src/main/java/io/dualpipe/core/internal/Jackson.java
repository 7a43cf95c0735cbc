package io.dualpipe.core.internal;

import io.dualpipe.core.MissingDependencyException;

/**
 * Whether Jackson, an optional dependency, can be used. Code that names Jackson's classes lives in
 * classes of its own that are loaded only after {@link #require} has passed: the JVM's verifier
 * loads the types of a class's catch clauses when it loads the class, so a class that merely
 * mentions {@code JsonProcessingException} fails to load without Jackson. Thread-safe.
 */
public final class Jackson {
    public static final String COORDINATES = "com.fasterxml.jackson.core:jackson-databind";
    public static final String MODULE = "com.fasterxml.jackson.databind";
    private static final Throwable MISSING = probe();

    private Jackson() {
    }

    /** True when Jackson's databind is there to be used. */
    public static boolean present() {
        return MISSING == null;
    }

    /** Returns if Jackson is there; otherwise throws a {@link MissingDependencyException} naming it and {@code feature}. */
    public static void require(String feature) {
        if (MISSING != null) {
            throw missing(feature);
        }
    }

    /** The exception {@link #require} throws, for callers that wrap it in a codec's own error. */
    public static MissingDependencyException missing(String feature) {
        return new MissingDependencyException(feature + " needs Jackson, which is an optional dependency of DualPipe: add "
                + COORDINATES + " (tested with 2.18) to your dependencies (on the module path, also 'requires " + MODULE
                + "' or --add-modules " + MODULE + ")", COORDINATES, MISSING);
    }

    private static Throwable probe() {
        try {
            Class.forName("com.fasterxml.jackson.databind.ObjectMapper", false, Jackson.class.getClassLoader());
            return null;
        } catch (ClassNotFoundException | LinkageError e) {
            return e;
        }
    }
}
