package io.dualpipe.fifo;

import java.nio.file.Path;

/**
 * A FIFO exists at the path but is not safe to reuse: another user owns it, or its permission bits
 * differ from the mode asked for (a FIFO others may open is a door into the reader: whoever can open
 * it can inject messages, or read them away). Nothing was changed. For example
 * {@code fifo '/tmp/x' exists but is not safe to reuse: owner uid 1001 (this process runs as uid
 * 1000), mode 0622 (asked for 0600)}. Immutable.
 */
public class UnsafeFifoException extends FifoException {
    private static final long serialVersionUID = 1L;
    /** The uid that owns the FIFO found. */
    private final int ownerUid;
    /** The FIFO's mode bits. */
    private final int mode;
    /** The mode that was asked for. */
    private final int requestedMode;

    /**
     * @param path          the FIFO's path
     * @param ownerUid      the uid that owns the FIFO found there
     * @param ourUid        this process's effective uid, for the message
     * @param mode          the FIFO's permission bits
     * @param requestedMode the mode that was asked for
     */
    public UnsafeFifoException(Path path, int ownerUid, int ourUid, int mode, int requestedMode) {
        super(path, "fifo '" + path + "' exists but is not safe to reuse: owner uid " + ownerUid
                + (ownerUid == ourUid ? "" : " (this process runs as uid " + ourUid + ")")
                + ", mode 0" + Integer.toOctalString(mode)
                + (mode == requestedMode ? "" : " (asked for 0" + Integer.toOctalString(requestedMode) + ")")
                + "; remove it, or create it where nobody else can");
        this.ownerUid = ownerUid;
        this.mode = mode;
        this.requestedMode = requestedMode;
    }

    /** {@return the uid that owns the FIFO found at the path} */
    public int ownerUid() {
        return ownerUid;
    }

    /** {@return its permission bits (and set-id/sticky bits, if any)} */
    public int mode() {
        return mode;
    }

    /** {@return the mode that was asked for} */
    public int requestedMode() {
        return requestedMode;
    }
}
