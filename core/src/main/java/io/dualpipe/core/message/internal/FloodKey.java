package io.dualpipe.core.message.internal;

import io.dualpipe.core.message.MessageChannel;

/**
 * Whose warnings a channel's are, for a log budget ({@link io.dualpipe.core.internal.LogLimiter}'s
 * key): the server or address (a server's connections are named {@code address#n}, and a client
 * that reconnects in a loop gets a new {@code n} each time) and the peer's uid. So one flooding
 * client hides neither another user's first warning nor another server's, and reconnecting buys it
 * no fresh budget.
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
        return (hash > 0 ? name.substring(0, hash) : name) + " uid " + channel.peer().uid();
    }
}
