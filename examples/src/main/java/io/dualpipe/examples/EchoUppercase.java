package io.dualpipe.examples;

import io.dualpipe.DualPipe;

import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The Python original's usage example, twice: with a Java child ({@link UppercaseChild}, the
 * analogue of its {@code echo_uppercase} function) and with a Python child.
 *
 * <pre>mvn -q -pl examples -am -DskipTests package exec:exec -Dmain=io.dualpipe.examples.EchoUppercase</pre>
 */
public final class EchoUppercase {
    private static final Duration REPLY_TIMEOUT = Duration.ofSeconds(10);
    /** {@code -u}: unbuffered stdout, else Python holds the replies in a buffer (docs/buffering.md). */
    static final String PYTHON_CHILD = "import sys\nfor line in sys.stdin:\n    print(line.rstrip('\\n').upper())";

    private EchoUppercase() {
    }

    public static void main(String[] args) {
        run(System.out);
    }

    /** Runs both children; returns every reply read, in order. */
    static List<String> run(PrintStream out) {
        List<String> replies = new ArrayList<>();
        out.println("Java child (" + UppercaseChild.class.getName() + "):");
        replies.addAll(converse(DualPipe.spawn(UppercaseChild.class), out));
        if (Programs.onPath("python3")) {
            out.println("Python child (python3 -u -c ...):");
            replies.addAll(converse(DualPipe.spawn("python3", "-u", "-c", PYTHON_CHILD), out));
        } else {
            out.println("Python child: skipped, python3 is not on PATH");
        }
        return replies;
    }

    private static List<String> converse(DualPipe pipe, PrintStream out) {
        try {
            pipe.write("Hello, world!\n");
            pipe.write("Testing DualPipe\n");
            // No sleep: readline waits for the line itself, at most REPLY_TIMEOUT.
            String r1 = pipe.readline(REPLY_TIMEOUT);
            String r2 = pipe.readline(REPLY_TIMEOUT);
            out.println("  Response 1: " + r1);
            out.println("  Response 2: " + r2);
            return List.of(r1, r2);
        } finally {
            out.println("  Closed: " + pipe.close());
        }
    }
}
