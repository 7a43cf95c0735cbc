package io.dualpipe.process.internal;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.LoopClosedException;
import io.dualpipe.core.internal.LazyLogger;
import io.dualpipe.core.internal.Native;
import io.dualpipe.process.ChildProcessBuilder;
import io.dualpipe.process.PipeDirection;
import io.dualpipe.process.StderrMode;
import io.dualpipe.process.StdinMode;
import io.dualpipe.process.StdoutMode;

import java.util.ArrayList;
import java.util.List;

/**
 * Turns builders into running {@link PosixChildProcess}es: checks what the builder asks for,
 * translates it into a {@link SpawnSpec}, spawns through {@link Spawner}, and hands the fds over to
 * the child's streams; wires the pipes between the stages of a pipeline. A failure at any step
 * kills and reaps what was spawned and closes every fd before the exception propagates. Stateless;
 * runs on the caller's thread.
 */
final class ChildLauncher {
    private static final LazyLogger LOG = new LazyLogger(PosixChildProcess.class);

    private ChildLauncher() {
    }

    /** Spawns the child described by {@code b}; fails with a SpawnException and leaks nothing. */
    static PosixChildProcess start(ChildProcessBuilder b) {
        EventLoop loop = b.loop();
        if (loop.isClosed()) {
            throw new LoopClosedException("cannot start " + b.command().get(0) + ": " + loop + " is closed");
        }
        if (b.pseudoTerminal() && (b.stdinFile() != null || b.stdinMode() != StdinMode.PIPE
                || b.stdoutFile() != null || b.stdoutMode() != StdoutMode.PIPE)) {
            throw new InvalidArgumentException("cannot start " + b.command().get(0)
                    + ": pseudoTerminal(true) makes the terminal its stdin and stdout, but " + stdinWhere(b)
                    + " / " + stdoutWhere(b) + "; leave stdin and stdout at PIPE");
        }
        Spawned s = Spawner.spawn(specOf(b).build());
        return wrap(b, s, stdinWhere(b), stdoutWhere(b));
    }

    /**
     * Takes a running child over; on failure (the loop closed between the caller's check and the
     * registration) kills and reaps it and leaves no fd behind.
     */
    private static PosixChildProcess wrap(ChildProcessBuilder b, Spawned s, String stdinWhere, String stdoutWhere) {
        OwnedFds owned = new OwnedFds();
        try {
            return new PosixChildProcess(b, s, owned, stdinWhere, stdoutWhere);
        } catch (RuntimeException e) {
            owned.release(s);
            killAndReapBlocking(b, s.pid());
            throw e;
        }
    }

    private static void killAndReapBlocking(ChildProcessBuilder b, int pid) {
        try {
            if (b.newProcessGroup()) {
                ProcessControl.signalGroup(pid, ProcessControl.SIGKILL);
            } else {
                ProcessControl.signal(pid, -1, ProcessControl.SIGKILL);
            }
        } catch (RuntimeException e) {
            LOG.get().warn("pid {}: could not kill it: {}", pid, e.getMessage());
        }
        ExitWatcher.reapBlocking(pid);
    }

    /**
     * Starts {@code a | b | c}: one CLOEXEC pipe between each pair of stages, whose ends only the two
     * children hold, so end of output propagates down the line as it does in a shell. The first
     * stage's stdin and the last one's stdout follow their builders; every stage serves on the
     * first stage's loop.
     *
     * <p>All children are spawned before any is handed to the loop: a stage that fails to start
     * kills and reaps the ones before it and closes every fd, here and now, before the
     * SpawnException propagates, so the caller never sees half a pipeline.
     *
     * @throws InvalidArgumentException when a stage sets a stream the pipeline wires, or runs on
     *         another loop
     */
    static List<PosixChildProcess> startPipeline(List<ChildProcessBuilder> stages) {
        int n = stages.size();
        EventLoop loop = stages.get(0).loop();
        for (int i = 0; i < n; i++) {
            ChildProcessBuilder b = stages.get(i);
            String stage = "pipeline stage " + i + " (" + b.command().get(0) + ")";
            if (b.loop() != loop) {
                throw new InvalidArgumentException(stage + " runs on " + b.loop() + " but stage 0 on " + loop
                        + ": every stage of a pipeline is served by one loop");
            }
            if (b.pseudoTerminal()) {
                throw new InvalidArgumentException(stage + " asks for a pseudo-terminal, which pipelines do not support"
                        + " (it would be both the stage's stdin and stdout)");
            }
            if (i > 0 && (b.stdinMode() != StdinMode.PIPE || b.stdinFile() != null)) {
                throw new InvalidArgumentException(stage + " sets stdin to " + (b.stdinFile() != null
                        ? "file '" + b.stdinFile() + "'" : b.stdinMode())
                        + ": only the first stage's stdin is free, the others read the previous stage's stdout");
            }
            if (i < n - 1 && (b.stdoutMode() != StdoutMode.PIPE || b.stdoutFile() != null)) {
                throw new InvalidArgumentException(stage + " sets stdout to " + (b.stdoutFile() != null
                        ? "file '" + b.stdoutFile() + "'" : b.stdoutMode())
                        + ": only the last stage's stdout is free, the others feed the next stage's stdin");
            }
        }
        if (loop.isClosed()) {
            throw new LoopClosedException("cannot start a pipeline of " + n + ": " + loop + " is closed");
        }
        List<Spawned> spawned = new ArrayList<>(n);
        int readEnd = -1; // read end of the pipe into the next stage, ours until that stage holds it
        try {
            for (int i = 0; i < n; i++) {
                ChildProcessBuilder b = stages.get(i);
                SpawnSpec.Builder spec = specOf(b);
                int[] next = null;
                try {
                    if (readEnd >= 0) {
                        spec.stdinFromFd(readEnd);
                    }
                    if (i < n - 1) {
                        next = Spawner.pipe(stages.get(i + 1).command().get(0),
                                Math.max(b.pipeBufferSize(), stages.get(i + 1).pipeBufferSize()));
                        spec.stdoutToFd(next[1]);
                    }
                    spawned.add(Spawner.spawn(spec.build()));
                } finally {
                    // The children hold their copies now (or none exists). Ours would keep the next
                    // stage from seeing end of input when this one exits, and this one from EPIPE.
                    Native.closeQuietly(readEnd);
                    readEnd = -1;
                    if (next != null) {
                        Native.closeQuietly(next[1]);
                        readEnd = next[0];
                    }
                }
            }
        } catch (RuntimeException e) {
            Native.closeQuietly(readEnd);
            for (int i = 0; i < spawned.size(); i++) {
                Spawned s = spawned.get(i);
                s.closeAll(); // never wrapped: no channel owns these fds
                killAndReapBlocking(stages.get(i), s.pid());
            }
            throw e;
        }
        List<PosixChildProcess> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            ChildProcessBuilder b = stages.get(i);
            try {
                out.add(wrap(b, spawned.get(i),
                        i > 0 ? "it reads the previous pipeline stage's stdout" : stdinWhere(b),
                        i < n - 1 ? "it feeds the next pipeline stage's stdin" : stdoutWhere(b)));
            } catch (RuntimeException e) {
                // The loop closed meanwhile: wrap() cleaned up stage i; the later ones were never
                // taken over, and the earlier ones are the closing loop's to kill and reap.
                for (int j = i + 1; j < n; j++) {
                    spawned.get(j).closeAll();
                    killAndReapBlocking(stages.get(j), spawned.get(j).pid());
                }
                out.forEach(PosixChildProcess::close);
                throw e;
            }
        }
        return out;
    }

    private static String stdinWhere(ChildProcessBuilder b) {
        if (b.stdinFile() != null) {
            return "it reads file '" + b.stdinFile() + "'";
        }
        return switch (b.stdinMode()) {
            case PIPE -> "it is a pipe"; // never shown
            case INHERIT -> "it is the parent's stdin (StdinMode.INHERIT)";
            case NULL_DEVICE -> "it reads /dev/null (StdinMode.NULL_DEVICE)";
        };
    }

    private static String stdoutWhere(ChildProcessBuilder b) {
        if (b.stdoutFile() != null) {
            return "it goes to file '" + b.stdoutFile() + "'";
        }
        return switch (b.stdoutMode()) {
            case PIPE -> "it is a pipe"; // never shown
            case INHERIT -> "it is the parent's stdout (StdoutMode.INHERIT)";
            case DISCARD -> "it goes to /dev/null (StdoutMode.DISCARD)";
        };
    }

    private static SpawnSpec.Builder specOf(ChildProcessBuilder b) {
        SpawnSpec.Builder spec = SpawnSpec.builder(b.command())
                .newProcessGroup(b.newProcessGroup())
                .newSession(b.newSession())
                .limits(b.limits())
                .pseudoTerminal(b.pseudoTerminal())
                .pipeSize(b.pipeBufferSize());
        if (b.directory() != null) {
            spec.workingDirectory(b.directory().toString());
        }
        if (b.environment() != null) {
            spec.environment(b.environment());
        }
        if (b.stdinFile() != null) {
            spec.stdinFrom(b.stdinFile().toString());
        } else {
            spec.stdin(switch (b.stdinMode()) {
                case PIPE -> SpawnSpec.Stdin.PIPE;
                case INHERIT -> SpawnSpec.Stdin.INHERIT;
                case NULL_DEVICE -> SpawnSpec.Stdin.NULL_DEVICE;
            });
        }
        if (b.stdoutFile() != null) {
            if (b.stdoutAppend()) {
                spec.stdoutAppendTo(b.stdoutFile().toString());
            } else {
                spec.stdoutTo(b.stdoutFile().toString());
            }
        } else {
            spec.stdout(switch (b.stdoutMode()) {
                case PIPE -> SpawnSpec.Stdout.PIPE;
                case INHERIT -> SpawnSpec.Stdout.INHERIT;
                case DISCARD -> SpawnSpec.Stdout.DISCARD;
            });
        }
        if (b.stderrFile() != null) {
            spec.stderrAppendTo(b.stderrFile().toString());
        } else {
            spec.stderr(toSpec(b.stderrMode()));
        }
        for (PipeDirection d : b.extraPipes()) {
            spec.extraPipe(d == PipeDirection.FROM_CHILD ? SpawnSpec.PipeDirection.CHILD_WRITES : SpawnSpec.PipeDirection.CHILD_READS);
        }
        return spec;
    }

    private static SpawnSpec.Stderr toSpec(StderrMode mode) {
        switch (mode) {
            case TAIL: // a pipe whose reading PosixChildProcess takes over
            case PIPE: return SpawnSpec.Stderr.PIPE;
            case MERGE_WITH_STDOUT: return SpawnSpec.Stderr.MERGE_WITH_STDOUT;
            case INHERIT: return SpawnSpec.Stderr.INHERIT;
            case DISCARD: return SpawnSpec.Stderr.DISCARD;
            default: throw new InvalidArgumentException("unknown stderr mode " + mode);
        }
    }
}
