package io.dualpipe.core.message;

import io.dualpipe.core.DualPipeException;

/**
 * The peer answered a request with an error reply ({@code REPLY|ERROR}); the message is the peer's
 * text. The channel stays open.
 */
public class RemoteException extends DualPipeException {
    private static final long serialVersionUID = 1L;
    private final String remoteText;
    private final long requestId;

    public RemoteException(String channel, long requestId, String remoteText) {
        super(channel + ": request " + requestId + " failed at the peer: " + remoteText);
        this.remoteText = remoteText;
        this.requestId = requestId;
    }

    /** The error text exactly as the peer sent it. */
    public String remoteText() {
        return remoteText;
    }

    /** The request id, unsigned. */
    public long requestId() {
        return requestId;
    }
}
