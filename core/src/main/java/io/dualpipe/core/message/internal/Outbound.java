package io.dualpipe.core.message.internal;

import io.dualpipe.core.ByteSink;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopClosedException;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.internal.FdStream;
import io.dualpipe.core.internal.Futures;
import io.dualpipe.core.internal.Native;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import static io.dualpipe.core.codec.Frames.HEADER_SIZE;

/**
 * The frames a channel has accepted and the kernel has not taken yet, coalesced so that a burst of
 * frames costs one {@code write(2)}.
 *
 * <p>Small frames (header and body) are copied into a direct "chunk" buffer; a body over
 * {@link #COPY_LIMIT} is not copied but queued as its own segment after its header. {@link #flush()}
 * hands the chunk to the sink in one write. Two chunks alternate, so the steady state allocates
 * nothing: the one being written is recycled as soon as the sink has it (at once, when the kernel
 * takes it all).
 *
 * <p>{@link #queuedBytes()} counts accepted bytes whose sink write has not completed: the frames here
 * plus whatever the sink still queues for the kernel. Writability follows it with the channel's
 * water marks.
 *
 * <p><b>Threading.</b> Loop-confined: every method but {@link #isWritable()} and
 * {@link #queuedBytes()} is called on the loop thread, so nothing here locks. Those two read
 * fields published for other threads. Sink completions that arrive on another thread (a sink closed
 * from elsewhere) are handed back to the loop. Those waiting for writability or a drain are kept in
 * {@link Waiters}.
 */
final class Outbound {
    /** Size of a chunk: room for a burst of ~250 small frames; a fuller burst seals it and starts another. */
    static final int CHUNK_SIZE = 16 * 1024;
    /** Bodies up to this size are copied into the chunk; larger ones are written from their own buffer. */
    static final int COPY_LIMIT = 2 * 1024;
    private static final VarHandle QUEUED;

    static {
        try {
            QUEUED = MethodHandles.lookup().findVarHandle(Outbound.class, "queued", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final ByteSink sink;
    /** The sink when it is an fd's own stream: our chunks then go to write(2) from their known address. */
    private final FdStream fdSink;
    private final EventLoop loop;
    private final int lowWater;
    private final int highWater;
    private final Consumer<Throwable> onWriteFailure;

    private ByteBuffer chunk;                   // being filled; null until needed
    private ByteBuffer spare;                   // a recycled chunk
    private long chunkAddress;                  // chunk's native address when fdSink is set, else 0
    private long spareAddress;                  // spare's, likewise
    private FutureList chunkFutures = new FutureList();
    private FutureList flushFutures = new FutureList(); // the futures of the chunk being written; swapped with chunkFutures
    private ArrayDeque<Segment> sealed;         // full chunks and large bodies, in order, before `chunk`
    @SuppressWarnings("unused") // through QUEUED: written on the loop, read anywhere
    private long queued;
    private boolean flushing;
    private long submitted;                     // bytes handed to the sink in all; less its queue: progress, for a stall watch
    private volatile boolean writable = true;   // written only when it changes
    private volatile Throwable failure;
    private final Waiters waiters = new Waiters();

    Outbound(ByteSink sink, EventLoop loop, int lowWater, int highWater, Consumer<Throwable> onWriteFailure) {
        this.sink = sink;
        this.fdSink = sink instanceof FdStream ? (FdStream) sink : null;
        this.loop = loop;
        this.lowWater = lowWater;
        this.highWater = highWater;
        this.onWriteFailure = onWriteFailure;
    }

    /**
     * Queues one frame; {@code body} is ours from now on, or, when it is at most {@link #COPY_LIMIT}
     * bytes, copied before this returns (so it may be a caller's raw body, borrowed for the call).
     *
     * @return null, or the failure that stopped this queue (the caller fails the frame's future)
     */
    Throwable append(int type, int flags, int requestId, ByteBuffer body, LoopFuture<Void> future) {
        Throwable f = failure;
        if (f != null) {
            return f;
        }
        int length = body.remaining();
        if (length <= COPY_LIMIT) {
            ByteBuffer b = room(HEADER_SIZE + length);
            putHeader(b, type, flags, requestId, length);
            // Absolute: a caller's raw body (see SendSide.body) keeps its position.
            b.put(b.position(), body, body.position(), length);
            b.position(b.position() + length);
            queuedSmall(length, future);
            return null;
        }
        putHeader(room(HEADER_SIZE), type, flags, requestId, length);
        seal();
        sealed().add(new Segment(body, future == null ? null : List.of(future), false, 0));
        account(HEADER_SIZE + length);
        return null;
    }

    /**
     * Queues a frame whose body is a caller's array of at most {@link #COPY_LIMIT} bytes, copied
     * before this returns (so the caller keeps its array, and no wrapper is allocated).
     */
    Throwable appendArray(int type, int flags, int requestId, byte[] body, LoopFuture<Void> future) {
        Throwable f = failure;
        if (f != null) {
            return f;
        }
        ByteBuffer b = room(HEADER_SIZE + body.length);
        putHeader(b, type, flags, requestId, body.length);
        b.put(body);
        queuedSmall(body.length, future);
        return null;
    }

    private void queuedSmall(int length, LoopFuture<Void> future) {
        if (future != null) {
            chunkFutures.add(future);
        }
        account(HEADER_SIZE + length);
    }

    private void account(int bytes) {
        long q = (long) QUEUED.get(this) + bytes;
        QUEUED.setRelease(this, q);
        if (q > highWater && writable) {
            writable = false;
        }
    }

    /** True when full chunks or large bodies wait: flush now rather than at the end of the pass. */
    boolean hasSealed() {
        return sealed != null && !sealed.isEmpty();
    }

    // Our chunks are direct and big-endian (the default, never changed): one long and one short
    // write the 10 bytes in network order, two bounds-checked stores per frame instead of four.
    private static void putHeader(ByteBuffer b, int type, int flags, int requestId, int length) {
        int at = b.position();
        b.putLong(at, (long) (type & 0xff) << 56 | (long) (flags & 0xff) << 48
                | (requestId & 0xffffffffL) << 16 | (length >>> 16));
        b.putShort(at + 8, (short) length);
        b.position(at + HEADER_SIZE);
    }

    private ByteBuffer room(int bytes) {
        if (chunk != null && chunk.remaining() >= bytes) {
            return chunk;
        }
        seal();
        if (spare != null) {
            chunk = spare;
            chunkAddress = spareAddress;
            spare = null;
            spareAddress = 0;
        } else {
            chunk = ByteBuffer.allocateDirect(CHUNK_SIZE);
            // Looked up once per chunk: the JVM's lookup is a JNI call, too dear for every write.
            chunkAddress = fdSink != null ? Native.address(chunk) : 0;
        }
        return chunk;
    }

    private void seal() {
        if (chunk == null || chunk.position() == 0) {
            return;
        }
        chunk.flip();
        sealed().add(new Segment(chunk, chunkFutures.isEmpty() ? null : chunkFutures.drain(), true, chunkAddress));
        chunk = null;
        chunkAddress = 0;
    }

    private ArrayDeque<Segment> sealed() {
        if (sealed == null) {
            sealed = new ArrayDeque<>();
        }
        return sealed;
    }

    /**
     * Writes everything queued to the sink, in order. A flush started while one is running (a send
     * future's callback sending more) leaves its frames to the running one, which goes on until
     * nothing is left.
     */
    void flush() {
        if (flushing) {
            return;
        }
        flushing = true;
        try {
            while (failure == null) {
                ByteBuffer data;
                boolean isChunk;
                long address;
                List<LoopFuture<Void>> futures = null;
                FutureList batch = null;
                Segment s = sealed == null ? null : sealed.pollFirst();
                if (s != null) {
                    data = s.data;
                    isChunk = s.chunk;
                    futures = s.futures;
                    address = s.address;
                } else if (chunk != null && chunk.position() > 0) {
                    data = chunk.flip();
                    isChunk = true;
                    address = chunkAddress;
                    chunk = spare;
                    chunkAddress = spareAddress;
                    spare = null;
                    spareAddress = 0;
                    if (!chunkFutures.isEmpty()) {
                        // Frames sent by the completion callbacks below go to the other list.
                        batch = chunkFutures;
                        chunkFutures = flushFutures;
                        flushFutures = batch;
                    }
                } else {
                    return;
                }
                int size = data.remaining();
                submitted += size;
                LoopFuture<Void> w;
                try {
                    // Our buffer itself, not a copy of its bounds: we touch it only once the write is done.
                    w = address != 0 ? fdSink.writeOrQueue(data, address) : sink.writeOrQueue(data);
                } catch (RuntimeException e) {
                    w = LoopFuture.failed(e);
                }
                if (w == null || w.isDone()) {
                    // The common case: the kernel took it all; nothing to wait for, nothing allocated.
                    Throwable error = w == null ? null : Waiters.causeOf(w);
                    if (batch != null) {
                        batch.completeAll(error);
                    }
                    written(data, address, size, isChunk, futures, error);
                } else {
                    List<LoopFuture<Void>> pending = batch != null ? batch.drain() : futures;
                    ByteBuffer d = data;
                    long a = address;
                    boolean c = isChunk;
                    w.whenComplete((v, e) -> onLoop(() -> written(d, a, size, c, pending, e == null ? null : Futures.unwrap(e))));
                }
            }
        } finally {
            flushing = false;
        }
    }

    private void onLoop(Runnable r) {
        try {
            loop.runOnLoop(r);
        } catch (LoopClosedException ignored) {
            // the loop's shutdown fails the channel and everything queued
        }
    }

    private void written(ByteBuffer data, long address, int size, boolean isChunk, List<LoopFuture<Void>> futures, Throwable error) {
        Waiters.completeAll(futures, error);
        if (error != null) {
            onWriteFailure.accept(error);
            return;
        }
        if (failure != null) {
            return;
        }
        long q = (long) QUEUED.get(this) - size;
        QUEUED.setRelease(this, q);
        if (isChunk && data.capacity() == CHUNK_SIZE) {
            data.clear();
            if (chunk == null) {
                chunk = data;
                chunkAddress = address;
            } else if (spare == null) {
                spare = data;
                spareAddress = address;
            }
        }
        if (!writable && q <= lowWater) {
            writable = true;
            waiters.wakeWritable();
        }
        if (q == 0) {
            waiters.wakeDrained();
        }
    }

    /** Fails every queued frame and waiter with {@code cause}; later appends are refused with it. */
    void fail(Throwable cause) {
        if (failure != null) {
            return;
        }
        failure = cause;
        List<LoopFuture<Void>> failed = new ArrayList<>();
        chunkFutures.drainInto(failed);
        if (sealed != null) {
            for (Segment s : sealed) {
                if (s.futures != null) {
                    failed.addAll(s.futures);
                }
            }
            sealed.clear();
        }
        waiters.drainInto(failed);
        chunk = null;
        spare = null;
        chunkAddress = 0;
        spareAddress = 0;
        QUEUED.setRelease(this, 0L);
        Waiters.completeAll(failed, cause);
    }

    /** Any thread. */
    boolean isWritable() {
        return writable && failure == null;
    }

    /**
     * Loop: bytes the kernel has taken since the channel opened; grows while the peer reads. Counted
     * byte by byte, not per completed write: a peer reading one large frame slowly makes progress.
     */
    long takenBytes() {
        return submitted - sink.queuedBytes();
    }

    /** Any thread. */
    long queuedBytes() {
        return (long) QUEUED.getAcquire(this);
    }

    /** Completes when the queue is at or below the low water mark. */
    LoopFuture<Void> whenWritable() {
        Throwable f = failure;
        if (f != null) {
            return LoopFuture.failed(f);
        }
        if (writable) {
            return LoopFuture.completed(null);
        }
        return waiters.awaitWritable();
    }

    /** Completes when every accepted frame has been taken by the kernel. */
    LoopFuture<Void> whenDrained() {
        Throwable f = failure;
        if (f != null) {
            return LoopFuture.failed(f);
        }
        if ((long) QUEUED.get(this) == 0) {
            return LoopFuture.completed(null);
        }
        return waiters.awaitDrained();
    }

    /** A sealed piece of the queue: a full chunk (with its address when known, else 0), or one large body. */
    private record Segment(ByteBuffer data, List<LoopFuture<Void>> futures, boolean chunk, long address) {
    }
}
