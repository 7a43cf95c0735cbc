package io.dualpipe.net;

import io.dualpipe.core.DualPipeException;

/**
 * The sockets of {@code io.dualpipe.net} are not implemented for this operating system. Linux and
 * macOS are; elsewhere the calls or constants they rely on (accept4 or accept + fcntl, SO_PEERCRED or
 * getpeereid + LOCAL_PEERPID, the {@code sockaddr} layouts) have not been worked out, so binding or
 * connecting fails with this rather than with a wrong answer from the kernel.
 */
public class UnsupportedPlatformException extends DualPipeException {
    private static final long serialVersionUID = 1L;

    /** @param message the operating system and what is missing for it */
    public UnsupportedPlatformException(String message) {
        super(message);
    }
}
