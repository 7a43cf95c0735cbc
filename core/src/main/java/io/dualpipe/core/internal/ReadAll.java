package io.dualpipe.core.internal;

import io.dualpipe.core.ByteSource;
import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.ReadLimitExceededException;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@link ByteSource#readAll(int)}: {@link ByteSource#read(int)} futures one after the other, until
 * the empty array that marks the end. One read is outstanding at a time and none asks for more than
 * one byte past the limit, so at most {@code maxBytes + 1} bytes are ever taken from the source.
 * Chunks are kept as they come and joined once, at the end, into an array of the exact size.
 *
 * <p>Reads complete on the loop thread, often synchronously inside the call that issues the next one
 * (the bytes were buffered already): the work-in-progress counter turns that recursion into a loop,
 * whichever thread runs it.
 */
public final class ReadAll {
    /** Bytes asked of each read: the default read buffer limit, what the loop hands over in one go. */
    static final int CHUNK = 64 * 1024;

    private final ByteSource source;
    private final int maxBytes;
    private final LoopFuture<byte[]> result = new LoopFuture<>();
    private final AtomicInteger wip = new AtomicInteger();
    // Touched by one callback at a time: each read is issued only after the previous one was taken.
    private final List<byte[]> chunks = new ArrayList<>();
    private int total;

    private ReadAll(ByteSource source, int maxBytes) {
        this.source = source;
        this.maxBytes = maxBytes;
    }

    /** Starts reading {@code source} to its end; see {@link ByteSource#readAll(int)}. */
    public static LoopFuture<byte[]> start(ByteSource source, int maxBytes) {
        InvalidArgumentException.requirePositive("maxBytes", maxBytes);
        ReadAll r = new ReadAll(source, maxBytes);
        r.readNext();
        return r.result;
    }

    private void readNext() {
        if (wip.getAndIncrement() != 0) {
            return; // the thread already in the loop below issues it
        }
        do {
            if (result.isDone()) { // finished, or cancelled by the caller: take no more
                chunks.clear();
                return;
            }
            int ask = (int) Math.min(CHUNK, maxBytes - (long) total + 1);
            LoopFuture<byte[]> f;
            try {
                f = source.read(ask);
            } catch (RuntimeException e) {
                fail(e);
                return;
            }
            f.whenComplete(this::taken);
        } while (wip.decrementAndGet() != 0);
    }

    private void taken(byte[] chunk, Throwable error) {
        if (error != null) {
            fail(Futures.unwrap(error));
        } else if (chunk.length == 0) {
            result.complete(join());
        } else if (chunk.length > maxBytes - total) {
            fail(new ReadLimitExceededException(source.toString(), maxBytes));
        } else {
            if (!result.isDone()) {
                chunks.add(chunk);
                total += chunk.length;
            }
            readNext();
        }
    }

    private void fail(Throwable error) {
        chunks.clear();
        total = 0;
        result.completeExceptionally(error);
    }

    private byte[] join() {
        if (chunks.size() == 1) {
            return chunks.remove(0);
        }
        byte[] all = new byte[total];
        int at = 0;
        for (byte[] c : chunks) {
            System.arraycopy(c, 0, all, at, c.length);
            at += c.length;
        }
        chunks.clear();
        return all;
    }
}
