package io.dualpipe.core.line;

import io.dualpipe.core.InvalidArgumentException;

import java.nio.ByteBuffer;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Splits a byte stream, pushed to it in chunks of any size, into lines and decodes each line to a
 * {@code String}.
 *
 * <p><b>Lines.</b> By default a line ends at LF; a CR directly before that LF is part of the
 * terminator and is stripped, any other CR is kept. Bytes that are not valid in the charset become
 * its replacement ({@code U+FFFD} for UTF-8); decoding never throws. A character whose bytes straddle
 * two chunks decodes correctly, since a line is decoded only once all of it has arrived.
 *
 * <p><b>Other delimiters.</b> {@link #LineDecoder(int, Charset, byte)} splits at another single
 * ASCII byte instead, e.g. NUL ({@code find -print0}, {@code xargs -0}) or {@code ';'}. Then that
 * byte alone is the terminator: CR and LF are ordinary content, nothing else is stripped. The
 * delimiter must be an ASCII byte (0x00 to 0x7F) that the charset encodes as itself, so that in
 * UTF-8 it can never be part of a multi-byte character.
 *
 * <p><b>Over-long lines.</b> A line with more than {@code maxLineLength} bytes before its
 * terminator is reported once, as soon as that is known, through {@link LineListener#lineTooLong};
 * the decoder then drops bytes up to and including the next delimiter and goes on with the line
 * after it. So the memory it holds never exceeds {@code maxLineLength + 1} bytes (the one being a CR
 * that may turn out to be half of a CRLF), however long the line.
 *
 * <p><b>Buffers.</b> {@link #decode} borrows {@code chunk} for the duration of the call only: it
 * consumes all of its remaining bytes and keeps no reference to it. A line that lies entirely in one
 * heap chunk is decoded straight from the chunk's array. Only a line that spans chunks is copied, into
 * one internal array, made when first needed. A line in a direct (or read-only) chunk is copied to a
 * scratch array that the decoders of a thread share ({@value #SHARED_SCRATCH} bytes), or, if longer,
 * to the internal array: a decoder that only ever sees whole short lines (a child answering a
 * request per line) holds no array at all. In steady state nothing but the line {@code String}s is
 * allocated.
 *
 * <p><b>Threading.</b> Not thread-safe. Use one decoder per stream, from one thread at a time (an
 * event loop); handing it to another thread needs the usual happens-before edge.
 */
public final class LineDecoder {
    /** 64 KiB. */
    public static final int DEFAULT_MAX_LINE_LENGTH = 64 * 1024;
    /** The largest limit whose buffer ({@code maxLineLength + 1} bytes) a JVM can still allocate. */
    public static final int MAX_MAX_LINE_LENGTH = Integer.MAX_VALUE - 9;

    /** The default delimiter, LF (with an optional CR before it). */
    public static final byte LF = '\n';
    private static final byte CR = '\r';
    private static final int INITIAL_CAPACITY = 256;
    /** Lines in direct chunks up to this long are copied to the thread's scratch, not the decoder's own array. */
    static final int SHARED_SCRATCH = 4096;
    private static final byte[] NONE = new byte[0];
    private static final ThreadLocal<byte[]> SCRATCH = ThreadLocal.withInitial(() -> new byte[SHARED_SCRATCH]);

    private final int maxLineLength;
    private final Charset charset;
    private final byte delimiter;
    // Delimiter LF: a CR before it belongs to the terminator (CRLF). Any other delimiter stands alone.
    private final boolean crlf;

    // The partial line carried over from earlier chunks; scratch for direct chunks while empty.
    private byte[] pending = NONE;
    private int pendingLength;
    // An over-long line has been reported and we are dropping bytes through its LF.
    private boolean discarding;

    /** A decoder for UTF-8 lines of at most {@link #DEFAULT_MAX_LINE_LENGTH} bytes. */
    public LineDecoder() {
        this(DEFAULT_MAX_LINE_LENGTH, StandardCharsets.UTF_8);
    }

    /**
     * A decoder for UTF-8 lines of at most {@code maxLineLength} bytes.
     *
     * @param maxLineLength bytes a line may have before its terminator; 1 to {@link #MAX_MAX_LINE_LENGTH}
     */
    public LineDecoder(int maxLineLength) {
        this(maxLineLength, StandardCharsets.UTF_8);
    }

    /**
     * @param maxLineLength bytes a line may have before its terminator; 1 to {@link #MAX_MAX_LINE_LENGTH}
     * @param charset must encode CR and LF as the single bytes 0x0D and 0x0A, as UTF-8, ASCII and
     *     the ISO-8859 family do (UTF-16 does not: its LF byte can be half of another character)
     */
    public LineDecoder(int maxLineLength, Charset charset) {
        this(maxLineLength, charset, LF);
    }

    /**
     * A decoder whose lines end at {@code delimiter}. With {@link #LF} this is
     * {@link #LineDecoder(int, Charset)} (CRLF stripped too); with any other byte, that byte alone
     * ends a line and CR and LF are content.
     *
     * @param maxLineLength bytes a line may have before its delimiter; 1 to {@link #MAX_MAX_LINE_LENGTH}
     * @param charset must encode CR, LF and {@code delimiter} as the single bytes 0x0D, 0x0A and
     *     {@code delimiter}, as UTF-8, ASCII and the ISO-8859 family do
     * @param delimiter an ASCII byte, 0x00 to 0x7F
     */
    public LineDecoder(int maxLineLength, Charset charset, byte delimiter) {
        InvalidArgumentException.requirePositive("maxLineLength", maxLineLength);
        if (maxLineLength > MAX_MAX_LINE_LENGTH) {
            throw new InvalidArgumentException(
                    "maxLineLength > " + MAX_MAX_LINE_LENGTH + ": " + maxLineLength);
        }
        InvalidArgumentException.requireNonNull("charset", charset);
        if (!charset.canEncode() || !Arrays.equals("\r\n".getBytes(charset), new byte[] {CR, LF})) {
            throw new InvalidArgumentException(
                    "charset " + charset.name() + " does not encode CR LF as the bytes 0x0d 0x0a");
        }
        if (delimiter < 0) {
            throw new InvalidArgumentException(
                    "delimiter must be an ASCII byte (0x00 to 0x7f): " + hex(delimiter));
        }
        if (!Arrays.equals(String.valueOf((char) delimiter).getBytes(charset), new byte[] {delimiter})) {
            throw new InvalidArgumentException(
                    "charset " + charset.name() + " does not encode the delimiter as the byte " + hex(delimiter));
        }
        this.maxLineLength = maxLineLength;
        this.charset = charset;
        this.delimiter = delimiter;
        this.crlf = delimiter == LF;
    }

    private static String hex(byte b) {
        return String.format("0x%02x", b & 0xff);
    }

    /** {@return the bytes a line may have before its terminator} */
    public int maxLineLength() {
        return maxLineLength;
    }

    /** {@return the charset lines are decoded with} */
    public Charset charset() {
        return charset;
    }

    /** {@return the byte that ends a line: {@link #LF} unless another was given} */
    public byte delimiter() {
        return delimiter;
    }

    /**
     * Consumes every remaining byte of {@code chunk} (its position ends at its limit) and reports
     * each line completed by them to {@code out}. Bytes after the last delimiter are kept for the next
     * call.
     *
     * @param chunk the next bytes of the stream, borrowed for this call
     * @param out   told of each line, on this thread, during this call
     */
    public void decode(ByteBuffer chunk, LineListener out) {
        int pos = chunk.position();
        int limit = chunk.limit();
        while (pos < limit) {
            int lf = indexOf(chunk, pos, limit, delimiter);
            if (lf < 0) {
                chunk.position(limit);
                if (!discarding) {
                    carryOver(chunk, pos, limit, out);
                }
                return;
            }
            int start = pos;
            pos = lf + 1;
            // Before any callback: a listener that throws leaves the unread rest in chunk.
            chunk.position(pos);
            if (discarding) {
                discarding = false;
            } else if (pendingLength == 0) {
                lineInChunk(chunk, start, lf, out);
            } else {
                lineAcrossChunks(chunk, start, lf, out);
            }
        }
        chunk.position(limit);
    }

    /**
     * The stream has ended: reports the bytes pending since the last delimiter, if any, as a final line
     * (or as too long), and resets the decoder so that it could start on a new stream.
     *
     * @param out told of the final line, if any, on this thread, during this call
     */
    public void endOfInput(LineListener out) {
        int length = pendingLength;
        pendingLength = 0;
        if (discarding) {
            discarding = false;
            return;
        }
        if (length == 0) {
            return;
        }
        // maxLineLength + 1 bytes are buffered only when the last is a CR that no LF followed.
        if (length > maxLineLength) {
            tooLong(out);
            return;
        }
        out.onLine(new String(pending, 0, length, charset));
    }

    /** Bytes buffered for the current partial line; for tests. */
    int bufferedBytes() {
        return pendingLength;
    }

    /** Capacity of the internal array, which never exceeds {@code maxLineLength + 1}; for tests. */
    int bufferCapacity() {
        return pending.length;
    }

    private void lineInChunk(ByteBuffer chunk, int start, int lf, LineListener out) {
        int end = crlf && lf > start && chunk.get(lf - 1) == CR ? lf - 1 : lf;
        int length = end - start;
        if (length > maxLineLength) {
            tooLong(out);
        } else if (chunk.hasArray()) {
            out.onLine(new String(chunk.array(), chunk.arrayOffset() + start, length, charset));
        } else {
            byte[] scratch;
            if (length <= SHARED_SCRATCH) {
                scratch = SCRATCH.get(); // free again before onLine runs: a listener may decode on this thread too
            } else {
                ensureCapacity(length);
                scratch = pending;
            }
            chunk.get(start, scratch, 0, length);
            out.onLine(new String(scratch, 0, length, charset));
        }
    }

    private void lineAcrossChunks(ByteBuffer chunk, int start, int lf, LineListener out) {
        int tail = lf - start;
        boolean cr = crlf && (tail > 0 ? chunk.get(lf - 1) == CR : pending[pendingLength - 1] == CR);
        long length = (long) pendingLength + tail - (cr ? 1 : 0);
        if (length > maxLineLength) {
            pendingLength = 0;
            tooLong(out);
            return;
        }
        int total = pendingLength + tail;
        ensureCapacity(total);
        chunk.get(start, pending, pendingLength, tail);
        pendingLength = 0;
        out.onLine(new String(pending, 0, (int) length, charset));
    }

    private void carryOver(ByteBuffer chunk, int start, int limit, LineListener out) {
        long total = (long) pendingLength + (limit - start);
        // The last byte may be the CR of a CRLF, so it does not count against the limit yet.
        long knownLength = crlf && chunk.get(limit - 1) == CR ? total - 1 : total;
        if (knownLength > maxLineLength) {
            pendingLength = 0;
            discarding = true;
            tooLong(out);
            return;
        }
        ensureCapacity((int) total);
        chunk.get(start, pending, pendingLength, limit - start);
        pendingLength = (int) total;
    }

    private void tooLong(LineListener out) {
        out.lineTooLong(crlf ? new LineTooLongException(maxLineLength) : new LineTooLongException(maxLineLength, delimiter));
    }

    private void ensureCapacity(int needed) {
        if (needed <= pending.length) {
            return;
        }
        long doubled = Math.max(2L * pending.length, INITIAL_CAPACITY);
        int capacity = (int) Math.max(needed, Math.min(doubled, maxLineLength + 1L));
        pending = Arrays.copyOf(pending, capacity);
    }

    private static int indexOf(ByteBuffer chunk, int from, int to, byte delimiter) {
        if (chunk.hasArray()) {
            byte[] a = chunk.array();
            int offset = chunk.arrayOffset();
            for (int i = from + offset, end = to + offset; i < end; i++) {
                if (a[i] == delimiter) {
                    return i - offset;
                }
            }
        } else {
            for (int i = from; i < to; i++) {
                if (chunk.get(i) == delimiter) {
                    return i;
                }
            }
        }
        return -1;
    }
}
