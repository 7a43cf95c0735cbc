package io.dualpipe.process;

import java.nio.charset.Charset;
import java.util.Arrays;

/**
 * What a {@link Command} run produced: the exit status, stdout (whole, or its first
 * {@code maxOutput} bytes when truncation was asked for) and the tail of stderr.
 *
 * <p>Immutable, hence thread-safe: the arrays are copied in and out.
 */
public final class RunResult {
    private final ExitStatus status;
    private final byte[] stdout;
    private final boolean stdoutTruncated;
    private final byte[] stderrTail;
    private final long stderrBytes;
    private final Charset charset;

    RunResult(ExitStatus status, byte[] stdout, boolean stdoutTruncated, byte[] stderrTail, long stderrBytes,
              Charset charset) {
        this.status = status;
        this.stdout = stdout;
        this.stdoutTruncated = stdoutTruncated;
        this.stderrTail = stderrTail;
        this.stderrBytes = stderrBytes;
        this.charset = charset;
    }

    /** {@return the exit status; null in a partial result whose child had not been reaped yet} */
    public ExitStatus status() {
        return status;
    }

    /** {@return stdout's bytes (a copy)} */
    public byte[] stdout() {
        return stdout.clone();
    }

    /** {@return stdout decoded with the builder's charset} */
    public String stdoutText() {
        return new String(stdout, charset);
    }

    /** {@return true when stdout was longer than {@code maxOutput} and the rest was read and dropped} */
    public boolean stdoutTruncated() {
        return stdoutTruncated;
    }

    /**
     * {@return the last bytes of stderr, at most {@code stderrTail} of them (a copy)} Empty when
     * stderr was not a pipe.
     */
    public byte[] stderrTail() {
        return stderrTail.clone();
    }

    /** {@return {@link #stderrTail()} decoded with the builder's charset (the first character may be cut)} */
    public String stderrText() {
        return new String(stderrTail, charset);
    }

    /** {@return how many bytes the child wrote to stderr in all, of which {@link #stderrTail()} kept the last} */
    public long stderrBytes() {
        return stderrBytes;
    }

    @Override
    public String toString() {
        return "RunResult[" + status + ", stdout " + stdout.length + " bytes" + (stdoutTruncated ? " (truncated)" : "")
                + ", stderr " + stderrBytes + " bytes]";
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof RunResult)) {
            return false;
        }
        RunResult r = (RunResult) o;
        return java.util.Objects.equals(status, r.status) && Arrays.equals(stdout, r.stdout)
                && stdoutTruncated == r.stdoutTruncated && Arrays.equals(stderrTail, r.stderrTail)
                && stderrBytes == r.stderrBytes;
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(status, Arrays.hashCode(stdout), stderrBytes);
    }
}
