package io.dualpipe.net;

import io.dualpipe.core.DualPipeException;

/**
 * A server cannot bind its address: a live server already listens on that Unix socket path (a
 * connect to it succeeded), the path is a file that is not a socket, or the TCP port is taken
 * (EADDRINUSE). A live server's socket file is never taken over.
 */
public class AddressInUseException extends DualPipeException {
    private static final long serialVersionUID = 1L;
    /** The address that is taken. */
    private final String address;

    /**
     * @param address the address, as {@code unix:/path} or {@code tcp:host:port}
     * @param message what holds it
     * @param cause   the bind or probe error, or null
     */
    public AddressInUseException(String address, String message, Throwable cause) {
        super(message, cause);
        this.address = address;
    }

    /** {@return the address, as {@code unix:/path} or {@code tcp:host:port}} */
    public String address() {
        return address;
    }
}
