package io.dualpipe.nats.internal;

import io.dualpipe.core.InvalidArgumentException;

import java.io.IOException;
import java.net.InetAddress;

/**
 * An agent's name: the one its builder is given, checked, or host and pid by default. The name goes
 * into NATS subjects, connection names and thread names, so it is kept to letters, digits, {@code _}
 * and {@code -}: a dot or wildcard would change a subject's meaning.
 *
 * <p><b>Threading.</b> Stateless, hence thread-safe; called by the agent's builder and by the agent
 * on the thread that starts it. {@link #defaultName()} may block on a host-name lookup.
 */
public final class AgentNames {
    private AgentNames() {
    }

    /**
     * {@return {@code name}, once checked}
     *
     * @throws InvalidArgumentException if it is null, or not 1 to 64 of A-Z a-z 0-9 _ -
     */
    public static String check(String name) {
        InvalidArgumentException.requireNonNull("name", name);
        if (!name.matches("[A-Za-z0-9_-]{1,64}")) {
            throw new InvalidArgumentException("name \"" + name + "\": use 1 to 64 of A-Z a-z 0-9 _ -");
        }
        return name;
    }

    /** {@return this host's name and this process's pid, with every other character made {@code _}} */
    public static String defaultName() {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            host = "host"; // a host without a resolvable name still gets agents apart by pid
        }
        return (host + "-" + ProcessHandle.current().pid()).replaceAll("[^A-Za-z0-9_-]", "_");
    }
}
