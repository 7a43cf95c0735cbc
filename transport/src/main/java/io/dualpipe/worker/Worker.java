package io.dualpipe.worker;

import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.codec.CodecRegistry;
import io.dualpipe.core.codec.Codecs;
import io.dualpipe.process.ChildSide;

/**
 * The worker's end of a {@link WorkerPool}, for the {@code main} of a Java worker child: reads
 * envelopes from stdin, runs each {@link Envelope#DO} through the task, answers it with a
 * {@link Envelope#FINISHED} carrying the result, and returns on {@link Envelope#DIE}.
 *
 * <pre>{@code
 * public static void main(String[] args) {
 *     Worker.run((data, worker) -> ((Number) data).intValue() * 2);
 * }
 * }</pre>
 *
 * <p>Envelopes other than tasks and the poison pill (what {@link WorkerPool#broadcast} and
 * {@link WorkerPool#sendTo} send: {@code "CONFIG"}, say) go to the {@link Handler} given to
 * {@link #run(Task, Handler)}, and are dropped by {@link #run(Task)}:
 *
 * <pre>{@code
 * static int scale = 1; // the handler and the task run on one thread: no lock needed
 *
 * Worker.run((data, worker) -> scale * ((Number) data).intValue(),
 *            (envelope, worker) -> {
 *                if (envelope.is("CONFIG")) {
 *                    scale = ((Number) envelope.data()).intValue();
 *                    worker.send("CONFIGURED", scale);
 *                }
 *            });
 * }</pre>
 *
 * <p>Single-threaded and blocking, on purpose: a worker is a plain program, with no event loop and
 * no native code. The task and the handler run on the thread that called {@code run}, one envelope
 * at a time, in the order the envelopes arrived: never at once, so they may share state without
 * locks. A task that throws fails that one task in the parent (with the exception's text) and the
 * worker goes on. Output is flushed per message, so the parent never waits on a buffer. Stdout
 * carries the frames and belongs to the worker: once {@code run} is called, {@code System.out}
 * prints to stderr (see {@link ChildSide#stdio()}), so a stray {@code println} in a task cannot
 * corrupt the frame stream; a pool logs the worker's stderr.
 */
public final class Worker {
    private final ChildSide io;
    private final long pid = ProcessHandle.current().pid();
    private final long parentPid = ProcessHandle.current().parent().map(ProcessHandle::pid).orElse(0L);

    private Worker(ChildSide io) {
        this.io = io;
    }

    /** What a worker does with each task. */
    @FunctionalInterface
    public interface Task {
        /**
         * Runs one task on {@code data}.
         *
         * @param data   the DO envelope's payload
         * @param worker this worker, to {@link Worker#send} progress from the task
         * @return the result (JSON-able), sent back in the FINISHED envelope
         * @throws Exception anything: the task fails in the parent with the exception's text, and
         *         the worker goes on
         */
        Object run(Object data, Worker worker) throws Exception;
    }

    /**
     * What a worker does with the envelopes that are neither a task nor the poison pill: broadcasts,
     * one-way envelopes from {@link WorkerPool#sendTo}, words of the application's own.
     */
    @FunctionalInterface
    public interface Handler {
        /**
         * Handles one envelope, on the thread that called {@link Worker#run(Task, Handler)}, between
         * tasks. Nobody waits for an answer: to answer, {@link Worker#send} an envelope to the parent.
         * An exception it throws is written to stderr (which a pool logs) and the worker goes on.
         *
         * @param envelope the envelope
         * @param worker   this worker
         * @throws Exception anything: written to stderr, and the worker goes on
         */
        void handle(Envelope envelope, Worker worker) throws Exception;
    }

    /** {@return the codecs pool and workers share: the built-ins and envelopes} */
    public static CodecRegistry codecs() {
        return CodecRegistry.builder().registerAll(Codecs.builtins()).register(new EnvelopeCodec()).build();
    }

    /**
     * Serves tasks on stdin/stdout until DIE or the end of stdin, dropping every other envelope; an
     * uncaught error exits non-zero. The same as {@code run(task, null)}.
     *
     * @param task runs each DO request; must not be null
     */
    public static void run(Task task) {
        run(task, null);
    }

    /**
     * Serves tasks on stdin/stdout until DIE or the end of stdin, and hands every other envelope to
     * {@code onOther} (see {@link Handler}); an uncaught error exits non-zero. Runs on the calling
     * thread, which calls both {@code task} and {@code onOther}, one envelope at a time.
     *
     * @param task    runs each DO request; must not be null
     * @param onOther takes every envelope that is not a DO request or DIE, in arrival order; null drops them
     * @throws InvalidArgumentException if {@code task} is null
     */
    public static void run(Task task, Handler onOther) {
        InvalidArgumentException.requireNonNull("task", task);
        ChildSide.run(io -> new Worker(io.codecs(codecs())).serve(task, onOther));
    }

    /** {@return this worker's pid} */
    public long pid() {
        return pid;
    }

    /**
     * Sends a one-way envelope to the parent (progress, a log line, a partial result, an
     * acknowledgement), which a pool hands to its {@link WorkerPool.Builder#onMessage} listener.
     * Call it from the thread running the task or handler (stdout is not shared between threads).
     *
     * @param request the envelope's request word, e.g. {@code "PROGRESS"}
     * @param data    its payload, JSON-able, or null
     * @throws InvalidArgumentException if {@code request} is null or empty
     * @throws io.dualpipe.core.codec.EncodeException if JSON cannot carry {@code data}
     */
    public void send(String request, Object data) {
        io.writeFrame(EnvelopeCodec.TYPE, new Envelope(request, pid, parentPid, data));
    }

    private void serve(Task task, Handler onOther) throws Exception {
        while (true) {
            ChildSide.Frame frame;
            try {
                frame = io.readFrame();
            } catch (io.dualpipe.core.codec.CodecException skipped) {
                continue; // an undecodable frame was skipped (and answered, if it was a request)
            }
            if (frame == null) {
                return; // stdin ended: the pool is gone
            }
            if (!(frame.message() instanceof Envelope)) {
                if (frame.isRequest()) {
                    io.replyError(frame, "a worker takes envelopes (type 0x04), not type 0x" + Integer.toHexString(frame.type()));
                }
                continue;
            }
            Envelope e = (Envelope) frame.message();
            if (e.is(Envelope.DIE)) {
                return;
            }
            if (!frame.isRequest()) {
                if (onOther != null) {
                    handle(onOther, e);
                }
                continue; // one-way: a broadcast, a word for the handler
            }
            if (!e.is(Envelope.DO)) {
                // somebody waits for an answer that a handler (which answers nothing) could not give
                io.replyError(frame, "a worker answers requests of " + Envelope.DO + " only, not \"" + e.request()
                        + "\": send other words one-way (WorkerPool.sendTo, broadcast)");
                continue;
            }
            Object result;
            try {
                result = task.run(e.data(), this);
            } catch (Exception ex) {
                io.replyError(frame, ex.getClass().getName() + ": " + ex.getMessage());
                continue;
            }
            io.reply(frame, new Envelope(Envelope.FINISHED, pid, e.senderPid(), result));
        }
    }

    private void handle(Handler onOther, Envelope e) {
        try {
            onOther.handle(e, this);
        } catch (Exception ex) {
            System.err.println("the handler threw on \"" + e.request() + "\": " + ex);
            System.err.flush();
        }
    }
}
