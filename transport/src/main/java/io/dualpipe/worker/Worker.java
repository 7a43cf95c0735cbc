package io.dualpipe.worker;

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
 * <p>Single-threaded and blocking, on purpose: a worker is a plain program, with no event loop and
 * no native code. A task that throws fails that one task in the parent (with the exception's text)
 * and the worker goes on. Output is flushed per message, so the parent never waits on a buffer.
 * Nothing else may write to stdout (it carries the frames); use stderr for logs.
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
        /** Runs one task on {@code data}; the result (JSON-able) goes back in the FINISHED envelope. */
        Object run(Object data, Worker worker) throws Exception;
    }

    /** The codecs pool and workers share: the built-ins and envelopes. */
    public static CodecRegistry codecs() {
        return CodecRegistry.builder().registerAll(Codecs.builtins()).register(new EnvelopeCodec()).build();
    }

    /** Serves tasks on stdin/stdout until DIE or the end of stdin; an uncaught error exits non-zero. */
    public static void run(Task task) {
        ChildSide.run(io -> new Worker(io.codecs(codecs())).serve(task));
    }

    /** This worker's pid. */
    public long pid() {
        return pid;
    }

    /** Sends a one-way envelope to the parent (progress, a log line, a partial result). */
    public void send(String request, Object data) {
        io.writeFrame(EnvelopeCodec.TYPE, new Envelope(request, pid, parentPid, data));
    }

    private void serve(Task task) throws Exception {
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
            if (!e.is(Envelope.DO) || !frame.isRequest()) {
                continue; // a broadcast the task has no use for
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
}
