package io.dualpipe.core;

import io.dualpipe.core.internal.DeferredCloseChannel;
import io.dualpipe.core.internal.Native;
import io.dualpipe.core.internal.Selectors;

import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectionKey;

/**
 * A non-blocking {@link ByteChannel} over a raw file descriptor (a pipe end, a socket, a FIFO) that
 * any DualPipe selector, and jnr-enxio's, can select on.
 *
 * <p>{@link #read} returns 0 when nothing is available (EAGAIN) and -1 at end of stream;
 * {@link #write} returns 0 when the kernel buffer is full. Any other failure raises a
 * {@link NativeIoException} naming the call, the fd and the errno ({@code EPIPE}, {@code ECONNRESET}).
 * The channel owns its fd. Closing is safe while registered and while another thread is inside a
 * read or write: the fd is closed only after the selector has deregistered it and the last call on it
 * has returned, so its number cannot be reused under them. The {@code long address} variants throw
 * the unchecked {@link ChannelClosedException} once the channel is closed.
 *
 * <p>Thread-safety: one reader and one writer may use the channel at the same time (a pipe end is
 * read by the loop while other threads write to another); two concurrent readers, or two concurrent
 * writers, must be serialised by the caller. Buffers are the caller's: the channel reads from or
 * writes into them only during the call. Direct buffers go straight to the kernel; heap buffers are
 * read through a per-thread direct buffer of {@value #HEAP_CHUNK} bytes, and written through it when
 * shorter than {@value #PIN_MIN} bytes or when the channel was made blocking, from their array in
 * place (pinned for the call) otherwise.
 */
public final class FdChannel extends DeferredCloseChannel implements ByteChannel {
    /** How much of a heap buffer one call moves. */
    public static final int HEAP_CHUNK = 128 * 1024;
    /**
     * From this many bytes on, a heap array is written in place (pinned for the call) instead of
     * copied through the scratch: below, a request line's copy costs less than pinning's extra JNI work.
     */
    public static final int PIN_MIN = 16 * 1024;
    /**
     * At most this many bytes per pinned write(2): a pipe or socket takes no more than its buffer at
     * once, but a regular file (stdout redirected to one) takes everything, and on JDK 17's G1 every
     * thread that needs a collection waits for the whole copy (a 256 MiB write to tmpfs stalled another
     * thread's allocation for 2 s).
     */
    private static final int PIN_MAX = 1024 * 1024;
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /** A thread's direct buffer for heap transfers, with its address looked up once (a JNI call). */
    private static final class Scratch {
        final ByteBuffer buffer = ByteBuffer.allocateDirect(HEAP_CHUNK);
        final long address = Native.address(buffer);
    }

    private final int validOps;

    /**
     * Wraps {@code fd}, taking ownership of it, and makes it non-blocking.
     *
     * @param fd       an open file descriptor; the channel closes it (also when this constructor throws)
     * @param validOps the {@link SelectionKey} operations this fd supports, e.g. {@code OP_READ} for a
     *                 pipe's read end, {@code OP_READ | OP_WRITE} for a socket
     */
    public FdChannel(int fd, int validOps) {
        super(Selectors.provider(), fd);
        if (fd < 0) {
            throw new InvalidArgumentException("fd < 0: " + fd);
        }
        if (validOps == 0 || (validOps & ~(SelectionKey.OP_READ | SelectionKey.OP_WRITE | SelectionKey.OP_ACCEPT)) != 0) {
            Native.closeQuietly(fd); // ownership was handed over with the call: a refused fd must not leak
            throw new InvalidArgumentException("validOps must be a non-empty mix of OP_READ, OP_WRITE, OP_ACCEPT: " + validOps);
        }
        this.validOps = validOps;
        try {
            configureBlocking(false);
        } catch (java.io.IOException | RuntimeException e) {
            Native.closeQuietly(fd);
            throw new DualPipeException("fd " + fd + ": cannot make it non-blocking", e);
        }
    }

    /**
     * Opens an anonymous pipe, both ends close-on-exec and non-blocking.
     *
     * @return {@code [readEnd, writeEnd]}
     */
    public static FdChannel[] pipe() {
        int[] fds = new int[2];
        if (Native.LIBC.pipe2(fds, Native.O_CLOEXEC | Native.O_NONBLOCK) < 0) {
            throw Native.lastError("pipe2");
        }
        return new FdChannel[] {new FdChannel(fds[0], SelectionKey.OP_READ), new FdChannel(fds[1], SelectionKey.OP_WRITE)};
    }

    @Override
    public int validOps() {
        return validOps;
    }

    /** {@inheritDoc} Returns 0 on EAGAIN, -1 at end of stream; a read-only {@code dst} is an {@link InvalidArgumentException}. */
    @Override
    public int read(ByteBuffer dst) throws ClosedChannelException {
        if (!beginIo()) {
            throw new ClosedChannelException();
        }
        try {
            if (dst.isReadOnly()) {
                // A read-only direct buffer still has an address the kernel would write through, and a
                // heap one would throw only after the bytes were taken from the fd: refuse before reading.
                throw new InvalidArgumentException("read into a read-only buffer: " + dst);
            }
            int wanted = dst.remaining();
            if (wanted == 0) {
                return 0;
            }
            if (dst.isDirect()) {
                int n = readAt(Native.address(dst) + dst.position(), wanted);
                if (n > 0) {
                    dst.position(dst.position() + n);
                }
                return n;
            }
            Scratch sc = SCRATCH.get();
            ByteBuffer scratch = sc.buffer;
            int n = readAt(sc.address, Math.min(wanted, HEAP_CHUNK));
            if (n > 0) {
                scratch.clear().limit(n);
                dst.put(scratch);
            }
            return n;
        } finally {
            endIo();
        }
    }

    /**
     * Reads into native memory the caller owns; same results as {@link #read(ByteBuffer)}.
     *
     * @param address where to store the bytes
     * @param length  at most how many bytes to read
     * @return the bytes read, 0 when none are available (EAGAIN), -1 at end of stream
     * @throws ChannelClosedException when the channel is closed
     */
    public int read(long address, int length) {
        if (!beginIo()) {
            throw closed();
        }
        try {
            return readAt(address, length);
        } finally {
            endIo();
        }
    }

    /** Between beginIo and endIo only: the fd cannot be released meanwhile. */
    private int readAt(long address, int length) {
        if (length == 0) {
            return 0; // read(2) of nothing returns 0, which must not read as end of stream
        }
        while (true) {
            long n = Native.LIBC.read(getFD(), address, length);
            if (n > 0) {
                return (int) n;
            }
            if (n == 0) {
                return -1;
            }
            int errno = Native.errno();
            if (Native.isWouldBlock(errno)) {
                return 0;
            }
            if (errno != Native.EINTR) {
                throw Native.lastError("read(fd " + getFD() + ")");
            }
        }
    }

    /** {@inheritDoc} Returns 0 when the kernel buffer is full (EAGAIN). */
    @Override
    public int write(ByteBuffer src) throws ClosedChannelException {
        if (!beginIo()) {
            throw new ClosedChannelException();
        }
        try {
            int length = src.remaining();
            if (length == 0) {
                return 0;
            }
            if (src.isDirect()) {
                int n = writeAt(Native.address(src) + src.position(), length);
                src.position(src.position() + n);
                return n;
            }
            if (length >= PIN_MIN && src.hasArray() && !isBlocking()) {
                int n = writePinned(src);
                src.position(src.position() + n);
                return n;
            }
            Scratch sc = SCRATCH.get();
            ByteBuffer scratch = sc.buffer;
            int chunk = Math.min(length, HEAP_CHUNK);
            scratch.clear();
            scratch.put(0, src, src.position(), chunk);
            int n = writeAt(sc.address, chunk);
            src.position(src.position() + n);
            return n;
        } finally {
            endIo();
        }
    }

    /**
     * Writes {@code length} bytes of {@code src} from {@code offset}, as {@link #write(ByteBuffer)} does
     * with {@code ByteBuffer.wrap(src, offset, length)}, without making that wrapper: a writer of many
     * small messages (a request line per call) allocates nothing here. At most {@link #HEAP_CHUNK} bytes
     * per call below {@link #PIN_MIN}, at most 1 MiB from there on; returns how many were written, 0 when the kernel buffer is full (EAGAIN).
     *
     * @param src the bytes; read during the call only, never kept
     * @param offset where in {@code src} the bytes start
     * @param length how many bytes to write at most
     * @return the bytes written, 0 when the kernel buffer is full
     * @throws InvalidArgumentException when {@code offset} and {@code length} do not lie within {@code src}
     * @throws ChannelClosedException when the channel is closed
     */
    public int write(byte[] src, int offset, int length) {
        InvalidArgumentException.requireNonNull("src", src);
        if (offset < 0 || length < 0 || length > src.length - offset) {
            throw new InvalidArgumentException("offset " + offset + " and length " + length
                    + " do not lie within an array of " + src.length + " bytes");
        }
        if (!beginIo()) {
            throw closed();
        }
        try {
            if (length == 0) {
                return 0;
            }
            if (length >= PIN_MIN && !isBlocking()) {
                return writePinned(ByteBuffer.wrap(src, offset, length));
            }
            Scratch sc = SCRATCH.get();
            int chunk = Math.min(length, HEAP_CHUNK);
            sc.buffer.clear().put(0, src, offset, chunk); // a read may have left the scratch's limit short
            return writeAt(sc.address, chunk);
        } finally {
            endIo();
        }
    }

    /**
     * Writes from native memory the caller owns; same results as {@link #write(ByteBuffer)}.
     *
     * @param address where the bytes start
     * @param length  how many bytes to write
     * @return the bytes written, 0 when the kernel buffer is full (EAGAIN)
     * @throws ChannelClosedException when the channel is closed
     */
    public int write(long address, int length) {
        if (!beginIo()) {
            throw closed();
        }
        try {
            return writeAt(address, length);
        } finally {
            endIo();
        }
    }

    /**
     * write(2) straight from a heap buffer's array, pinned for the call rather than copied into the
     * thread's scratch: a bulk writer's copy per call is gone, and so is the copy a write that finds
     * the pipe full (EAGAIN) used to waste. The fd is non-blocking, so the collector waits no longer
     * than one write(2) of what the kernel takes at once. A channel the user made blocking
     * ({@code configureBlocking(true)}) never comes here: its write(2) would wait for the reader with the
     * array pinned, and on JDK 17's G1 that holds the GC locker, so a reader in this JVM that needs a
     * collection to allocate would never read (a deadlock). Between beginIo and endIo only.
     */
    private int writePinned(ByteBuffer src) {
        int n;
        do {
            n = written(Native.LIBC.writePinned(getFD(), src, PIN_MAX));
        } while (n < 0);
        return n;
    }

    private int writeAt(long address, int length) {
        int n;
        do {
            n = written(Native.LIBC.write(getFD(), address, length));
        } while (n < 0);
        return n;
    }

    /** write(2)'s result as the callers return it: the count, 0 when the kernel is full (EAGAIN), -1 to retry (EINTR). */
    private int written(long n) {
        if (n >= 0) {
            return (int) n;
        }
        int errno = Native.errno();
        if (Native.isWouldBlock(errno)) {
            return 0;
        }
        if (errno != Native.EINTR) {
            throw Native.lastError("write(fd " + getFD() + ")");
        }
        return -1;
    }

    private ChannelClosedException closed() {
        return new ChannelClosedException(this + ": closed");
    }

    @Override
    public String toString() {
        return "FdChannel[fd=" + getFD() + (isOpen() ? "" : ", closed") + "]";
    }
}
