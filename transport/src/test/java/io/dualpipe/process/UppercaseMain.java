package io.dualpipe.process;

/** A child for tests: echoes each line upper-cased, until end of input. */
public final class UppercaseMain {
    private UppercaseMain() {
    }

    public static void main(String[] args) {
        ChildSide.run(io -> {
            for (String line : io.lines()) {
                io.writeLine(line.toUpperCase());
            }
        });
    }
}
