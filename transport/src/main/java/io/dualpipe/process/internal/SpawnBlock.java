package io.dualpipe.process.internal;

import static io.dualpipe.process.internal.Posix.MEM;

/**
 * The per-spawn native block: one malloc'd region holding everything posix_spawnp and the calls
 * before it read from or write to native memory. In order: the pid posix_spawnp writes, pipe2's
 * scratch, the empty and the full sigset, the posix_spawnattr_t, the posix_spawn_file_actions_t,
 * the argv and envp pointer arrays, then their NUL-terminated strings followed by the paths the
 * file actions open ({@code /dev/null}, the working directory, the stdio files) and, for a
 * pseudo-terminal, the {@link Terminals#AREA} its termios and slave path go to. One allocation per
 * spawn keeps the failure paths to a single free.
 *
 * <p><b>Ownership.</b> {@link #allocate} mallocs the block and writes the pointer arrays and the
 * strings into it; from its return the caller ({@link Spawner}) owns the block and must call
 * {@link #free()} exactly once, in a finally block, after destroying the attr and file actions it
 * initialised inside it. posix_spawnp copies what it needs into the child, so the block may go as
 * soon as it returns, whatever it returned. The Java arrays passed in stay the caller's and are
 * only read.
 *
 * <p><b>Threading.</b> A block belongs to the one thread spawning with it; the class keeps no
 * shared state, so concurrent spawns each work on their own block.
 */
final class SpawnBlock {
    private static final int PTR = Posix.ADDRESS_SIZE;
    private static final byte[] DEV_NULL = {'/', 'd', 'e', 'v', '/', 'n', 'u', 'l', 'l', 0};

    // Layout of the per-spawn native block. glibc needs 336 bytes for posix_spawnattr_t, 80 for
    // posix_spawn_file_actions_t and 128 for sigset_t; macOS only pointers. Sizes are generous so
    // no libc we do not test can overrun them.
    private static final int OFF_PID = 0;
    private static final int OFF_PIPE = 8;
    private static final int OFF_SIGSET_EMPTY = 64;
    private static final int OFF_SIGSET_FULL = OFF_SIGSET_EMPTY + 256;
    private static final int OFF_ATTR = OFF_SIGSET_FULL + 256;
    private static final int OFF_FILE_ACTIONS = OFF_ATTR + 1024;
    private static final int OFF_POINTERS = OFF_FILE_ACTIONS + 1024;

    private final long block;
    /** The argv pointer array, NULL-terminated; argv[0]'s string is the first of the strings. */
    private final long argv;
    /** The envp pointer array in the block, or libc's own environ when the child inherits it. */
    private final long envp;
    private final long strings;
    private final long devNull;
    private final long cwd;
    private final long stdinFile;
    private final long stdoutFile;
    private final long stderrFile;
    private final long terminal;

    private SpawnBlock(long block, long argv, long envp, long strings, long devNull, long cwd, long stdinFile,
                       long stdoutFile, long stderrFile, long terminal) {
        this.block = block;
        this.argv = argv;
        this.envp = envp;
        this.strings = strings;
        this.devNull = devNull;
        this.cwd = cwd;
        this.stdinFile = stdinFile;
        this.stdoutFile = stdoutFile;
        this.stderrFile = stderrFile;
        this.terminal = terminal;
    }

    /**
     * Mallocs the block for {@code spec} and writes argv, envp and the paths into it. The child's
     * environment is the spec's, else libc's environ as it is now, else (only when environ cannot
     * be located) the JVM's snapshot from startup.
     *
     * @param argvBytes the argv to spawn, NUL-terminated: the spec's, or the limit trampoline's
     * @param pty       whether to reserve a {@link Terminals#AREA}
     * @throws OutOfMemoryError if malloc fails (nothing is held then)
     */
    static SpawnBlock allocate(SpawnSpec spec, byte[][] argvBytes, boolean pty) {
        int argvStringBytes = 0;
        for (byte[] a : argvBytes) {
            argvStringBytes += a.length;
        }
        int originalArgvBytes = 0;
        for (byte[] a : spec.argvBytes) {
            originalArgvBytes += a.length;
        }

        byte[][] envBytes = spec.envBytes;
        long environ = 0;
        if (envBytes == null) {
            environ = Posix.currentEnviron();
            if (environ == 0) {
                envBytes = NativeStrings.environ(System.getenv());
            }
        }

        int argc = argvBytes.length;
        int envc = envBytes == null ? 0 : envBytes.length;
        int envStringBytes = 0;
        if (envBytes != null && envBytes != spec.envBytes) {
            for (byte[] e : envBytes) {
                envStringBytes += e.length;
            }
        }
        long argvPtrs = OFF_POINTERS;
        long envPtrs = argvPtrs + (long) PTR * (argc + 1);
        long strings = envPtrs + (envBytes == null ? 0 : (long) PTR * (envc + 1));
        // spec.nativeStringBytes counts the spec's own argv and env: swap in the ones spawned with.
        long ptyArea = strings + spec.nativeStringBytes - originalArgvBytes + argvStringBytes + envStringBytes
                + DEV_NULL.length;
        long size = ptyArea + (pty ? Terminals.AREA : 0);

        long block = MEM.allocateMemory(size, false);
        if (block == 0) {
            throw new OutOfMemoryError("malloc(" + size + ") for posix_spawn arguments");
        }
        try {
            // Nothing here can fail; the guard only keeps the block from leaking if that changes.
            long cursor = block + strings;
            for (int i = 0; i < argc; i++) {
                MEM.putAddress(block + argvPtrs + (long) PTR * i, cursor);
                cursor = ChildFds.put(cursor, argvBytes[i]);
            }
            MEM.putAddress(block + argvPtrs + (long) PTR * argc, 0);
            long envp = environ;
            if (envBytes != null) {
                envp = block + envPtrs;
                for (int i = 0; i < envc; i++) {
                    MEM.putAddress(envp + (long) PTR * i, cursor);
                    cursor = ChildFds.put(cursor, envBytes[i]);
                }
                MEM.putAddress(envp + (long) PTR * envc, 0);
            }
            long devNull = cursor;
            cursor = ChildFds.put(cursor, DEV_NULL);
            long cwd = 0;
            if (spec.cwdBytes != null) {
                cwd = cursor;
                cursor = ChildFds.put(cursor, spec.cwdBytes);
            }
            long stderrFile = 0;
            if (spec.stderrFileBytes != null) {
                stderrFile = cursor;
                cursor = ChildFds.put(cursor, spec.stderrFileBytes);
            }
            long stdinFile = 0;
            if (spec.stdinFileBytes != null) {
                stdinFile = cursor;
                cursor = ChildFds.put(cursor, spec.stdinFileBytes);
            }
            long stdoutFile = 0;
            if (spec.stdoutFileBytes != null) {
                stdoutFile = cursor;
                ChildFds.put(cursor, spec.stdoutFileBytes);
            }
            return new SpawnBlock(block, block + argvPtrs, envp, block + strings, devNull, cwd, stdinFile, stdoutFile,
                    stderrFile, pty ? block + ptyArea : 0);
        } catch (RuntimeException | Error e) {
            MEM.freeMemory(block);
            throw e;
        }
    }

    /** Frees the block; once, after the attr and file actions in it were destroyed. */
    void free() {
        MEM.freeMemory(block);
    }

    /** Where posix_spawnp writes the child's pid. */
    long pidSlot() {
        return block + OFF_PID;
    }

    /** The child's pid, once posix_spawnp succeeded. */
    int pid() {
        return MEM.getInt(block + OFF_PID);
    }

    /** Two ints of scratch for pipe2. */
    long pipeScratch() {
        return block + OFF_PIPE;
    }

    long emptySigset() {
        return block + OFF_SIGSET_EMPTY;
    }

    long fullSigset() {
        return block + OFF_SIGSET_FULL;
    }

    long attr() {
        return block + OFF_ATTR;
    }

    long fileActions() {
        return block + OFF_FILE_ACTIONS;
    }

    /** The program posix_spawnp looks up: argv[0]'s string. */
    long file() {
        return strings;
    }

    long argv() {
        return argv;
    }

    long envp() {
        return envp;
    }

    long devNull() {
        return devNull;
    }

    /** The working directory's path, or 0 for the parent's. */
    long cwd() {
        return cwd;
    }

    /** The stdin file's path, or 0 when there is none; likewise the two below. */
    long stdinFile() {
        return stdinFile;
    }

    long stdoutFile() {
        return stdoutFile;
    }

    long stderrFile() {
        return stderrFile;
    }

    /** The {@link Terminals#AREA} for a pseudo-terminal spawn, or 0. */
    long terminal() {
        return terminal;
    }
}
