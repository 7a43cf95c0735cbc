package io.dualpipe.core.codec;

import io.dualpipe.core.InvalidArgumentException;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static io.dualpipe.core.codec.Frames.HEADER_SIZE;
import static io.dualpipe.core.codec.Frames.KNOWN_FLAGS;

/**
 * Cuts a byte stream, pushed to it in chunks of any size, into {@link Frames frames}.
 *
 * <p><b>Buffers.</b> {@link #decode} consumes all of {@code chunk} and hands each frame's body to
 * the listener as a read-only view that is valid only during the callback. When a frame's body lies
 * entirely in the chunk, the view is of the chunk itself: no copy. Otherwise the body is gathered in
 * a heap buffer owned by the decoder, which is allocated only after the header has been checked, and
 * then grows with the bytes that actually arrive rather than with the length the peer announced; a
 * buffer of up to 64 KiB is kept for the next frame, a bigger one is dropped after its frame. A
 * partial header is gathered in a 10-byte array allocated once.
 *
 * <p>The decoder keeps one read-only view of the last chunk buffer object it was given and reuses
 * it while the caller keeps passing that same object, as an event loop reading into one buffer does.
 * So the steady state allocates nothing per frame and nothing per chunk. It never reads through that
 * view outside {@code decode}.
 *
 * <p><b>Errors.</b> A header with a length over {@code maxFrameSize} or unknown flag bits makes
 * {@code decode} throw {@link ProtocolException}; after that every call throws, and the connection
 * should be closed. Whatever the listener throws propagates with the decoder still consistent: the
 * chunk's position is just past the frame being delivered.
 *
 * <p><b>Threading.</b> Not thread-safe. Use one decoder per connection, from one thread at a time.
 */
public final class FrameDecoder {
    private static final int RETAINED_BODY_CAPACITY = 64 * 1024;

    private final int maxFrameSize;
    private final ByteBuffer header = ByteBuffer.allocate(HEADER_SIZE);

    // The current frame, once its header is parsed.
    private boolean inBody;
    private int type;
    private int flags;
    private int requestId;
    private int length;

    // Gathers a body that spans chunks; bodyView is its read-only twin, handed to the listener.
    private ByteBuffer body;
    private ByteBuffer bodyView;

    // The caller's chunk object and our view of it, reused while the caller reuses the chunk.
    private ByteBuffer chunkSource;
    private ByteBuffer chunkView;

    private String failure;

    /** A decoder accepting bodies of up to {@link Frames#DEFAULT_MAX_FRAME_SIZE} bytes. */
    public FrameDecoder() {
        this(Frames.DEFAULT_MAX_FRAME_SIZE);
    }

    /**
     * A decoder accepting bodies of up to {@code maxFrameSize} bytes.
     *
     * @param maxFrameSize the largest body accepted, in bytes
     * @throws InvalidArgumentException if {@code maxFrameSize <= 0}
     */
    public FrameDecoder(int maxFrameSize) {
        this.maxFrameSize = InvalidArgumentException.requirePositive("maxFrameSize", maxFrameSize);
    }

    /** {@return the largest body accepted, in bytes; a longer frame is a {@link ProtocolException}} */
    public int maxFrameSize() {
        return maxFrameSize;
    }

    /**
     * Consumes every remaining byte of {@code chunk} and reports each frame completed by them to
     * {@code out}. Bytes of an incomplete frame are kept for the next call.
     *
     * @param chunk the next bytes of the stream; read entirely, and not kept past this call
     * @param out   told of each complete frame, on this thread, during this call
     * @throws ProtocolException for a corrupt header, or if an earlier call threw one
     */
    public void decode(ByteBuffer chunk, FrameListener out) {
        checkUsable();
        while (chunk.hasRemaining()) {
            if (!inBody) {
                if (header.position() == 0 && chunk.remaining() >= HEADER_SIZE) {
                    int at = chunk.position();
                    parseHeader(chunk, at);
                    chunk.position(at + HEADER_SIZE);
                } else {
                    transfer(chunk, header, HEADER_SIZE - header.position());
                    if (header.hasRemaining()) {
                        return;
                    }
                    parseHeader(header, 0);
                    header.clear();
                }
                if (chunk.remaining() >= length) {
                    deliverFromChunk(chunk, out);
                    continue;
                }
                inBody = true;
            }
            gatherBody(chunk, out);
        }
    }

    /**
     * The stream has ended. Returns quietly at a frame boundary.
     *
     * @throws ProtocolException if a frame was cut short, naming how much of it arrived
     */
    public void endOfInput() {
        checkUsable();
        if (header.position() > 0) {
            fail("truncated frame: " + header.position() + " bytes of " + HEADER_SIZE + "-byte header");
        }
        if (inBody) {
            int received = body == null ? 0 : body.position();
            fail("truncated frame: " + (HEADER_SIZE + received) + " bytes of " + (HEADER_SIZE + (long) length)
                    + " (type " + hex(type) + ", body " + received + " of " + length + ")");
        }
    }

    /** Capacity of the body buffer, 0 when there is none; for tests. */
    int bodyCapacity() {
        return body == null ? 0 : body.capacity();
    }

    private void parseHeader(ByteBuffer src, int at) {
        int t = src.get(at) & 0xff;
        int f = src.get(at + 1) & 0xff;
        int id = Frames.getIntBigEndian(src, at + 2);
        long len = Frames.getIntBigEndian(src, at + 6) & 0xffffffffL;
        if ((f & ~KNOWN_FLAGS) != 0) {
            fail(String.format("frame flags 0x%02x have unknown bits 0x%02x (known: 0x%02x; type %s)",
                    f, f & ~KNOWN_FLAGS, KNOWN_FLAGS, hex(t)));
        }
        if (len > maxFrameSize) {
            fail("frame length " + len + " > maxFrameSize " + maxFrameSize + " (type " + hex(t) + ")");
        }
        type = t;
        flags = f;
        requestId = id;
        length = (int) len;
    }

    private void deliverFromChunk(ByteBuffer chunk, FrameListener out) {
        int start = chunk.position();
        int end = start + length;
        chunk.position(end);
        if (chunk != chunkSource) {
            chunkSource = chunk;
            chunkView = chunk.asReadOnlyBuffer();
        }
        ByteBuffer view = chunkView;
        view.limit(end).position(start);
        view.order(ByteOrder.BIG_ENDIAN);
        out.onFrame(type, flags, requestId, view);
    }

    private void gatherBody(ByteBuffer chunk, FrameListener out) {
        if (body == null) {
            allocateBody(Math.min(length, RETAINED_BODY_CAPACITY));
        }
        int n = Math.min(chunk.remaining(), length - body.position());
        if (body.position() + n > body.capacity()) {
            growBody(body.position() + n);
        }
        transfer(chunk, body, n);
        if (body.position() < length) {
            return;
        }
        inBody = false;
        ByteBuffer view = bodyView;
        view.limit(length).position(0);
        view.order(ByteOrder.BIG_ENDIAN);
        if (body.capacity() > RETAINED_BODY_CAPACITY) {
            body = null;
            bodyView = null;
        } else {
            body.clear();
        }
        out.onFrame(type, flags, requestId, view);
    }

    // Doubling, never past the frame's length: memory follows what arrived, not what was promised.
    private void growBody(int needed) {
        int capacity = (int) Math.min(length, Math.max(needed, 2L * body.capacity()));
        ByteBuffer old = body.flip();
        allocateBody(capacity);
        body.put(old);
    }

    private void allocateBody(int capacity) {
        body = ByteBuffer.allocate(capacity);
        bodyView = body.asReadOnlyBuffer();
    }

    private static void transfer(ByteBuffer src, ByteBuffer dst, int max) {
        int n = Math.min(max, src.remaining());
        dst.put(dst.position(), src, src.position(), n);
        dst.position(dst.position() + n);
        src.position(src.position() + n);
    }

    private void checkUsable() {
        if (failure != null) {
            throw new ProtocolException("decoder unusable after an earlier protocol error: " + failure);
        }
    }

    private void fail(String message) {
        failure = message;
        body = null;
        bodyView = null;
        chunkSource = null;
        chunkView = null;
        throw new ProtocolException(message);
    }

    static String hex(int type) {
        return String.format("0x%02x", type);
    }
}
