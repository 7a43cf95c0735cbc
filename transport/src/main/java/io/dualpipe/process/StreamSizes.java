package io.dualpipe.process;

import io.dualpipe.core.InvalidArgumentException;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;

/**
 * How the parent sizes and decodes a child's streams, as {@link ChildProcessBuilder} is told: the
 * kernel pipe buffer, the read-ahead per output pipe, stdin's water marks, the longest line and the
 * charset, with their defaults and range checks. Kept apart from the builder so that the checks
 * that relate two values (the low water mark against the high one) sit beside the values, and the
 * builder holds the public contract.
 *
 * <p><b>Threading.</b> Not thread-safe, as the builder that owns it: it is changed by the thread
 * configuring that builder and read by whichever thread calls {@link ChildProcessBuilder#start()}.
 */
final class StreamSizes {
    private int pipeSize;
    private int readBufferLimit = 64 * 1024;
    private int highWaterMark = 64 * 1024;
    private int lowWaterMark = 32 * 1024;
    private int maxLineLength = 64 * 1024;
    private Charset charset = StandardCharsets.UTF_8;

    void pipeBufferSize(int bytes) {
        if (bytes < 0) { // 0 is allowed: it keeps the kernel's default
            throw new InvalidArgumentException("pipeBufferSize < 0: " + bytes);
        }
        this.pipeSize = bytes;
    }

    void readBufferLimit(int bytes) {
        this.readBufferLimit = InvalidArgumentException.requirePositive("readBufferLimit", bytes);
    }

    void writeWaterMarks(int low, int high) {
        InvalidArgumentException.requirePositive("highWaterMark", high);
        if (low < 0 || low > high) {
            throw new InvalidArgumentException("lowWaterMark must be in [0, highWaterMark=" + high + "]: " + low);
        }
        this.lowWaterMark = low;
        this.highWaterMark = high;
    }

    void maxLineLength(int bytes) {
        this.maxLineLength = InvalidArgumentException.requirePositive("maxLineLength", bytes);
    }

    void charset(Charset cs) {
        this.charset = InvalidArgumentException.requireNonNull("charset", cs);
    }

    int pipeBufferSize() {
        return pipeSize;
    }

    int readBufferLimit() {
        return readBufferLimit;
    }

    int highWaterMark() {
        return highWaterMark;
    }

    int lowWaterMark() {
        return lowWaterMark;
    }

    int maxLineLength() {
        return maxLineLength;
    }

    Charset charset() {
        return charset;
    }
}
