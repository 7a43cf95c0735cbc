package io.dualpipe.examples;

import io.dualpipe.process.ChildSide;

/**
 * A child program: echoes every line of stdin upper-cased until end of input. The Java counterpart
 * of the Python original's {@code echo_uppercase} target function; runs in a child JVM started by
 * {@code DualPipe.spawn(UppercaseChild.class)}.
 */
public final class UppercaseChild {
    private UppercaseChild() {
    }

    public static void main(String[] args) {
        ChildSide.run(io -> {
            for (String line : io.lines()) {
                io.writeLine(line.toUpperCase()); // flushed per line: the parent never waits on a buffer
            }
        });
    }
}
