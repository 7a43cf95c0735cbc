package io.dualpipe.process;

import io.dualpipe.core.InvalidArgumentException;

import java.util.HashMap;
import java.util.Map;

/**
 * The environment a child gets, as {@link ChildProcessBuilder} edits it. Until the first edit there
 * is no map at all, so that a child whose environment nobody touched inherits the parent's as the
 * launcher finds it, without a copy per start; the first {@code put} or {@code remove} copies the
 * parent's environment, and {@code clear} starts from an empty map instead. Names are checked here
 * because a name that is empty or holds {@code '='} cannot be told apart from its value in the
 * {@code NAME=value} strings the child receives.
 *
 * <p><b>Threading.</b> Not thread-safe, as the builder that owns it: it is changed by the thread
 * configuring that builder and read by whichever thread calls {@link ChildProcessBuilder#start()}.
 * {@link #map()} hands out the map itself, as {@link ChildProcessBuilder#environment()} documents.
 */
final class EnvironmentEdits {
    private Map<String, String> environment; // null = inherit unchanged

    void clear() {
        environment = new HashMap<>();
    }

    void put(String name, String value) {
        checkName(name);
        InvalidArgumentException.requireNonNull("value of " + name, value);
        edited().put(name, value);
    }

    void remove(String name) {
        checkName(name);
        edited().remove(name);
    }

    /** {@return the edited environment, or null when it was never edited (the child inherits it)} */
    Map<String, String> map() {
        return environment;
    }

    private static void checkName(String name) {
        InvalidArgumentException.requireNonNull("environment name", name);
        if (name.isEmpty() || name.indexOf('=') >= 0) {
            throw new InvalidArgumentException("environment name must be non-empty and without '=': '" + name + "'");
        }
    }

    private Map<String, String> edited() {
        if (environment == null) {
            environment = new HashMap<>(System.getenv());
        }
        return environment;
    }
}
