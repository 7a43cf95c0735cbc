package io.dualpipe.process;

import java.util.Arrays;

/** A child for tests: prints the system property "greeting" and its arguments on one line. */
public final class ArgsMain {
    private ArgsMain() {
    }

    public static void main(String[] args) {
        ChildSide.run(io -> io.writeLine(System.getProperty("greeting") + " " + Arrays.toString(args)));
    }
}
