package io.dualpipe.core.message;

import io.dualpipe.core.InvalidArgumentException;

/**
 * Who is at the other end of a {@link MessageChannel}, as far as the transport can tell. A Unix
 * socket knows the peer's process, user and group ids (SO_PEERCRED, taken when the connection was
 * made); TCP and plain pipes do not, and report {@link #UNKNOWN_ID} (-1) for each.
 *
 * <p>Immutable and thread-safe.
 *
 * @param pid     the peer's process id, or -1
 * @param uid     the peer's user id, or -1
 * @param gid     the peer's group id, or -1
 * @param address a human-readable address for logs, e.g. {@code unix:/run/app.sock} or
 *                {@code tcp:127.0.0.1:40122}
 */
public record Peer(int pid, int uid, int gid, String address) {
    /** The value of an id the transport cannot know. */
    public static final int UNKNOWN_ID = -1;

    /**
     * Checks the address.
     *
     * @param pid     the peer's process id, or -1
     * @param uid     the peer's user id, or -1
     * @param gid     the peer's group id, or -1
     * @param address a human-readable address for logs
     * @throws InvalidArgumentException if {@code address} is null
     */
    public Peer {
        InvalidArgumentException.requireNonNull("address", address);
    }

    /**
     * {@return a peer whose ids are unknown, e.g. a TCP peer or the other end of a pipe pair}
     *
     * @param address a human-readable address for logs
     */
    public static Peer unknown(String address) {
        return new Peer(UNKNOWN_ID, UNKNOWN_ID, UNKNOWN_ID, address);
    }

    /** {@return true when the transport reported credentials (a Unix socket)} */
    public boolean hasCredentials() {
        return uid != UNKNOWN_ID;
    }

    @Override
    public String toString() {
        return hasCredentials() ? address + " (pid " + pid + ", uid " + uid + ", gid " + gid + ")" : address;
    }
}
