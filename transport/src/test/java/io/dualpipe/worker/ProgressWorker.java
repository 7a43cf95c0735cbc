package io.dualpipe.worker;

/**
 * A worker child for {@link WorkerProgressTest}: for each task (a text), sends a PROGRESS envelope
 * carrying the text, then answers with the text's length. Both directions carry kilobytes per task.
 */
public final class ProgressWorker {
    public static void main(String[] args) {
        Worker.run((data, worker) -> {
            String s = (String) data;
            worker.send("PROGRESS", s);
            return s.length();
        });
    }
}
