package io.dualpipe.process;

/**
 * A child for tests whose code prints to {@code System.out} around the protocol: once before the
 * first line it writes, and once for every line it reads, before answering it upper-cased.
 */
public final class StrayPrintMain {
    private StrayPrintMain() {
    }

    public static void main(String[] args) {
        ChildSide.run(io -> {
            System.out.println("stray before");
            for (String line : io.lines()) {
                System.out.print("stray ");
                System.out.println(line);
                io.writeLine(line.toUpperCase());
            }
        });
    }
}
