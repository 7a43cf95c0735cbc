package io.dualpipe.net;

import io.dualpipe.core.DualPipeException;

/**
 * A connect did not complete within the client's connect timeout: a TCP handshake that got no
 * answer, or a Unix socket whose server kept its accept backlog full (EAGAIN).
 */
public class ConnectTimeoutException extends DualPipeException {
    private static final long serialVersionUID = 1L;

    /** @param message the address and the timeout */
    public ConnectTimeoutException(String message) {
        super(message);
    }
}
