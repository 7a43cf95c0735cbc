package io.dualpipe.examples;

import io.dualpipe.DualPipe;

import java.io.PrintStream;
import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Interactive command execution: a {@code bc} session keeps its variables between commands, and each
 * next command is chosen from the last reply. Here the Collatz walk from 6: halve an even number,
 * else take 3n+1, until 1. The number and the step counter live in {@code bc}; the parent only reads
 * replies and decides, printing each one as it arrives.
 *
 * <pre>mvn -q -pl examples -am -DskipTests package exec:exec -Dmain=io.dualpipe.examples.InteractiveSession</pre>
 */
public final class InteractiveSession {
    private static final Duration REPLY_TIMEOUT = Duration.ofSeconds(5);

    private InteractiveSession() {
    }

    public static void main(String[] args) {
        run(System.out, args.length > 0 ? Integer.parseInt(args[0]) : 6);
    }

    /** Walks from {@code start} to 1; returns the numbers bc replied, then its step count. */
    static List<String> run(PrintStream out, int start) {
        List<String> replies = new ArrayList<>();
        if (!Programs.onPath("bc")) {
            out.println("skipped: bc is not on PATH");
            return replies;
        }
        // bc flushes after every result, so its replies come line by line even on a pipe.
        DualPipe bc = DualPipe.spawn("bc", "-q");
        out.println("bc -q started, pid " + bc.pid() + "; Collatz walk from " + start + ", one command per step:");
        try {
            String reply = ask(bc, "n = " + start + "; s = 0; n", out);
            replies.add(reply);
            while (!reply.equals("1")) {
                boolean even = !new BigInteger(reply).testBit(0);
                reply = ask(bc, even ? "n = n / 2; s = s + 1; n" : "n = 3 * n + 1; s = s + 1; n", out);
                replies.add(reply);
            }
            String steps = ask(bc, "s", out);
            replies.add(steps);
            out.println("reached 1 after " + steps + " steps, counted by bc itself");
        } finally {
            bc.write("quit\n");
            out.println("bc exited: " + bc.close());
        }
        return replies;
    }

    private static String ask(DualPipe bc, String command, PrintStream out) {
        bc.writeLine(command);
        String reply = bc.readline(REPLY_TIMEOUT);
        out.printf("  > %-28s  < %s%n", command, reply);
        out.flush(); // show output as it arrives, even when stdout is not a terminal
        return reply;
    }
}
