package io.dualpipe.process.internal;

import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.process.ResourceLimits;

import java.util.List;
import java.util.Map;

/**
 * The checks {@link SpawnSpec.Builder#build()} makes of the user's settings before it encodes
 * them, so that every setting the kernel or the C side would reject, or silently cut short (a NUL
 * ends a C string), fails here with an {@link InvalidArgumentException} naming it.
 *
 * <p>Stateless, hence thread-safe; it only reads what it is given, and keeps nothing.
 */
final class SpecChecks {
    private SpecChecks() {
    }

    static void argv(List<String> argv) {
        if (argv.isEmpty()) {
            throw new InvalidArgumentException("argv is empty: argv[0], the program, is required");
        }
        for (int i = 0; i < argv.size(); i++) {
            String arg = argv.get(i);
            if (arg == null) {
                throw new InvalidArgumentException("argv[" + i + "] is null");
            }
            requireNoNul("argv[" + i + "]", arg);
        }
        if (argv.get(0).isEmpty()) {
            throw new InvalidArgumentException("argv[0] is empty: the program name is required");
        }
    }

    static void workingDirectory(String workingDirectory) {
        if (workingDirectory != null) {
            if (workingDirectory.isEmpty()) {
                throw new InvalidArgumentException("working directory is empty: use null for the parent's");
            }
            requireNoNul("working directory", workingDirectory);
        }
    }

    static void pseudoTerminal(boolean pseudoTerminal, SpawnSpec.Stdin stdin, SpawnSpec.Stdout stdout) {
        if (pseudoTerminal && (stdin != SpawnSpec.Stdin.PIPE || stdout != SpawnSpec.Stdout.PIPE)) {
            throw new InvalidArgumentException("a pseudo-terminal is the child's stdin and stdout: stdin "
                    + stdin + " and stdout " + stdout + " must both be PIPE");
        }
    }

    static void limits(ResourceLimits limits, int extraPipes) {
        if (limits != null && !limits.isEmpty() && 3 + extraPipes > LimitTrampoline.MAX_STATUS_FD) {
            throw new InvalidArgumentException("resource limits allow at most " + (LimitTrampoline.MAX_STATUS_FD - 3)
                    + " extra pipes (the limit trampoline reports on the fd after them, a single digit): "
                    + extraPipes);
        }
    }

    static void path(String what, String path) {
        if (path != null) {
            if (path.isEmpty()) {
                throw new InvalidArgumentException(what + " is empty");
            }
            requireNoNul(what, path);
        }
    }

    static void environment(Map<String, String> environment) {
        if (environment == null) {
            return;
        }
        for (Map.Entry<String, String> e : environment.entrySet()) {
            String key = e.getKey();
            if (key == null) {
                throw new InvalidArgumentException("environment has a null name");
            }
            if (e.getValue() == null) {
                throw new InvalidArgumentException("environment variable '" + key + "' has a null value");
            }
            if (key.isEmpty() || key.indexOf('=') >= 0) {
                throw new InvalidArgumentException("environment variable name must be non-empty and without '=': '"
                        + key + "'");
            }
            requireNoNul("environment variable name", key);
            requireNoNul("environment variable '" + key + "'", e.getValue());
        }
    }

    private static void requireNoNul(String what, String value) {
        if (value.indexOf('\0') >= 0) {
            throw new InvalidArgumentException(what + " contains a NUL character, which C strings cannot hold: \""
                    + value.replace("\0", "\\0") + "\"");
        }
    }
}
