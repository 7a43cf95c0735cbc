package io.dualpipe.worker;

/** A worker child for the tests: squares numbers, reports progress, fails on "boom". */
public final class SquareWorker {
    public static void main(String[] args) {
        Worker.run((data, worker) -> {
            if ("boom".equals(data)) {
                throw new IllegalStateException("boom asked for");
            }
            if ("exit".equals(data)) {
                System.exit(3);
            }
            long x = ((Number) data).longValue();
            if (x % 100 == 0) {
                worker.send("PROGRESS", x);
            }
            return x * x;
        });
    }
}
