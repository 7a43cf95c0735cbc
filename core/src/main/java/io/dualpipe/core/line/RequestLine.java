package io.dualpipe.core.line;

import io.dualpipe.core.ByteSink;
import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.internal.FdStream;

import java.nio.ByteBuffer;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.Set;

/** A {@link Conversation}'s request lines: what may be in one, how it is written, how messages show it. */
final class RequestLine {
    private static final int SHOWN = 200;
    /** Charsets that encode every char below 0x80 as that one byte. */
    /** Request lines up to this many bytes (id prefix and LF included) are encoded in the thread's scratch. */
    static final int SCRATCH_BYTES = 4096;
    private static final ThreadLocal<byte[]> SCRATCH = ThreadLocal.withInitial(() -> new byte[SCRATCH_BYTES]);
    private static final Set<Charset> ASCII_SUPERSETS = Set.of(StandardCharsets.UTF_8, StandardCharsets.US_ASCII,
            StandardCharsets.ISO_8859_1);

    private RequestLine() {
    }

    /**
     * Refuses a request that the child could read as two lines, which would pair every later reply
     * with the request before it: LF; CR, which a terminal with ICRNL (a pseudo-terminal's default)
     * turns into LF and which many readers also end a line at; and the reply stream's own delimiter.
     */
    static void check(String line, char delimiter) {
        InvalidArgumentException.requireNonNull("line", line);
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (c == '\n' || c == '\r' || c == delimiter) {
                throw new InvalidArgumentException("request line has " + describe(c) + " at index " + i
                        + ", which would split it into two lines and pair later replies with the wrong requests: '"
                        + escape(line) + "'");
            }
        }
    }

    private static String describe(char c) {
        switch (c) {
            case '\n':
                return "a line feed (\\n)";
            case '\r':
                return "a carriage return (\\r; a terminal with ICRNL reads it as a line feed)";
            default:
                return String.format("the reply delimiter 0x%02x", (int) c);
        }
    }

    private static String escape(String line) {
        StringBuilder b = new StringBuilder(Math.min(line.length(), SHOWN) + 16);
        int i = 0;
        for (; i < line.length() && b.length() < SHOWN; i++) {
            char c = line.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                b.append(c == '\n' ? "\\n" : c == '\r' ? "\\r" : String.format("\\x%02x", (int) c));
            } else {
                b.append(c);
            }
        }
        return i < line.length() ? b + "..." : b.toString();
    }

    /**
     * {@code line} in {@code charset}, plus one byte of room at the end, which {@link #encode} fills
     * with the LF when there is no prefix: an ASCII line in an ASCII-compatible charset (the common
     * case) is written straight into the array that goes to the child, with no second copy.
     */
    static byte[] bytes(String line, Charset charset) {
        if (ASCII_SUPERSETS.contains(charset)) {
            int n = line.length();
            byte[] b = new byte[n + 1];
            for (int i = 0; i < n; i++) {
                char c = line.charAt(i);
                if (c >= 0x80) {
                    return withRoom(line.getBytes(charset));
                }
                b[i] = (byte) c;
            }
            return b;
        }
        return withRoom(line.getBytes(charset));
    }

    private static byte[] withRoom(byte[] encoded) {
        return java.util.Arrays.copyOf(encoded, encoded.length + 1);
    }

    /** {@code prefix} (ASCII), the line, LF; {@code line} comes from {@link #bytes}, its last byte the room for the LF. */
    static byte[] encode(String prefix, byte[] line) {
        int n = line.length - 1;
        if (prefix.isEmpty()) {
            line[n] = '\n';
            return line;
        }
        byte[] b = new byte[prefix.length() + n + 1];
        for (int i = 0; i < prefix.length(); i++) {
            b[i] = (byte) prefix.charAt(i); // digits and a space: the same byte in every charset allowed
        }
        System.arraycopy(line, 0, b, prefix.length(), n);
        b[b.length - 1] = '\n';
        return b;
    }

    /**
     * Writes or queues {@code prefix + line + LF} to {@code out}; null when the kernel took it at once.
     * An ASCII line in an ASCII-compatible charset, to one of the library's streams, is encoded into the
     * thread's scratch and written from there: a request costs no array (only what the kernel does not
     * take is copied, to be queued). Otherwise the line is encoded into an array of its own.
     */
    static LoopFuture<Void> write(ByteSink out, String prefix, String line, Charset charset) {
        if (out instanceof FdStream && ASCII_SUPERSETS.contains(charset)) {
            byte[] scratch = SCRATCH.get();
            int n = encodeAscii(prefix, line, scratch);
            if (n >= 0) {
                return ((FdStream) out).writeOrQueueCopy(scratch, n); // nothing runs on this thread meanwhile
            }
        }
        return write(out, encode(prefix, bytes(line, charset)));
    }

    /** Writes or queues an encoded line, handed over; null when the kernel took it at once. */
    static LoopFuture<Void> write(ByteSink out, byte[] encoded) {
        return out instanceof FdStream ? ((FdStream) out).writeOrQueue(encoded) : out.writeOrQueue(ByteBuffer.wrap(encoded));
    }

    /** {@code prefix + line + LF} into {@code into}: its length, or -1 when a char is not ASCII or it does not fit. */
    static int encodeAscii(String prefix, String line, byte[] into) {
        int p = prefix.length();
        int n = line.length();
        if (p + n + 1 > into.length) {
            return -1;
        }
        for (int i = 0; i < p; i++) {
            into[i] = (byte) prefix.charAt(i); // digits, a dash, hex and a space
        }
        for (int i = 0; i < n; i++) {
            char c = line.charAt(i);
            if (c >= 0x80) {
                return -1;
            }
            into[p + i] = (byte) c;
        }
        into[p + n] = '\n';
        return p + n + 1;
    }

    /** {@code s}, cut for a message or a log line. */
    static String shorten(String s) {
        return s.length() <= SHOWN ? s : s.substring(0, SHOWN) + "...(" + s.length() + " chars)";
    }
}
