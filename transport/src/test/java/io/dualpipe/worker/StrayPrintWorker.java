package io.dualpipe.worker;

/**
 * A worker child for tests whose code prints to {@code System.out}: in each task (before and after
 * sending progress) and in its handler. It squares numbers; every other envelope is acknowledged
 * with {@code "ACK"}.
 */
public final class StrayPrintWorker {
    private StrayPrintWorker() {
    }

    public static void main(String[] args) {
        Worker.run((data, worker) -> {
            System.out.println("stray task " + data);
            worker.send("PROGRESS", data);
            System.out.println("stray after progress " + data);
            long x = ((Number) data).longValue();
            return x * x;
        }, (envelope, worker) -> {
            System.out.println("stray handler " + envelope.request());
            worker.send("ACK", envelope.request());
        });
    }
}
