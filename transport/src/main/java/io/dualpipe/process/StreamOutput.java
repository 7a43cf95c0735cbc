package io.dualpipe.process;

import io.dualpipe.core.BrokenPipeException;
import io.dualpipe.core.codec.Frames;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Blocking writes of whole lines and frames to one {@link OutputStream}, each flushed before the call
 * returns: the write half of {@link ChildSide}, as {@link StreamInput} is its read half. Flushing per
 * message is what keeps a child from stalling its parent with a reply sitting in a buffer.
 *
 * <p>Thread-safe: each message is written and flushed under one lock, so messages written by several
 * threads never interleave.
 *
 * <p>Buffers: a frame's body is read from its position to its limit during the call and neither
 * kept nor moved, so it is the caller's again when the call returns.
 *
 * <p>Errors: a write or flush the reader can no longer receive fails with
 * {@link BrokenPipeException}, naming the stream.
 */
final class StreamOutput {
    private final OutputStream out; // guarded by lock, except flushQuietly
    private final String name;      // for error messages
    private final Object lock = new Object();

    StreamOutput(OutputStream out, String name) {
        this.out = out;
        this.name = name;
    }

    /** Writes {@code line} and a newline, UTF-8, and flushes. */
    void writeLine(String line) {
        byte[] bytes = (line + "\n").getBytes(StandardCharsets.UTF_8);
        synchronized (lock) {
            write(bytes, 0, bytes.length);
            flush();
        }
    }

    /** Writes one {@code docs/wire-format.md} frame, header then body, and flushes. */
    void writeFrame(int type, int flags, int requestId, ByteBuffer body) {
        ByteBuffer header = ByteBuffer.allocate(Frames.HEADER_SIZE);
        Frames.writeHeader(header, type, flags, requestId, body.remaining());
        byte[] bytes;
        int offset;
        int length = body.remaining();
        if (body.hasArray()) {
            bytes = body.array();
            offset = body.arrayOffset() + body.position();
        } else { // read-only or direct: copy once
            bytes = new byte[length];
            body.duplicate().get(bytes);
            offset = 0;
        }
        synchronized (lock) {
            write(header.array(), 0, Frames.HEADER_SIZE);
            write(bytes, offset, length);
            flush();
        }
    }

    /**
     * Flushes what is buffered, ignoring a failure: for a child about to return or exit, whose parent
     * may be gone. Not under the lock: it adds no bytes of its own, so it cannot interleave with a
     * message, and its caller, {@link ChildSide#run}, flushes {@code stdio()}'s buffered stream,
     * which guards itself against a concurrent write.
     */
    void flushQuietly() {
        try {
            out.flush();
        } catch (IOException ignored) {
            // the parent is gone; nothing left to tell it
        }
    }

    /** Caller holds lock. */
    private void write(byte[] bytes, int offset, int length) {
        try {
            out.write(bytes, offset, length);
        } catch (IOException e) {
            throw broken(e);
        }
    }

    /** Caller holds lock. */
    private void flush() {
        try {
            out.flush();
        } catch (IOException e) {
            throw broken(e);
        }
        // A PrintStream given to over() swallows IOExceptions; checkError() is the only way to learn of EPIPE.
        if (out instanceof PrintStream && ((PrintStream) out).checkError()) {
            throw new BrokenPipeException(name + ": write failed; the reader has closed its end", null);
        }
    }

    private BrokenPipeException broken(IOException e) {
        return new BrokenPipeException(name + ": write failed (" + e.getMessage() + "); the reader has gone away", e);
    }
}
