package io.dualpipe.process;

/** A child for tests: writes one line, then fails with an uncaught exception. */
public final class ThrowingMain {
    private ThrowingMain() {
    }

    public static void main(String[] args) {
        ChildSide.run(io -> {
            io.writeLine("about to fail");
            throw new IllegalStateException("boom from child");
        });
    }
}
