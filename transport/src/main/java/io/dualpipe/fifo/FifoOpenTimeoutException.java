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
    private final Duration timeout;
    private final int attempts;

    public FifoOpenTimeoutException(Path path, Duration timeout, int attempts) {
        super(path, "no reader opened fifo '" + path + "' within " + timeout.toMillis() + " ms ("
                + attempts + " attempts, each failing with ENXIO)");
        this.timeout = timeout;
        this.attempts = attempts;
    }

    /** The timeout that passed. */
    public Duration timeout() {
        return timeout;
    }

    /** How many times open(O_WRONLY | O_NONBLOCK) was tried. */
    public int attempts() {
        return attempts;
    }
}
