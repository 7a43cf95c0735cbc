package io.dualpipe.process.internal;

import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.internal.LazyLogger;
import io.dualpipe.core.internal.Native;
import io.dualpipe.process.SpawnException;

import java.io.File;
import java.util.Arrays;

import static io.dualpipe.process.internal.Posix.LIB;
import static io.dualpipe.process.internal.Posix.MEM;

/**
 * Starts child processes with libc's posix_spawnp (never a fork of the JVM: glibc implements it
 * with clone(CLONE_VM|CLONE_VFORK), so the cost does not grow with the heap).
 *
 * <p>Descriptor hygiene, in order of defence: every pipe is created O_CLOEXEC so no other child
 * spawned concurrently (by us or by the JDK) inherits it; the child's ends are dup2'ed onto
 * 0, 1, 2, 3, ... by file actions (dup2 clears CLOEXEC on the copy); then the child closes every
 * other descriptor, because the JVM and libraries hold plenty without CLOEXEC (class-path jars,
 * jnr-posix pipes). See {@link CloseStrategy} for how that last step is done per platform. The
 * parent closes the child's ends right after posix_spawnp returns, whatever it returned.
 *
 * <p>The child starts with an empty signal mask and every signal at its default disposition: the
 * spawning thread's mask (the JVM blocks some signals on its threads) and the JVM's ignored
 * signals would otherwise leak into it.
 *
 * <p>Thread-safe: each call works on its own malloc'd {@link SpawnBlock} (about 3 KiB plus the
 * argument strings), which it allocates and frees itself, and shares only immutable state, so
 * spawns may run concurrently from any threads.
 */
public final class Spawner {
    private static final LazyLogger LOG = new LazyLogger(Spawner.class);

    /** How the child gets rid of descriptors it must not inherit. */
    enum CloseStrategy {
        /** posix_spawn_file_actions_addclosefrom_np(first unmapped fd): glibc >= 2.34, FreeBSD >= 13.1. */
        CLOSEFROM,
        /** macOS: POSIX_SPAWN_CLOEXEC_DEFAULT closes every fd not named by a file action. */
        CLOEXEC_DEFAULT,
        /**
         * Linux with an older glibc: scan /proc/self/fd at each spawn and add a close action for
         * every fd at or above the first unmapped one that lacks FD_CLOEXEC. Slower, and an fd
         * opened without CLOEXEC by another thread between the scan and the spawn still leaks.
         */
        PROC_SCAN,
        /** Anything else: rely on FD_CLOEXEC alone; descriptors others opened without it leak. */
        NONE
    }

    static final CloseStrategy DEFAULT_CLOSE_STRATEGY = Posix.HAS_ADDCLOSEFROM ? CloseStrategy.CLOSEFROM
            : Posix.DARWIN ? CloseStrategy.CLOEXEC_DEFAULT
            : Posix.LINUX && new File("/proc/self/fd").isDirectory() ? CloseStrategy.PROC_SCAN
            : CloseStrategy.NONE;

    private static final int ENOSYS = SpawnFailures.ENOSYS;

    static {
        if (DEFAULT_CLOSE_STRATEGY == CloseStrategy.PROC_SCAN || DEFAULT_CLOSE_STRATEGY == CloseStrategy.NONE) {
            LOG.get().warn("libc lacks posix_spawn_file_actions_addclosefrom_np; children are kept from inheriting "
                    + "descriptors by {}", DEFAULT_CLOSE_STRATEGY == CloseStrategy.PROC_SCAN
                    ? "scanning /proc/self/fd at each spawn (slower)" : "FD_CLOEXEC only (others' fds may leak)");
        }
    }

    private Spawner() {
    }

    /**
     * Starts {@code spec}. On return the child is running (its exec succeeded: glibc's
     * posix_spawnp reports exec failures synchronously), and the caller owns the returned fds and
     * must eventually reap the pid.
     *
     * @throws SpawnException when the child could not be started (no process exists then, and no
     *         descriptor was leaked)
     */
    public static Spawned spawn(SpawnSpec spec) {
        return spawn(spec, DEFAULT_CLOSE_STRATEGY);
    }

    private static final java.util.concurrent.atomic.AtomicBoolean PIPE_SIZE_IGNORED_LOGGED = new java.util.concurrent.atomic.AtomicBoolean();

    /** A pipe size asked for where the kernel has no F_SETPIPE_SZ: said once, not on every spawn. */
    private static void notePipeSizeIgnored(int pipeSize) {
        if (pipeSize > 0 && !Posix.LINUX && PIPE_SIZE_IGNORED_LOGGED.compareAndSet(false, true)) {
            LOG.get().debug("pipeBufferSize {} ignored: {} has no F_SETPIPE_SZ", pipeSize, Posix.OS);
        }
    }

    /** Package-private so tests can exercise the fallback strategies on a libc that has closefrom. */
    static Spawned spawn(SpawnSpec spec, CloseStrategy closeStrategy) {
        InvalidArgumentException.requireNonNull("spec", spec);
        String program = spec.argv().get(0);
        if (!Posix.SPAWN_FLAGS_KNOWN) {
            throw new SpawnException("cannot start program '" + program + "': process spawning is not supported on "
                    + Posix.OS + " (ENOSYS)", program, ENOSYS, "ENOSYS");
        }
        if (spec.workingDirectory() != null) {
            SpawnFailures.checkWorkingDirectory(spec.workingDirectory(), program);
        }
        notePipeSizeIgnored(spec.pipeSize());
        boolean pty = spec.pseudoTerminal();
        if (pty && !Posix.LINUX) {
            // The termios layout, the controlling-terminal rules and EIO at the end are only worked
            // out (and tested) for Linux: fail by name rather than misconfigure a terminal.
            throw new SpawnException("cannot start program '" + program + "': pseudoTerminal(true) is supported on "
                    + "Linux only, not on " + Posix.OS + " (ENOSYS)", program, ENOSYS, "ENOSYS");
        }

        // With limits, the spawn runs the trampoline shell, which reports on one more fd (blocking
        // in the parent, read below) and then execs the program; checks and PATH lookup happen here.
        boolean limited = spec.limits() != null;
        byte[][] argvBytes = limited ? LimitTrampoline.argv(spec, program) : spec.argvBytes;

        int extras = spec.extraPipes().size();
        int mapped = 3 + extras + (limited ? 1 : 0);
        int[] childFds = new int[mapped];
        int[] parentFds = new int[mapped];
        Arrays.fill(childFds, -1);
        Arrays.fill(parentFds, -1);

        // Ours from here: freed in the finally below, after the attr and file actions inside it.
        SpawnBlock block = SpawnBlock.allocate(spec, argvBytes, pty);
        boolean fileActionsReady = false;
        boolean attrReady = false;
        boolean spawned = false;
        int pid = -1;
        int[] ptyFds = {-1, -1}; // master, and the parent's slave fd (for termios; closed after the spawn)
        byte ptyEof = 0;
        try {
            long fileActions = block.fileActions();
            long attr = block.attr();

            // Descriptors. Each is recorded in childFds/parentFds the moment it exists, so the
            // finally block can close it whatever fails next.
            long pipeScratch = block.pipeScratch();
            long ptsPath = 0;
            if (pty) {
                ptyEof = Terminals.openTerminal(block.terminal(), ptyFds, program);
                ptsPath = block.terminal() + Posix.TERMIOS_SIZE;
            } else {
                switch (spec.stdin()) {
                    case PIPE -> ChildFds.makePipe(pipeScratch, 0, true, childFds, parentFds, spec, program);
                    case FROM_FILE -> childFds[0] = ChildFds.openFile(block.stdinFile(), Posix.O_RDONLY | Posix.O_CLOEXEC,
                            "stdin file '" + spec.stdinFile() + "' for reading", program);
                    case FROM_FD -> childFds[0] = ChildFds.dupCallerFd(spec.stdinFd(), mapped, "stdin", program);
                    default -> { }
                }
                switch (spec.stdout()) {
                    case PIPE -> ChildFds.makePipe(pipeScratch, 1, false, childFds, parentFds, spec, program);
                    case TO_FILE -> childFds[1] = ChildFds.openFile(block.stdoutFile(),
                            Posix.O_WRONLY | Posix.O_CREAT | Posix.O_TRUNC | Posix.O_CLOEXEC,
                            "stdout file '" + spec.stdoutFile() + "' for writing", program);
                    case APPEND_TO_FILE -> childFds[1] = ChildFds.openFile(block.stdoutFile(),
                            Posix.O_WRONLY | Posix.O_CREAT | Posix.O_APPEND | Posix.O_CLOEXEC,
                            "stdout file '" + spec.stdoutFile() + "' for appending", program);
                    case TO_FD -> childFds[1] = ChildFds.dupCallerFd(spec.stdoutFd(), mapped, "stdout", program);
                    default -> { }
                }
            }
            if (spec.stderr() == SpawnSpec.Stderr.PIPE) {
                ChildFds.makePipe(pipeScratch, 2, false, childFds, parentFds, spec, program);
            } else if (spec.stderr() == SpawnSpec.Stderr.APPEND_TO_FILE) {
                childFds[2] = ChildFds.openFile(block.stderrFile(), Posix.O_WRONLY | Posix.O_CREAT | Posix.O_APPEND | Posix.O_CLOEXEC,
                        "stderr file '" + spec.stderrFile() + "' for appending", program);
            }
            for (int i = 0; i < spec.extraPipes().size(); i++) {
                ChildFds.makePipe(pipeScratch, 3 + i, spec.extraPipes().get(i) == SpawnSpec.PipeDirection.CHILD_READS,
                        childFds, parentFds, spec, program);
            }
            if (limited) {
                int[] status = LimitTrampoline.statusPipe(program);
                parentFds[mapped - 1] = status[0];
                childFds[mapped - 1] = status[1];
            }
            ChildFds.moveAboveMapped(childFds, mapped, program);

            SpawnFailures.check(LIB.posix_spawn_file_actions_init(fileActions), "posix_spawn_file_actions_init", program);
            fileActionsReady = true;
            if (pty) {
                // Opened by path in the child, after POSIX_SPAWN_SETSID made it a session leader
                // without a controlling terminal, and without O_NOCTTY: Linux then makes this
                // terminal its controlling one (a dup2 of our fd would not).
                SpawnFailures.check(LIB.posix_spawn_file_actions_addopen(fileActions, 0, ptsPath, Posix.O_RDWR, 0),
                        "posix_spawn_file_actions_addopen", program);
                SpawnFailures.check(LIB.posix_spawn_file_actions_adddup2(fileActions, 0, 1), "posix_spawn_file_actions_adddup2",
                        program);
            } else {
                ChildFds.addStdio(fileActions, 0, childFds[0], spec.stdin() == SpawnSpec.Stdin.NULL_DEVICE ? Posix.O_RDONLY : -1,
                        spec.stdin() == SpawnSpec.Stdin.INHERIT, block.devNull(), closeStrategy, program);
                ChildFds.addStdio(fileActions, 1, childFds[1], spec.stdout() == SpawnSpec.Stdout.DISCARD ? Posix.O_WRONLY : -1,
                        spec.stdout() == SpawnSpec.Stdout.INHERIT, block.devNull(), closeStrategy, program);
            }
            if (spec.stderr() == SpawnSpec.Stderr.MERGE_WITH_STDOUT) {
                // After fd 1 is in place, whatever it became (pipe, /dev/null or the inherited one).
                SpawnFailures.check(LIB.posix_spawn_file_actions_adddup2(fileActions, 1, 2), "posix_spawn_file_actions_adddup2", program);
            } else {
                ChildFds.addStdio(fileActions, 2, childFds[2], spec.stderr() == SpawnSpec.Stderr.DISCARD ? Posix.O_WRONLY : -1,
                        spec.stderr() == SpawnSpec.Stderr.INHERIT, block.devNull(), closeStrategy, program);
            }
            for (int fd = 3; fd < mapped; fd++) {
                SpawnFailures.check(LIB.posix_spawn_file_actions_adddup2(fileActions, childFds[fd], fd),
                        "posix_spawn_file_actions_adddup2", program);
            }
            short flags = (short) (Posix.POSIX_SPAWN_SETSIGMASK | Posix.POSIX_SPAWN_SETSIGDEF);
            switch (closeStrategy) {
                case CLOSEFROM -> SpawnFailures.check(LIB.posix_spawn_file_actions_addclosefrom_np(fileActions, mapped),
                        "posix_spawn_file_actions_addclosefrom_np", program);
                case CLOEXEC_DEFAULT -> flags |= Posix.POSIX_SPAWN_CLOEXEC_DEFAULT;
                case PROC_SCAN -> ChildFds.addCloseForInheritable(fileActions, mapped, program);
                case NONE -> { }
            }
            if (block.cwd() != 0) {
                SpawnFailures.check(LIB.posix_spawn_file_actions_addchdir_np(fileActions, block.cwd()),
                        "posix_spawn_file_actions_addchdir_np", program);
            }

            SpawnFailures.check(LIB.posix_spawnattr_init(attr), "posix_spawnattr_init", program);
            attrReady = true;
            boolean setsid = pty || spec.newSession();
            if (setsid) {
                // setsid() also makes the child a group leader (pgid == pid), which is what
                // newProcessGroup asks for; SETPGROUP on top would fail (EPERM for a session leader).
                flags |= Posix.POSIX_SPAWN_SETSID;
            } else if (spec.newProcessGroup()) {
                flags |= Posix.POSIX_SPAWN_SETPGROUP;
                SpawnFailures.check(LIB.posix_spawnattr_setpgroup(attr, 0), "posix_spawnattr_setpgroup", program);
            }
            int flagsRc = LIB.posix_spawnattr_setflags(attr, flags);
            if (flagsRc == SpawnFailures.EINVAL && setsid) {
                throw new SpawnException("cannot start program '" + program + "': "
                        + (pty ? "pseudoTerminal(true)" : "newSession(true)") + " needs POSIX_SPAWN_SETSID, which this libc rejects (glibc >= 2.26 needed) (EINVAL)", program,
                        SpawnFailures.EINVAL, "EINVAL");
            }
            SpawnFailures.check(flagsRc, "posix_spawnattr_setflags", program);
            LIB.sigemptyset(block.emptySigset());
            SpawnFailures.check(LIB.posix_spawnattr_setsigmask(attr, block.emptySigset()), "posix_spawnattr_setsigmask", program);
            LIB.sigfillset(block.fullSigset());
            if (Posix.LINUX) {
                // sigfillset leaves out glibc's internal signals 32 and 33 (SIGCANCEL, SIGSETXID),
                // and glibc's spawn child sets every blocked signal it was not told to default to
                // SIG_IGN when it is internal; exec keeps SIG_IGN, so without this every child
                // ignores 32 and 33. Setting all 64 bits by hand bypasses sigaddset's refusal;
                // SIGKILL/SIGSTOP in the set are harmless (the child's sigaction just fails).
                MEM.putLong(block.fullSigset(), -1L);
            }
            SpawnFailures.check(LIB.posix_spawnattr_setsigdefault(attr, block.fullSigset()), "posix_spawnattr_setsigdefault",
                    program);

            int rc = LIB.posix_spawnp(block.pidSlot(), block.file(), fileActions, attr, block.argv(), block.envp());
            if (rc != 0) {
                throw SpawnFailures.spawnFailure(rc, spec, program);
            }
            pid = block.pid();
            spawned = true;
        } finally {
            if (fileActionsReady) {
                LIB.posix_spawn_file_actions_destroy(block.fileActions());
            }
            if (attrReady) {
                LIB.posix_spawnattr_destroy(block.attr());
            }
            block.free();
            // The child holds its own copies now (or never will); ours would keep pipes from
            // reporting EOF/EPIPE when the child exits.
            for (int fd : childFds) {
                Native.closeQuietly(fd);
            }
            // The child opened the slave by path; ours would keep the master from reporting EIO
            // (the end) after the child exits.
            Native.closeQuietly(ptyFds[1]);
            if (!spawned) {
                for (int fd : parentFds) {
                    Native.closeQuietly(fd);
                }
                Native.closeQuietly(ptyFds[0]);
            }
        }

        if (limited) {
            awaitLimits(spec, program, pid, parentFds, ptyFds[0]);
        }
        int[] extra = new int[extras];
        System.arraycopy(parentFds, 3, extra, 0, extra.length);
        if (pty) {
            return new Spawned(pid, ptyFds[0], ptyFds[0], parentFds[2], extra, Pidfds.open(pid), ptyEof);
        }
        return new Spawned(pid, parentFds[0], parentFds[1], parentFds[2], extra, Pidfds.open(pid));
    }

    /**
     * Waits for the limit trampoline's report and closes the report pipe. When a limit could not be
     * set the shell exits without running the program: reap it, close the parent's ends, and throw.
     */
    private static void awaitLimits(SpawnSpec spec, String program, int pid, int[] parentFds, int ptyMaster) {
        int statusFd = parentFds[parentFds.length - 1];
        parentFds[parentFds.length - 1] = -1;
        String report;
        try {
            report = LimitTrampoline.awaitReport(statusFd);
        } finally {
            Native.closeQuietly(statusFd);
        }
        if (report == null) {
            return;
        }
        ProcessControl.signal(pid, -1, ProcessControl.SIGKILL); // it is exiting anyway; never leave it running
        int[] status = new int[1];
        while (LIB.waitpid(pid, status, 0) < 0 && Native.errno() == Native.EINTR) {
            // retry: the child is ours and unreaped, so only EINTR can interrupt this
        }
        for (int fd : parentFds) {
            Native.closeQuietly(fd);
        }
        Native.closeQuietly(ptyMaster);
        throw LimitTrampoline.failure(report, spec, program);
    }

    /**
     * A pipe for linking two children (a pipeline): {@code [read end, write end]}, both CLOEXEC and
     * blocking; see {@link ChildFds#pipe}.
     */
    public static int[] pipe(String program, int pipeSize) {
        return ChildFds.pipe(program, pipeSize);
    }
}
