package io.dualpipe;

import io.dualpipe.core.BlockingOnLoopException;
import io.dualpipe.core.ByteSource;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.ReadLimitExceededException;
import io.dualpipe.core.line.LineDecoder;
import io.dualpipe.core.line.LineListener;
import io.dualpipe.core.line.LineTooLongException;

import java.nio.ByteBuffer;
import java.nio.charset.Charset;
import java.time.Duration;
import java.util.Arrays;
import java.util.function.Supplier;

/**
 * What {@link DualPipe} has received from the child's stdout and not yet handed out: the one
 * mechanism behind both {@code read(size)} and {@code readline()}, so the two can be mixed freely.
 *
 * <p>Bytes come from {@link ByteSource#read(int)} futures; at most one is outstanding. A wait that
 * ends before its read does (timed out, interrupted, refused on a loop thread) leaves that future in
 * place, so whatever it brings later is kept, never lost. When the
 * buffer runs low one read is issued ahead, so that data the child writes between two calls is at
 * hand for the next one (even with a zero timeout). Memory stays bounded: the buffer takes a
 * new chunk only while it holds less than {@link #CHUNK} bytes or cannot answer without more, so it
 * never holds much more than two chunks plus one line.
 *
 * <p>Lines are found here (the first LF) and decoded by core's {@link LineDecoder}, which is handed
 * exactly one line at a time and so never keeps bytes that {@code read(size)} should get.
 *
 * <p>Not thread-safe: {@link Receiver}, which owns it, calls it only under its read lock.
 */
final class InputBuffer {
    static final int CHUNK = 64 * 1024;
    private static final byte[] EMPTY = new byte[0];

    private final ByteSource source;
    private final String label;
    private final int maxLineLength;
    private final LineDecoder decoder;
    private final Catcher catcher = new Catcher();

    private byte[] buf = new byte[8192];
    private int start;
    private int end;
    private int scanned;        // bytes after start known to hold no LF
    private boolean discarding; // dropping the rest of an over-long line, through its LF
    private boolean eof;
    private LoopFuture<byte[]> inflight;

    InputBuffer(ByteSource source, String label, int maxLineLength, Charset charset) {
        this.source = source;
        this.label = label;
        this.maxLineLength = maxLineLength;
        this.decoder = new LineDecoder(maxLineLength, charset);
    }

    /** 1 to {@code size} bytes, as soon as there are any; an empty array at end of stream. */
    byte[] read(int size, long deadline, Duration timeout) {
        discarding = false; // raw bytes are raw: an over-long line's rest is the caller's now
        takeArrived();
        while (end == start && !eof) {
            await(deadline, timeout, () -> "read(" + size + "): no bytes from " + label + " within " + timeout
                    + hint());
        }
        int n = Math.min(size, end - start);
        byte[] out = n == 0 ? EMPTY : Arrays.copyOfRange(buf, start, start + n);
        consume(n);
        readAhead();
        return out;
    }

    /**
     * Whatever has arrived, up to {@code size} bytes; an empty array when nothing has (at the end of
     * stream too: {@link #atEnd()} tells them apart). Never waits; a failed read is thrown.
     */
    byte[] poll(int size) {
        discarding = false;
        takeArrived();
        if (end == start) {
            takeDone(); // nothing buffered: a failure that ended the stream is the answer
        }
        int n = Math.min(size, end - start);
        byte[] out = n == 0 ? EMPTY : Arrays.copyOfRange(buf, start, start + n);
        consume(n);
        readAhead();
        return out;
    }

    /** A complete line that has arrived (or the last one, at the end), else null. Never waits. */
    String pollLine() {
        return readLine(0, null);
    }

    /**
     * True once the end of stream has arrived and every byte before it was handed out. Issues a read
     * if none is outstanding, so that a caller who only polls still learns of the end.
     */
    boolean atEnd() {
        takeArrived();
        readAhead();
        return eof && end == start;
    }

    /**
     * Everything up to the end of stream. Bytes stay buffered when the time is up or the stream proves
     * longer than {@code maxBytes}; no read is issued past that point, so at most
     * {@code maxBytes + CHUNK} bytes are held.
     */
    byte[] readAll(int maxBytes, long deadline, Duration timeout) {
        discarding = false; // raw bytes, as in read()
        takeArrived();
        while (true) {
            if (end - start > maxBytes) {
                throw new ReadLimitExceededException(label + " stdout", maxBytes);
            }
            if (eof) {
                break;
            }
            await(deadline, timeout, () -> "readAll: the output of " + label + " did not end within " + timeout
                    + " (" + (end - start) + " bytes that came are kept)" + hint());
        }
        byte[] out = end == start ? EMPTY : Arrays.copyOfRange(buf, start, end);
        consume(end - start);
        return out;
    }

    /**
     * The next line without its terminator; null at end of stream. With a null {@code timeout}:
     * polling, null when no complete line has arrived.
     */
    String readLine(long deadline, Duration timeout) {
        takeArrived();
        while (true) {
            int lf = indexOfLf();
            if (lf >= 0) {
                String line = decodeThrough(lf);
                if (line != null) {
                    readAhead();
                    return line;
                }
                continue; // that LF ended a dropped over-long line
            }
            if (!discarding && end - start > maxLineLength + 1) { // +1: a CR that may precede the LF
                consume(end - start);
                discarding = true;
                throw new LineTooLongException(maxLineLength);
            }
            if (discarding) {
                consume(end - start);
            }
            if (eof) {
                return lastLine();
            }
            if (timeout == null) {
                if (takeDone()) {
                    continue; // no complete line without it, so it is taken even into a full buffer
                }
                readAhead();
                return null;
            }
            int partial = end - start;
            await(deadline, timeout, () -> "readline: no complete line from " + label + " within " + timeout
                    + (partial > 0 ? " (" + partial + " bytes of a line without its newline are buffered and kept)" : hint()));
        }
    }

    private String hint() {
        return "; if the child is alive, its output may be stuck in its own stdio buffer (docs/buffering.md)";
    }

    /** Hands bytes [start, lf] to the decoder: one line, or nothing if it ended a dropped line. */
    private String decodeThrough(int lf) {
        int from = start;
        consume(lf + 1 - start);
        if (discarding) {
            discarding = false;
            return null;
        }
        catcher.reset();
        decoder.decode(ByteBuffer.wrap(buf, from, lf + 1 - from), catcher);
        return catcher.take();
    }

    private String lastLine() {
        if (discarding || end == start) {
            discarding = false;
            consume(end - start);
            return null;
        }
        catcher.reset();
        decoder.decode(ByteBuffer.wrap(buf, start, end - start), catcher);
        consume(end - start);
        decoder.endOfInput(catcher);
        return catcher.take();
    }

    /** Waits for the outstanding read (issuing one if needed) and appends what it brings. */
    private void await(long deadline, Duration timeout, Supplier<String> message) {
        if (inflight == null) {
            inflight = source.read(CHUNK);
        }
        byte[] chunk;
        try {
            chunk = Waits.await(inflight, deadline, timeout, message);
        } catch (WaitTimeoutException | WaitInterruptedException | BlockingOnLoopException e) {
            throw e; // the read stays outstanding: its bytes are taken on the next call
        } catch (RuntimeException e) { // the read itself failed
            inflight = null;
            throw e;
        }
        inflight = null;
        append(chunk);
    }

    /** Takes a chunk that arrived since the last call, if the buffer has room for it. */
    private void takeArrived() {
        LoopFuture<byte[]> f = inflight;
        if (f != null && f.isDone() && !f.isCompletedExceptionally() && end - start < CHUNK) {
            inflight = null;
            append(f.join());
        }
    }

    /**
     * Takes the outstanding read if it has completed, whatever the buffer holds (the line check bounds
     * it); true if it did. A failed read is thrown, as {@link #await} throws it.
     */
    private boolean takeDone() {
        LoopFuture<byte[]> f = inflight;
        if (f == null || !f.isDone()) {
            return false;
        }
        inflight = null;
        append(Waits.await(f, 0, Duration.ZERO, () -> "")); // done: its value, or its failure thrown
        return true;
    }

    /** Keeps one read outstanding while the buffer runs low, so the next call finds data at hand. */
    private void readAhead() {
        if (inflight == null && !eof && end - start < CHUNK) {
            inflight = source.read(CHUNK);
        }
    }

    private void append(byte[] chunk) {
        if (chunk.length == 0) {
            eof = true;
            return;
        }
        if (buf.length - end < chunk.length) {
            int live = end - start;
            if (buf.length - live < chunk.length) {
                buf = Arrays.copyOf(buf, Math.max(buf.length * 2, live + chunk.length));
            }
            System.arraycopy(buf, start, buf, 0, live); // compact
            start = 0;
            end = live;
        }
        System.arraycopy(chunk, 0, buf, end, chunk.length);
        end += chunk.length;
    }

    private void consume(int n) {
        start += n;
        scanned = Math.max(0, scanned - n);
        if (start == end) {
            start = end = scanned = 0;
        }
    }

    private int indexOfLf() {
        for (int i = start + scanned; i < end; i++) {
            if (buf[i] == '\n') {
                return i;
            }
        }
        scanned = end - start;
        return -1;
    }

    /** Bytes received and not yet handed out. */
    int buffered() {
        return end - start;
    }

    private static final class Catcher implements LineListener {
        private String line;
        private LineTooLongException tooLong;

        void reset() {
            line = null;
            tooLong = null;
        }

        @Override
        public void onLine(String l) {
            line = l;
        }

        @Override
        public void lineTooLong(LineTooLongException e) {
            tooLong = e;
        }

        String take() {
            if (tooLong != null) {
                throw tooLong;
            }
            return line;
        }
    }
}
