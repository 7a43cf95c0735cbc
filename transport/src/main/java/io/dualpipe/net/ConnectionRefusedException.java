package io.dualpipe.net;

import io.dualpipe.core.NativeIoException;

/**
 * Nobody accepted the connection: no server listens at the address (ECONNREFUSED), or the Unix socket
 * file does not exist (ENOENT). {@link #errnoName()} tells which; the message names the address and
 * how many attempts were made: {@code "connect to unix:/run/app.sock (3 attempts): ECONNREFUSED
 * (Connection refused)"}. A Unix path that is not a socket (a regular file, a directory, a FIFO) is
 * refused at the first attempt, without retries, and the message says what it is:
 * {@code "connect to unix:/tmp/x: /tmp/x is a regular file, not a socket: ECONNREFUSED ..."}.
 */
public class ConnectionRefusedException extends NativeIoException {
    private static final long serialVersionUID = 1L;
    /** The address nobody accepted at. */
    private final String address;

    /**
     * @param address     the address, as {@code unix:/path} or {@code tcp:host:port}
     * @param what        the call, the address and the attempts, for the message
     * @param errno       the raw errno of the last attempt
     * @param errnoName   its symbolic name, {@code "ECONNREFUSED"} or {@code "ENOENT"}
     * @param description the system's text for it, or null
     */
    public ConnectionRefusedException(String address, String what, int errno, String errnoName, String description) {
        super(what, errno, errnoName, description);
        this.address = address;
    }

    /** {@return the address, as {@code unix:/path} or {@code tcp:host:port}} */
    public String address() {
        return address;
    }
}
