package io.dualpipe.examples;

import io.dualpipe.DualPipe;
import io.dualpipe.process.ChildSide;

import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The first example to run: start a Java class in a child JVM, talk to it in lines, watch it exit.
 *
 * <pre>mvn -q -pl examples -am -DskipTests package exec:exec</pre>
 */
public final class Tour {
    private static final Duration REPLY_TIMEOUT = Duration.ofSeconds(10);

    private Tour() {
    }

    /**
     * The child: counts the words of each line it is sent and keeps a running total, to show that it
     * is one live process with state, not a function called afresh per line.
     */
    public static final class WordCounter {
        private WordCounter() {
        }

        public static void main(String[] args) {
            ChildSide.run(io -> {
                int total = 0;
                for (String line : io.lines()) {
                    int words = line.isBlank() ? 0 : line.trim().split("\\s+").length;
                    total += words;
                    io.writeLine(words + " words, " + total + " in total");
                }
            });
        }
    }

    public static void main(String[] args) {
        run(System.out);
    }

    /** Returns the replies, then the close result's text. */
    static List<String> run(PrintStream out) {
        List<String> seen = new ArrayList<>();
        DualPipe child = DualPipe.spawn(WordCounter.class);
        out.println("Started " + WordCounter.class.getSimpleName() + " in a child JVM, pid " + child.pid());
        try {
            for (String request : List.of("the quick brown fox", "jumps over", "the lazy dog")) {
                child.writeLine(request);
                String reply = child.readline(REPLY_TIMEOUT);
                out.printf("  > %-20s  < %s%n", request, reply);
                seen.add(reply);
            }
        } finally {
            // close(): stdin closed, so the child's loop over lines ends and main returns.
            DualPipe.Result result = child.close();
            out.println("Closed its stdin; it exited: " + result);
            seen.add(result.toString());
        }
        return seen;
    }
}
