package io.dualpipe.core.message;

import io.dualpipe.core.DualPipeException;

/**
 * The peer answered a request with an error reply ({@code REPLY|ERROR}); the message is the peer's
 * text. The channel stays open.
 */
public class RemoteException extends DualPipeException {
    private static final long serialVersionUID = 1L;
    /** The peer's error text. */
    private final String remoteText;
    /** The request id, unsigned. */
    private final long requestId;

    /**
     * @param channel    the channel, for the message
     * @param requestId  the id of the request that failed, unsigned
     * @param remoteText the error text the peer sent
     */
    public RemoteException(String channel, long requestId, String remoteText) {
        super(channel + ": request " + requestId + " failed at the peer: " + remoteText);
        this.remoteText = remoteText;
        this.requestId = requestId;
    }

    /** {@return the error text exactly as the peer sent it} */
    public String remoteText() {
        return remoteText;
    }

    /** {@return the request id, unsigned} */
    public long requestId() {
        return requestId;
    }
}
