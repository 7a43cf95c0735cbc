package io.dualpipe.core.message.internal;

import io.dualpipe.core.ByteSink;
import io.dualpipe.core.LoopFuture;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.function.Consumer;

import static io.dualpipe.core.codec.Frames.HEADER_SIZE;

/**
 * The frames a channel has accepted and the kernel has not taken yet, coalesced so that a burst of
 * frames costs one {@code write(2)}.
 *
 * <p>Small frames (header and body) are copied into a direct "chunk" buffer; a body over
 * {@link #COPY_LIMIT} is not copied but queued as its own segment after its header. {@link #flush()}
 * hands the chunk to the sink in one write. Writes reach the sink strictly in append order: only one
 * thread flushes at a time, and a thread that finds a flush in progress leaves its frames to that
 * flusher, which keeps going until nothing is left. Two chunks alternate, so the steady state
 * allocates nothing: the one being written is recycled as soon as the sink has it (at once, when the
 * kernel takes it all).
 *
 * <p>{@link #queuedBytes()} counts accepted bytes whose sink write has not completed: the frames here
 * plus whatever the sink still queues for the kernel. Writability follows it with the channel's
 * water marks.
 *
 * <p><b>Threading.</b> {@code append} and {@code hasSealed} are called with the channel's lock held;
 * every other method takes the lock itself and must be called without it. Futures are completed
 * outside the lock.
 */
final class Outbound {
    /** Size of a chunk: room for a burst of ~100 small frames; a fuller burst seals it and starts another. */
    static final int CHUNK_SIZE = 16 * 1024;
    /** Bodies up to this size are copied into the chunk; larger ones are written from their own buffer. */
    static final int COPY_LIMIT = 2 * 1024;

    private final ByteSink sink;
    private final Object lock;
    private final int lowWater;
    private final int highWater;
    private final Consumer<Throwable> onWriteFailure;

    // ---- guarded by lock ----
    private ByteBuffer chunk;                   // being filled; null until needed
    private ByteBuffer spare;                   // a recycled chunk
    private FutureList chunkFutures = new FutureList();
    private ArrayDeque<Segment> sealed;         // full chunks and large bodies, in order, before `chunk`
    private long queued;
    private boolean flushing;
    private FutureList flushFutures = new FutureList(); // the futures of the chunk the flusher is writing
    private boolean writable = true;
    private List<LoopFuture<Void>> writableWaiters;
    private List<LoopFuture<Void>> drainWaiters;
    private Throwable failure;

    Outbound(ByteSink sink, Object lock, int lowWater, int highWater, Consumer<Throwable> onWriteFailure) {
        this.sink = sink;
        this.lock = lock;
        this.lowWater = lowWater;
        this.highWater = highWater;
        this.onWriteFailure = onWriteFailure;
    }

    /**
     * Queues one frame; {@code body} is ours from now on. Caller holds the lock.
     *
     * @return null, or the failure that stops this outbound queue (the caller fails {@code future})
     */
    Throwable append(int type, int flags, int requestId, ByteBuffer body, LoopFuture<Void> future) {
        if (failure != null) {
            return failure;
        }
        int length = body.remaining();
        if (length <= COPY_LIMIT) {
            ByteBuffer b = room(HEADER_SIZE + length);
            putHeader(b, type, flags, requestId, length);
            b.put(body);
            if (future != null) {
                chunkFutures.add(future);
            }
        } else {
            putHeader(room(HEADER_SIZE), type, flags, requestId, length);
            seal();
            sealed().add(new Segment(body, future == null ? null : List.of(future), false));
        }
        queued += HEADER_SIZE + length;
        if (writable && queued > highWater) {
            writable = false;
        }
        return null;
    }

    /** True when full chunks or large bodies wait: the caller should flush now rather than at the end of the pass. */
    boolean hasSealed() {
        return sealed != null && !sealed.isEmpty();
    }

    // Direct buffers are big-endian unless told otherwise: putInt writes network order.
    private static void putHeader(ByteBuffer b, int type, int flags, int requestId, int length) {
        int at = b.position();
        b.put(at, (byte) type);
        b.put(at + 1, (byte) flags);
        b.putInt(at + 2, requestId);
        b.putInt(at + 6, length);
        b.position(at + HEADER_SIZE);
    }

    private ByteBuffer room(int bytes) {
        if (chunk != null && chunk.remaining() >= bytes) {
            return chunk;
        }
        if (chunk != null && chunk.position() > 0) {
            seal();
        }
        if (chunk == null) {
            if (spare != null) {
                chunk = spare;
                spare = null;
            } else {
                chunk = ByteBuffer.allocateDirect(CHUNK_SIZE);
            }
        }
        return chunk;
    }

    private void seal() {
        if (chunk == null || chunk.position() == 0) {
            return;
        }
        chunk.flip();
        sealed().add(new Segment(chunk, chunkFutures.isEmpty() ? null : chunkFutures.drain(), true));
        chunk = null;
    }

    private ArrayDeque<Segment> sealed() {
        if (sealed == null) {
            sealed = new ArrayDeque<>();
        }
        return sealed;
    }

    /**
     * Writes everything queued to the sink, in order. Callable from any thread; a caller that finds
     * another thread flushing returns at once, leaving its frames to that thread.
     */
    void flush() {
        while (true) {
            ByteBuffer data;
            boolean isChunk;
            List<LoopFuture<Void>> segmentFutures = null;
            FutureList batch = null;
            synchronized (lock) {
                if (flushing || failure != null) {
                    return;
                }
                Segment s = sealed == null ? null : sealed.pollFirst();
                if (s != null) {
                    data = s.data;
                    isChunk = s.chunk;
                    segmentFutures = s.futures;
                } else if (chunk != null && chunk.position() > 0) {
                    data = chunk.flip();
                    isChunk = true;
                    chunk = spare;
                    spare = null;
                    if (!chunkFutures.isEmpty()) {
                        batch = chunkFutures;
                        chunkFutures = flushFutures;
                        flushFutures = batch;
                    }
                } else {
                    return;
                }
                flushing = true;
            }
            int size = data.remaining();
            LoopFuture<Void> w;
            try {
                w = sink.write(data);
            } catch (RuntimeException e) {
                w = LoopFuture.failed(e);
            }
            if (w.isDone()) {
                // The common case: the kernel took it all, nothing to wait for, nothing allocated.
                written(data, size, isChunk, segmentFutures, batch, causeOf(w));
            } else {
                List<LoopFuture<Void>> futures = segmentFutures != null ? segmentFutures : batch != null ? batch.drain() : null;
                ByteBuffer d = data;
                boolean c = isChunk;
                w.whenComplete((v, e) -> written(d, size, c, futures, null, e == null ? null : unwrap(e)));
            }
            synchronized (lock) {
                flushing = false;
            }
        }
    }

    private void written(ByteBuffer data, int size, boolean isChunk, List<LoopFuture<Void>> futures, FutureList batch, Throwable error) {
        if (error != null) {
            completeAll(futures, error);
            if (batch != null) {
                batch.completeAll(error);
            }
            onWriteFailure.accept(error);
            return;
        }
        completeAll(futures, null);
        if (batch != null) {
            batch.completeAll(null);
        }
        List<LoopFuture<Void>> waiters = null;
        List<LoopFuture<Void>> drained = null;
        synchronized (lock) {
            if (failure != null) {
                return;
            }
            queued -= size;
            if (isChunk && data.capacity() == CHUNK_SIZE) {
                data.clear();
                if (chunk == null) {
                    chunk = data;
                } else if (spare == null) {
                    spare = data;
                }
            }
            if (!writable && queued <= lowWater) {
                writable = true;
                waiters = writableWaiters;
                writableWaiters = null;
            }
            if (queued == 0 && drainWaiters != null) {
                drained = drainWaiters;
                drainWaiters = null;
            }
        }
        completeAll(waiters, null);
        completeAll(drained, null);
    }

    /** Fails every queued frame and waiter with {@code cause}; later appends are refused with it. */
    void fail(Throwable cause) {
        List<LoopFuture<Void>> failed = new ArrayList<>();
        synchronized (lock) {
            if (failure != null) {
                return;
            }
            failure = cause;
            chunkFutures.drainInto(failed);
            if (sealed != null) {
                for (Segment s : sealed) {
                    if (s.futures != null) {
                        failed.addAll(s.futures);
                    }
                }
                sealed.clear();
            }
            if (writableWaiters != null) {
                failed.addAll(writableWaiters);
                writableWaiters = null;
            }
            if (drainWaiters != null) {
                failed.addAll(drainWaiters);
                drainWaiters = null;
            }
            chunk = null;
            spare = null;
            queued = 0;
        }
        completeAll(failed, cause);
    }

    boolean isWritable() {
        synchronized (lock) {
            return writable && failure == null;
        }
    }

    long queuedBytes() {
        synchronized (lock) {
            return queued;
        }
    }

    /** Completes when the queue is at or below the low water mark. */
    LoopFuture<Void> whenWritable() {
        LoopFuture<Void> f = new LoopFuture<>();
        synchronized (lock) {
            if (failure != null) {
                return LoopFuture.failed(failure);
            }
            if (!writable) {
                if (writableWaiters == null) {
                    writableWaiters = new ArrayList<>();
                }
                writableWaiters.add(f);
                return f;
            }
        }
        f.complete(null);
        return f;
    }

    /** Completes when every accepted frame has been taken by the kernel. */
    LoopFuture<Void> whenDrained() {
        LoopFuture<Void> f = new LoopFuture<>();
        synchronized (lock) {
            if (failure != null) {
                return LoopFuture.failed(failure);
            }
            if (queued > 0) {
                if (drainWaiters == null) {
                    drainWaiters = new ArrayList<>();
                }
                drainWaiters.add(f);
                return f;
            }
        }
        f.complete(null);
        return f;
    }

    private static Throwable causeOf(LoopFuture<Void> done) {
        if (!done.isCompletedExceptionally()) {
            return null;
        }
        try {
            done.join();
            return null;
        } catch (CompletionException | CancellationException e) {
            return unwrap(e);
        }
    }

    private static Throwable unwrap(Throwable e) {
        return e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
    }

    private static void completeAll(List<LoopFuture<Void>> futures, Throwable error) {
        if (futures == null) {
            return;
        }
        for (LoopFuture<Void> f : futures) {
            if (error == null) {
                f.complete(null);
            } else {
                f.completeExceptionally(error);
            }
        }
    }

    /** A sealed piece of the queue: a full chunk, or one large body. */
    private record Segment(ByteBuffer data, List<LoopFuture<Void>> futures, boolean chunk) {
    }

    /** A reusable list of send futures: the per-batch bookkeeping allocates nothing once grown. */
    static final class FutureList {
        @SuppressWarnings({"unchecked", "rawtypes"})
        private LoopFuture<Void>[] items = new LoopFuture[8];
        private int count;

        boolean isEmpty() {
            return count == 0;
        }

        void add(LoopFuture<Void> f) {
            if (count == items.length) {
                items = java.util.Arrays.copyOf(items, count * 2);
            }
            items[count++] = f;
        }

        /** Moves the futures into a new list (for a write that completes later) and empties this one. */
        List<LoopFuture<Void>> drain() {
            List<LoopFuture<Void>> out = new ArrayList<>(count);
            drainInto(out);
            return out;
        }

        void drainInto(List<LoopFuture<Void>> out) {
            for (int i = 0; i < count; i++) {
                out.add(items[i]);
                items[i] = null;
            }
            count = 0;
        }

        void completeAll(Throwable error) {
            int n = count;
            LoopFuture<Void>[] a = items;
            for (int i = 0; i < n; i++) {
                LoopFuture<Void> f = a[i];
                a[i] = null;
                if (error == null) {
                    f.complete(null);
                } else {
                    f.completeExceptionally(error);
                }
            }
            count = 0;
        }
    }
}
