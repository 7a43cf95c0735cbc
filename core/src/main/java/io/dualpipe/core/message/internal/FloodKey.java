package io.dualpipe.core.message.internal;

import io.dualpipe.core.message.MessageChannel;
import io.dualpipe.core.message.Peer;

/**
 * Whose warnings a channel's are, for a log budget ({@link io.dualpipe.core.internal.LogLimiter}'s
 * key): the server or address (a server's connections are named {@code address#n}, and a client
 * that reconnects in a loop gets a new {@code n} each time) and the peer's uid. So one flooding
 * client hides neither another user's first warning nor another server's, and reconnecting buys it
 * no fresh budget. Where the uid is unknown (TCP: every peer's is), the peer's host stands in for
 * it, so one host's flood hides no other host's first warning; its port does not, since a client
 * gets a new one per connection.
 *
 * <p>Stateless; any thread.
 */
final class FloodKey {
    private FloodKey() {
    }

    /** {@return the source of {@code channel}'s peer-triggered warnings} */
    static String of(MessageChannel channel) {
        String name = channel.name();
        int hash = name.lastIndexOf('#');
        Peer peer = channel.peer();
        String key = (hash > 0 ? name.substring(0, hash) : name) + " uid " + peer.uid();
        if (peer.hasCredentials()) {
            return key;
        }
        String host = host(peer.address());
        return host == null ? key : key + " host " + host;
    }

    /**
     * {@return {@code address} without its port ({@code tcp:10.0.0.7:40122} gives {@code tcp:10.0.0.7},
     * {@code tcp:[::1]:40122} gives {@code tcp:[::1]}), or null if it ends in none (a pipe's peer is
     * known by the channel's own name)}
     */
    static String host(String address) {
        int colon = address.lastIndexOf(':');
        if (colon <= 0 || colon == address.length() - 1) {
            return null;
        }
        for (int i = colon + 1; i < address.length(); i++) {
            char c = address.charAt(i);
            if (c < '0' || c > '9') {
                return null;
            }
        }
        return address.substring(0, colon);
    }
}
