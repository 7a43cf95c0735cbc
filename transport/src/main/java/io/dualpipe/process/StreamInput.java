package io.dualpipe.process;

import io.dualpipe.core.ChannelClosedException;
import io.dualpipe.core.codec.FrameDecoder;
import io.dualpipe.core.codec.FrameListener;
import io.dualpipe.core.codec.Frames;
import io.dualpipe.core.line.LineDecoder;
import io.dualpipe.core.line.LineListener;
import io.dualpipe.core.line.LineTooLongException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;

/**
 * Blocking reads of lines and frames from one {@link InputStream}, through one buffer, never
 * consuming a byte past the line or frame being read: that is what lets {@link ChildSide} mix the
 * two. Lines are cut by core's {@link LineDecoder} and frames by its {@link FrameDecoder}; each is
 * fed only up to the end of its own item, so neither keeps bytes the other needs.
 *
 * <p>Not thread-safe: {@link ChildSide} calls it under its read lock.
 */
final class StreamInput {
    private final InputStream in;
    private final byte[] buf = new byte[8192];
    private int pos;
    private int limit;
    private boolean eof;
    private final LineDecoder lineDecoder = new LineDecoder();
    private final FrameDecoder frameDecoder = new FrameDecoder();
    private final LineCatcher lineCatcher = new LineCatcher();

    StreamInput(InputStream in) {
        this.in = in;
    }

    /** The next line without its terminator; null at end of input. */
    String readLine() {
        LineCatcher c = lineCatcher;
        c.reset();
        while (true) {
            if (pos == limit && !fill()) {
                lineDecoder.endOfInput(c);
                return c.take();
            }
            int lf = indexOfLf();
            int end = lf < 0 ? limit : lf + 1;
            ByteBuffer slice = ByteBuffer.wrap(buf, pos, end - pos);
            pos = end;
            lineDecoder.decode(slice, c); // a line without its LF yet is carried over by the decoder
            if (c.done) {
                return c.take();
            }
        }
    }

    /**
     * Reads one frame and hands it to {@code listener}, its body borrowed for the call; false when
     * input ends at a frame boundary.
     *
     * @throws io.dualpipe.core.codec.ProtocolException for a corrupt header or a cut-off frame
     */
    boolean readFrame(FrameListener listener) {
        byte[] header = new byte[Frames.HEADER_SIZE];
        int got = readUpTo(header, header.length);
        if (got == 0) {
            frameDecoder.endOfInput();
            return false;
        }
        frameDecoder.decode(ByteBuffer.wrap(header, 0, got), listener); // checks flags and length first
        if (got < header.length) {
            frameDecoder.endOfInput(); // throws: truncated header
        }
        long remaining = ByteBuffer.wrap(header).getInt(6) & 0xffffffffL;
        while (remaining > 0) {
            if (pos == limit && !fill()) {
                frameDecoder.endOfInput(); // throws: truncated body
            }
            int n = (int) Math.min(remaining, limit - pos);
            ByteBuffer slice = ByteBuffer.wrap(buf, pos, n);
            pos += n;
            remaining -= n;
            frameDecoder.decode(slice, listener);
        }
        return true;
    }

    /** Refills the buffer once it is all consumed; false at end of input. */
    private boolean fill() {
        if (eof) {
            return false;
        }
        int n;
        try {
            do {
                n = in.read(buf, 0, buf.length);
            } while (n == 0);
        } catch (IOException e) {
            throw new ChannelClosedException("input: read failed: " + e.getMessage(), e);
        }
        if (n < 0) {
            eof = true;
            return false;
        }
        pos = 0;
        limit = n;
        return true;
    }

    /** Copies up to {@code n} bytes into {@code dst}, fewer only at end of input. */
    private int readUpTo(byte[] dst, int n) {
        int got = 0;
        while (got < n) {
            if (pos == limit && !fill()) {
                break;
            }
            int k = Math.min(n - got, limit - pos);
            System.arraycopy(buf, pos, dst, got, k);
            pos += k;
            got += k;
        }
        return got;
    }

    private int indexOfLf() {
        for (int i = pos; i < limit; i++) {
            if (buf[i] == '\n') {
                return i;
            }
        }
        return -1;
    }

    /** Catches the one line (or too-long report) a decode call produces. */
    private static final class LineCatcher implements LineListener {
        boolean done;
        private String line;
        private LineTooLongException tooLong;

        void reset() {
            done = false;
            line = null;
            tooLong = null;
        }

        @Override
        public void onLine(String l) {
            done = true;
            line = l;
        }

        @Override
        public void lineTooLong(LineTooLongException e) {
            done = true;
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
