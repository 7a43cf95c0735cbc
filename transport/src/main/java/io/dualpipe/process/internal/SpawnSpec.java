package io.dualpipe.process.internal;

import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.process.ResourceLimits;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What to start and how to wire it: argv, working directory, environment, the three standard
 * streams, extra pipes for child fds 3, 4, ... and a few attributes.
 *
 * <p>Immutable, hence thread-safe: one spec may be spawned any number of times from any threads.
 * All validation happens in {@link Builder#build()} ({@link SpecChecks}), and the native
 * (NUL-terminated) byte form of every string is computed there once ({@link NativeStrings}), so
 * repeated spawns of one spec pay no encoding cost.
 *
 * <p>Strings are encoded with the JVM's file-name encoding ({@code sun.jnu.encoding}), the one the
 * JDK uses for paths and for its own ProcessBuilder.
 */
public final class SpawnSpec {
    /**
     * What the child's fd 0 is. {@code FROM_FILE} is set through {@link Builder#stdinFrom}, and
     * {@code FROM_FD} (a descriptor the caller keeps owning, e.g. a pipeline's pipe) through
     * {@link Builder#stdinFromFd}.
     */
    public enum Stdin { PIPE, INHERIT, NULL_DEVICE, FROM_FILE, FROM_FD }

    /**
     * What the child's fd 1 is. The file modes are set through {@link Builder#stdoutTo} and
     * {@link Builder#stdoutAppendTo}, {@code TO_FD} through {@link Builder#stdoutToFd}.
     */
    public enum Stdout { PIPE, INHERIT, DISCARD, TO_FILE, APPEND_TO_FILE, TO_FD }

    /** What the child's fd 2 is; {@code APPEND_TO_FILE} is set through {@link Builder#stderrAppendTo}. */
    public enum Stderr { PIPE, MERGE_WITH_STDOUT, INHERIT, DISCARD, APPEND_TO_FILE }

    /** Direction of an extra pipe, seen from the child. */
    public enum PipeDirection {
        /** The child writes its fd; the parent gets the read end. */
        CHILD_WRITES,
        /** The child reads its fd; the parent gets the write end. */
        CHILD_READS
    }

    private final List<String> argv;
    private final String workingDirectory;
    private final Map<String, String> environment;
    private final Stdin stdin;
    private final Stdout stdout;
    private final Stderr stderr;
    private final String stderrFile;
    private final String stdinFile;
    private final String stdoutFile;
    private final int stdinFd;
    private final int stdoutFd;
    private final List<PipeDirection> extraPipes;
    private final boolean newProcessGroup;
    private final int pipeSize;
    private final boolean pseudoTerminal;
    private final boolean newSession;
    private final ResourceLimits limits;

    // Native forms, each NUL-terminated; env entries are "KEY=VALUE\0". Package-private for Spawner.
    final byte[][] argvBytes;
    final byte[][] envBytes; // null = inherit the parent's environ
    final byte[] cwdBytes;
    final byte[] stderrFileBytes;
    final byte[] stdinFileBytes;
    final byte[] stdoutFileBytes;
    final int nativeStringBytes;

    private SpawnSpec(Builder b, List<String> argv, Map<String, String> env) {
        this.argv = argv;
        this.workingDirectory = b.workingDirectory;
        this.environment = env;
        this.stdin = b.stdin;
        this.stdout = b.stdout;
        this.stderr = b.stderr;
        this.stderrFile = b.stderrFile;
        this.stdinFile = b.stdinFile;
        this.stdoutFile = b.stdoutFile;
        this.stdinFd = b.stdinFd;
        this.stdoutFd = b.stdoutFd;
        this.extraPipes = List.copyOf(b.extraPipes);
        this.newProcessGroup = b.newProcessGroup;
        this.pipeSize = b.pipeSize;
        this.pseudoTerminal = b.pseudoTerminal;
        this.newSession = b.newSession;
        this.limits = b.limits == null || b.limits.isEmpty() ? null : b.limits;

        argvBytes = NativeStrings.each(argv);
        envBytes = NativeStrings.environ(env);
        cwdBytes = NativeStrings.of(workingDirectory);
        stderrFileBytes = NativeStrings.of(stderrFile);
        stdinFileBytes = NativeStrings.of(stdinFile);
        stdoutFileBytes = NativeStrings.of(stdoutFile);
        nativeStringBytes = NativeStrings.length(argvBytes) + NativeStrings.length(envBytes)
                + NativeStrings.length(cwdBytes, stderrFileBytes, stdinFileBytes, stdoutFileBytes);
    }

    /** Starts a spec for {@code argv}; argv[0] is looked up in the parent's PATH unless it contains a '/'. */
    public static Builder builder(String... argv) {
        InvalidArgumentException.requireNonNull("argv", argv);
        return new Builder(toList(argv));
    }

    /** Starts a spec for {@code argv}; argv[0] is looked up in the parent's PATH unless it contains a '/'. */
    public static Builder builder(List<String> argv) {
        InvalidArgumentException.requireNonNull("argv", argv);
        return new Builder(new ArrayList<>(argv));
    }

    private static List<String> toList(String[] argv) {
        List<String> list = new ArrayList<>(argv.length);
        Collections.addAll(list, argv);
        return list;
    }

    public List<String> argv() {
        return argv;
    }

    /** Null = the parent's current directory. */
    public String workingDirectory() {
        return workingDirectory;
    }

    /** Null = inherit the parent's environment unchanged; otherwise exactly these variables. */
    public Map<String, String> environment() {
        return environment;
    }

    public Stdin stdin() {
        return stdin;
    }

    public Stdout stdout() {
        return stdout;
    }

    public Stderr stderr() {
        return stderr;
    }

    /** The file stderr is appended to when {@link #stderr()} is APPEND_TO_FILE, else null. */
    public String stderrFile() {
        return stderrFile;
    }

    /** The file stdin reads when {@link #stdin()} is FROM_FILE, else null. */
    public String stdinFile() {
        return stdinFile;
    }

    /** The file stdout writes when {@link #stdout()} is TO_FILE or APPEND_TO_FILE, else null. */
    public String stdoutFile() {
        return stdoutFile;
    }

    /** The caller's descriptor that becomes fd 0 when {@link #stdin()} is FROM_FD, else -1. */
    public int stdinFd() {
        return stdinFd;
    }

    /** The caller's descriptor that becomes fd 1 when {@link #stdout()} is TO_FD, else -1. */
    public int stdoutFd() {
        return stdoutFd;
    }

    /** Directions of the pipes on child fds 3, 4, ... in that order. */
    public List<PipeDirection> extraPipes() {
        return extraPipes;
    }

    /** True: the child leads a new process group (pgid == its pid), so a group signal reaches its descendants. */
    public boolean newProcessGroup() {
        return newProcessGroup;
    }

    /** Requested pipe capacity in bytes, 0 = kernel default. Applied on Linux only. */
    public int pipeSize() {
        return pipeSize;
    }

    /**
     * True: fds 0 and 1 (and 2 when stderr is MERGE_WITH_STDOUT) are the slave of a new
     * pseudo-terminal, which is the child's controlling terminal in a session of its own; the
     * parent gets the master. Linux only.
     */
    public boolean pseudoTerminal() {
        return pseudoTerminal;
    }

    /**
     * True: the child leads a new session (setsid: sid == pgid == its pid, no controlling terminal),
     * hence also a new process group. Implied by {@link #pseudoTerminal()}.
     */
    public boolean newSession() {
        return newSession;
    }

    /** Limits set through {@link LimitTrampoline} before the program runs; null = none. */
    public ResourceLimits limits() {
        return limits;
    }

    @Override
    public String toString() {
        return "SpawnSpec" + argv + (workingDirectory == null ? "" : " in " + workingDirectory);
    }

    /** Mutable, single-threaded; {@link #build()} validates and snapshots. */
    public static final class Builder {
        private final List<String> argv;
        private String workingDirectory;
        private Map<String, String> environment;
        private Stdin stdin = Stdin.PIPE;
        private Stdout stdout = Stdout.PIPE;
        private Stderr stderr = Stderr.PIPE;
        private String stderrFile;
        private String stdinFile;
        private String stdoutFile;
        private int stdinFd = -1;
        private int stdoutFd = -1;
        private final List<PipeDirection> extraPipes = new ArrayList<>();
        private boolean newProcessGroup;
        private int pipeSize;
        private boolean pseudoTerminal;
        private boolean newSession;
        private ResourceLimits limits;

        private Builder(List<String> argv) {
            this.argv = argv;
        }

        /** Null = the parent's current directory (the default). */
        public Builder workingDirectory(String dir) {
            this.workingDirectory = dir;
            return this;
        }

        /** Exactly these variables (copied; iteration order kept); null = inherit (the default). */
        public Builder environment(Map<String, String> env) {
            this.environment = env == null ? null : new LinkedHashMap<>(env);
            return this;
        }

        /** PIPE, INHERIT or NULL_DEVICE; the others need a path or fd: {@link #stdinFrom}, {@link #stdinFromFd}. */
        public Builder stdin(Stdin mode) {
            InvalidArgumentException.requireNonNull("stdin", mode);
            if (mode == Stdin.FROM_FILE || mode == Stdin.FROM_FD) {
                throw new InvalidArgumentException("stdin " + mode + " needs a path or fd: use stdinFrom(path) or stdinFromFd(fd)");
            }
            this.stdin = mode;
            this.stdinFile = null;
            this.stdinFd = -1;
            return this;
        }

        /**
         * The child reads {@code path}. Opened O_RDONLY by the spawn in the parent, so a missing or
         * unreadable file fails the spawn with a message naming the file, not the program.
         */
        public Builder stdinFrom(String path) {
            this.stdinFile = InvalidArgumentException.requireNonNull("stdin file", path);
            this.stdin = Stdin.FROM_FILE;
            this.stdinFd = -1;
            return this;
        }

        /**
         * The child's fd 0 is a copy of {@code fd}. The caller keeps owning {@code fd}: the spawn
         * duplicates it and never closes it, and the spec is only valid while {@code fd} is open.
         */
        public Builder stdinFromFd(int fd) {
            if (fd < 0) {
                throw new InvalidArgumentException("stdin fd < 0: " + fd);
            }
            this.stdinFd = fd;
            this.stdin = Stdin.FROM_FD;
            this.stdinFile = null;
            return this;
        }

        /** PIPE, INHERIT or DISCARD; the others need a path or fd: {@link #stdoutTo}, {@link #stdoutAppendTo}, {@link #stdoutToFd}. */
        public Builder stdout(Stdout mode) {
            InvalidArgumentException.requireNonNull("stdout", mode);
            if (mode == Stdout.TO_FILE || mode == Stdout.APPEND_TO_FILE || mode == Stdout.TO_FD) {
                throw new InvalidArgumentException("stdout " + mode
                        + " needs a path or fd: use stdoutTo(path), stdoutAppendTo(path) or stdoutToFd(fd)");
            }
            this.stdout = mode;
            this.stdoutFile = null;
            this.stdoutFd = -1;
            return this;
        }

        /** The child writes {@code path}, created (mode 0666 & ~umask) if missing and truncated if not. */
        public Builder stdoutTo(String path) {
            this.stdoutFile = InvalidArgumentException.requireNonNull("stdout file", path);
            this.stdout = Stdout.TO_FILE;
            this.stdoutFd = -1;
            return this;
        }

        /** The child appends to {@code path}, created (mode 0666 & ~umask) if missing. */
        public Builder stdoutAppendTo(String path) {
            this.stdoutFile = InvalidArgumentException.requireNonNull("stdout file", path);
            this.stdout = Stdout.APPEND_TO_FILE;
            this.stdoutFd = -1;
            return this;
        }

        /** The child's fd 1 is a copy of {@code fd}, which the caller keeps owning (see {@link #stdinFromFd}). */
        public Builder stdoutToFd(int fd) {
            if (fd < 0) {
                throw new InvalidArgumentException("stdout fd < 0: " + fd);
            }
            this.stdoutFd = fd;
            this.stdout = Stdout.TO_FD;
            this.stdoutFile = null;
            return this;
        }

        /** Any mode but APPEND_TO_FILE, which needs a path: use {@link #stderrAppendTo(String)}. */
        public Builder stderr(Stderr mode) {
            InvalidArgumentException.requireNonNull("stderr", mode);
            if (mode == Stderr.APPEND_TO_FILE) {
                throw new InvalidArgumentException("stderr APPEND_TO_FILE needs a path: use stderrAppendTo(path)");
            }
            this.stderr = mode;
            this.stderrFile = null;
            return this;
        }

        /** Appends the child's stderr to {@code path}, creating it (mode 0666 & ~umask) if missing. */
        public Builder stderrAppendTo(String path) {
            this.stderrFile = InvalidArgumentException.requireNonNull("stderr file", path);
            this.stderr = Stderr.APPEND_TO_FILE;
            return this;
        }

        /** Adds a pipe on the next child fd (3 for the first call, then 4, ...). */
        public Builder extraPipe(PipeDirection direction) {
            extraPipes.add(InvalidArgumentException.requireNonNull("extra pipe direction", direction));
            return this;
        }

        public Builder newProcessGroup(boolean value) {
            this.newProcessGroup = value;
            return this;
        }

        /** Pipe capacity in bytes for every pipe of the spawn; 0 = kernel default. Linux only, ignored elsewhere. */
        public Builder pipeSize(int bytes) {
            if (bytes < 0) {
                throw new InvalidArgumentException("pipeSize < 0: " + bytes);
            }
            this.pipeSize = bytes;
            return this;
        }

        /** See {@link SpawnSpec#pseudoTerminal()}; needs stdin and stdout PIPE (the defaults). */
        public Builder pseudoTerminal(boolean value) {
            this.pseudoTerminal = value;
            return this;
        }

        /** See {@link SpawnSpec#newSession()}. */
        public Builder newSession(boolean value) {
            this.newSession = value;
            return this;
        }

        /** See {@link SpawnSpec#limits()}; null or empty = none. */
        public Builder limits(ResourceLimits value) {
            this.limits = value;
            return this;
        }

        /** Checks every setting ({@link SpecChecks}), then snapshots and encodes them. */
        public SpawnSpec build() {
            SpecChecks.argv(argv);
            SpecChecks.workingDirectory(workingDirectory);
            SpecChecks.pseudoTerminal(pseudoTerminal, stdin, stdout);
            SpecChecks.limits(limits, extraPipes.size());
            SpecChecks.path("stderr file", stderrFile);
            SpecChecks.path("stdin file", stdinFile);
            SpecChecks.path("stdout file", stdoutFile);
            SpecChecks.environment(environment);
            Map<String, String> env = environment == null ? null : Collections.unmodifiableMap(new LinkedHashMap<>(environment));
            return new SpawnSpec(this, List.copyOf(argv), env);
        }
    }
}
