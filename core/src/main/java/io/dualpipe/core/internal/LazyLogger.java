package io.dualpipe.core.internal;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An SLF4J logger created at its first use rather than when its class is initialised. The first
 * {@code LoggerFactory.getLogger} call starts the SLF4J provider (logback reads its configuration:
 * hundreds of classes and an XML parser), and the classes on the way from {@code EventLoop.create}
 * to a child's first reply would otherwise pay that in a fresh JVM even when they never log
 * (issue 11). The application's own first log, or the library's first message, starts it instead.
 *
 * <p>{@link #get()} hands out the provider's logger itself, so caller data (class, line) stays right.
 * Thread-safe: racing first calls may both ask the factory, which returns the same logger.
 */
public final class LazyLogger {
    private final Class<?> owner;
    private volatile Logger logger;

    public LazyLogger(Class<?> owner) {
        this.owner = owner;
    }

    public Logger get() {
        Logger l = logger;
        if (l == null) {
            l = LoggerFactory.getLogger(owner);
            logger = l;
        }
        return l;
    }
}
