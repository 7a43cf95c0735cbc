package io.dualpipe.process;

import io.dualpipe.core.DualPipeException;
import io.dualpipe.core.InvalidArgumentException;
import jnr.constants.platform.Signal;

/**
 * How a child process ended: either it exited with a code (0..255), or a signal terminated it
 * (possibly dumping core). Exactly one of {@link #exited()} and {@link #signaled()} is true.
 *
 * <p>Immutable, hence thread-safe; instances for exit codes are shared.
 */
public final class ExitStatus {
    private static final ExitStatus[] EXITED = new ExitStatus[256];

    static {
        for (int code = 0; code < EXITED.length; code++) {
            EXITED[code] = new ExitStatus(code, 0, false);
        }
    }

    private final int exitCode; // -1 when signaled
    private final int signal;   // 0 when exited
    private final boolean coreDumped;

    private ExitStatus(int exitCode, int signal, boolean coreDumped) {
        this.exitCode = exitCode;
        this.signal = signal;
        this.coreDumped = coreDumped;
    }

    /**
     * A normal exit; {@code code} must be 0..255 (the kernel keeps only the low 8 bits).
     *
     * @param code the exit code
     * @return the status (a shared instance)
     * @throws InvalidArgumentException if {@code code} is outside 0..255
     */
    public static ExitStatus ofExitCode(int code) {
        if (code < 0 || code > 255) {
            throw new InvalidArgumentException("exit code not in 0..255: " + code);
        }
        return EXITED[code];
    }

    /**
     * Termination by signal number {@code signal} (1..127).
     *
     * @param signal     the signal number
     * @param coreDumped whether the kernel wrote a core dump
     * @return the status
     * @throws InvalidArgumentException if {@code signal} is outside 1..127
     */
    public static ExitStatus ofSignal(int signal, boolean coreDumped) {
        if (signal < 1 || signal > 127) {
            throw new InvalidArgumentException("signal number not in 1..127: " + signal);
        }
        return new ExitStatus(-1, signal, coreDumped);
    }

    /**
     * Decodes a raw wait status as filled in by waitpid (the traditional encoding shared by Linux,
     * macOS and the BSDs): low 7 bits 0 = exited with code in bits 8..15; low 7 bits 0x7f =
     * stopped; otherwise the terminating signal, with bit 7 set when core was dumped.
     *
     * @param status the raw wait status
     * @return the status it encodes
     * @throws InvalidArgumentException for a stopped/continued status, which is not an ending
     *         (we never ask waitpid for those)
     */
    public static ExitStatus fromWaitStatus(int status) {
        int low = status & 0x7f;
        if (low == 0) {
            return EXITED[(status >> 8) & 0xff];
        }
        if (low == 0x7f || status == 0xffff) {
            throw new InvalidArgumentException("wait status is not a termination (stopped or continued): 0x"
                    + Integer.toHexString(status));
        }
        return new ExitStatus(-1, low, (status & 0x80) != 0);
    }

    /** {@return true when the process called exit (or returned from main)} */
    public boolean exited() {
        return signal == 0;
    }

    /**
     * The exit code, 0..255.
     *
     * @return the exit code
     * @throws DualPipeException when a signal ended the process (it has no exit code; the shell's
     *         {@code 128+n} convention is not applied, so a child's real {@code exit 137} and a
     *         SIGKILL stay distinguishable)
     */
    public int exitCode() {
        if (signal != 0) {
            throw new DualPipeException("process was terminated by " + describeSignal()
                    + " and has no exit code; check signaled() first");
        }
        return exitCode;
    }

    /** {@return true when a signal terminated the process} */
    public boolean signaled() {
        return signal != 0;
    }

    /**
     * The terminating signal number.
     *
     * @return the signal number
     * @throws DualPipeException when the process exited normally
     */
    public int signal() {
        if (signal == 0) {
            throw new DualPipeException("process exited with code " + exitCode
                    + " and was not terminated by a signal; check signaled() first");
        }
        return signal;
    }

    /** {@return true when a signal terminated the process and the kernel wrote a core dump} */
    public boolean coreDumped() {
        return coreDumped;
    }

    /** {@return true for {@code exit 0} only} */
    public boolean isSuccess() {
        return signal == 0 && exitCode == 0;
    }

    @Override
    public boolean equals(Object o) {
        return this == o || o instanceof ExitStatus other
                && exitCode == other.exitCode && signal == other.signal && coreDumped == other.coreDumped;
    }

    @Override
    public int hashCode() {
        return signal == 0 ? exitCode : 256 + signal * 2 + (coreDumped ? 1 : 0);
    }

    /** {@code exit 0}, {@code signal 9 (SIGKILL)} or {@code signal 11 (SIGSEGV), core dumped}. */
    @Override
    public String toString() {
        if (signal == 0) {
            return "exit " + exitCode;
        }
        return describeSignal() + (coreDumped ? ", core dumped" : "");
    }

    private String describeSignal() {
        String name = signalName(signal);
        return "signal " + signal + (name == null ? "" : " (" + name + ")");
    }

    /** The conventional name of a signal number on this platform, or null if unknown. */
    static String signalName(int number) {
        // jnr-constants reports aliases first for some numbers (SIGIOT for 6, SIGUNUSED for 31 on
        // Linux); prefer the names people actually read in ps/kill output.
        for (Signal preferred : PREFERRED) {
            if (preferred.defined() && preferred.intValue() == number) {
                return preferred.name();
            }
        }
        Signal s = Signal.valueOf(number);
        return s == Signal.__UNKNOWN_CONSTANT__ ? null : s.name();
    }

    private static final Signal[] PREFERRED = {Signal.SIGABRT, Signal.SIGSYS, Signal.SIGCHLD, Signal.SIGIO};
}
