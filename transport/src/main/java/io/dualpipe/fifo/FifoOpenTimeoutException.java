package io.dualpipe.fifo;

import java.nio.file.Path;
import java.time.Duration;

/**
 * A writer gave up waiting for a reader: no process opened the FIFO for reading before the
 * {@linkplain FifoWriterOptions#timeout(Duration) timeout}, e.g.
 * {@code no reader opened fifo '/tmp/x' within 250 ms (9 attempts, each failing with ENXIO)}.
 * No fd is left open. Immutable.
 */
public class FifoOpenTimeoutException extends FifoException {
    private static final long serialVersionUID = 1L;
    /** The timeout that passed. */
    private final Duration timeout;
    /** How many opens were tried. */
    private final int attempts;

    /**
     * @param path     the FIFO's path
     * @param timeout  the timeout that passed
     * @param attempts how many times the open was tried
     */
    public FifoOpenTimeoutException(Path path, Duration timeout, int attempts) {
        super(path, "no reader opened fifo '" + path + "' within " + timeout.toMillis() + " ms ("
                + attempts + " attempts, each failing with ENXIO)");
        this.timeout = timeout;
        this.attempts = attempts;
    }

    /** {@return the timeout that passed} */
    public Duration timeout() {
        return timeout;
    }

    /** {@return how many times open(O_WRONLY | O_NONBLOCK) was tried} */
    public int attempts() {
        return attempts;
    }
}
