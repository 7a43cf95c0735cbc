package io.dualpipe.process;

import io.dualpipe.core.DualPipeException;

/**
 * A {@link Command} run did not succeed although its child started: the subclass says why
 * ({@link CommandTimeoutException}, {@link NonZeroExitException}, {@link OutputLimitException}).
 * Carries what the child produced until then, so the stderr tail explains the failure.
 *
 * <p>Immutable, hence thread-safe.
 */
public class CommandException extends DualPipeException {
    private static final long serialVersionUID = 1L;
    private final transient RunResult result;

    /**
     * @param message what went wrong; the last line of the stderr tail is appended
     * @param result  what the child produced until then
     */
    public CommandException(String message, RunResult result) {
        super(message + stderrHint(result));
        this.result = result;
    }

    /**
     * {@return the (partial) output and the exit status the child got} Not serialised: null after
     * deserialisation.
     */
    public RunResult result() {
        return result;
    }

    /** The last line of stderr, so logs show why without digging. */
    private static String stderrHint(RunResult r) {
        if (r == null || r.stderrBytes() == 0) {
            return "";
        }
        String text = r.stderrText().strip();
        int nl = text.lastIndexOf('\n');
        String last = nl < 0 ? text : text.substring(nl + 1);
        if (last.length() > 200) {
            last = last.substring(last.length() - 200);
        }
        return last.isEmpty() ? "" : "; stderr ends: " + last;
    }
}
