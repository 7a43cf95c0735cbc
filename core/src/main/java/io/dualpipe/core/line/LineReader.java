package io.dualpipe.core.line;

import io.dualpipe.core.ByteSource;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.LoopClosedException;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.internal.LazyLogger;
import io.dualpipe.core.internal.LogLimiter;

import java.nio.ByteBuffer;
import java.nio.charset.Charset;
import java.time.Duration;
import java.util.ArrayDeque;

/**
 * Lines from a {@link ByteSource}: {@link #readLine()} futures, or a pushed {@link Listener}.
 *
 * <p>The reader takes the source over (push mode). Lines nobody has asked for yet are queued, up to
 * {@code maxQueuedBytes} of them; past that the source is paused, so a child writing faster than the
 * consumer reads is held back rather than buffered without bound. Every queued item has a real cost:
 * a line counts as its length plus {@link #LINE_OVERHEAD} (so a flood of empty lines fills the queue
 * too), an over-long line's error as {@link #ERROR_COST}. Decoding stops at the line that fills the
 * queue; the rest of that chunk waits, undecoded, until readers have taken half the queue.
 *
 * <p><b>Lines</b> end at LF (a CR before it is stripped too), or at another delimiter byte given to
 * {@link #of(ByteSource, int, Charset, int, byte)}, e.g. NUL.
 *
 * <p><b>End and errors.</b> At end of stream a last line without its terminator is delivered, then
 * {@code readLine()} completes with {@code null} (as {@link java.io.BufferedReader#readLine()} does).
 * An over-long line is reported once, as a {@link LineTooLongException} failing one {@code readLine()}
 * (or passed to the listener), and reading goes on with the line after it.
 *
 * <p><b>Threading.</b> Methods may be called from any thread; futures complete and listeners run on
 * the source's loop thread.
 */
public final class LineReader {
    private static final LazyLogger LOG = new LazyLogger(LineReader.class);
    private static final LogLimiter TOO_LONG_LOGGED = new LogLimiter(20, Duration.ofMinutes(1));
    private static final Object END = LineDelivery.END; // the queue holds the items LineDelivery hands over
    /** What a queued line costs besides its characters: the String, its array, the queue's slot. */
    public static final int LINE_OVERHEAD = 64;
    /** What a queued over-long line's {@link LineTooLongException} costs, its stack trace included. */
    public static final int ERROR_COST = 1024;

    private final ByteSource source;
    private final EventLoop loop;
    private final LineDecoder decoder;
    private final int maxQueuedBytes;
    // loop thread only
    // Small at first, grown as needed: mostly empty, and a fan-out holds a reader per child.
    private final ArrayDeque<Object> queue = new ArrayDeque<>(1); // String | LineTooLongException | END | Throwable
    /** The readLine() futures or the listener that take lines; this class queues what they do not. */
    private final LineDelivery delivery = new LineDelivery();
    private long queuedBytes; // the summed cost of the queue's items
    private boolean paused;
    // Bytes of a chunk left undecoded because the queue filled at one of its lines, and the end (END
    // or an error) that came after them; decoded once readers have taken half the queue.
    private ByteBuffer held;
    private Object heldEnd;
    private boolean decoding; // a chunk is being decoded: no re-entrant decode of the held bytes
    private volatile Throwable failure;
    private final LineListener sink = new LineListener() {
        @Override
        public void onLine(String line) {
            offer(line);
            stopIfFull();
        }

        @Override
        public void lineTooLong(LineTooLongException e) {
            offer(e);
            stopIfFull();
        }
    };

    private LineReader(ByteSource source, int maxLineLength, Charset charset, int maxQueuedBytes, byte delimiter) {
        this.source = InvalidArgumentException.requireNonNull("source", source);
        this.loop = source.loop();
        this.decoder = new LineDecoder(maxLineLength, InvalidArgumentException.requireNonNull("charset", charset), delimiter);
        this.maxQueuedBytes = InvalidArgumentException.requirePositive("maxQueuedBytes", maxQueuedBytes);
        source.listen(new ByteSource.Listener() {
            @Override
            public void onData(ByteBuffer data) {
                decodeChunk(data);
                if (data.hasRemaining()) {
                    // The data belongs to the loop: what the full queue could not take is copied.
                    held = ByteBuffer.allocate(data.remaining()).put(data).flip();
                }
            }

            @Override
            public void onEnd() {
                if (held != null) {
                    heldEnd = END;
                } else {
                    endOfInput();
                }
            }

            @Override
            public void onError(Throwable error) {
                failure = error;
                if (held != null) {
                    heldEnd = error;
                } else {
                    offer(error);
                }
            }
        });
    }

    /**
     * Reads lines of {@code source}, taking it over.
     *
     * @param source the bytes; the reader becomes its listener
     * @param maxLineLength longest line in bytes (without its terminator)
     * @param maxQueuedBytes how much of unread lines may be queued before the source is paused (each line
     *     costs its length plus {@link #LINE_OVERHEAD})
     * @param charset the lines' charset (see {@link LineDecoder#LineDecoder(int, Charset)})
     * @return the reader
     */
    public static LineReader of(ByteSource source, int maxLineLength, Charset charset, int maxQueuedBytes) {
        return new LineReader(source, maxLineLength, charset, maxQueuedBytes, LineDecoder.LF);
    }

    /**
     * Reads records of {@code source} that end at {@code delimiter} (e.g. {@code (byte) 0} for
     * {@code find -print0} output, or {@code ';'}) instead of LF, taking it over. Only that byte ends
     * a record and is stripped; CR and LF are content. See {@link LineDecoder#LineDecoder(int, Charset, byte)}
     * for the delimiters allowed. {@link LineDecoder#LF} gives the usual LF/CRLF lines.
     *
     * @param source the bytes; the reader becomes its listener
     * @param maxLineLength longest record in bytes (without its delimiter)
     * @param maxQueuedBytes how much of unread records may be queued before the source is paused (as above)
     * @param charset the records' charset, which must encode {@code delimiter} as itself
     * @param delimiter an ASCII byte, 0x00 to 0x7F
     * @return the reader
     */
    public static LineReader of(ByteSource source, int maxLineLength, Charset charset, int maxQueuedBytes, byte delimiter) {
        return new LineReader(source, maxLineLength, charset, maxQueuedBytes, delimiter);
    }

    /**
     * Reads UTF-8 lines of at most 64 KiB from {@code source}, taking it over, with up to 64 KiB of
     * lines queued.
     *
     * @param source the bytes; the reader becomes its listener
     * @return the reader
     */
    public static LineReader of(ByteSource source) {
        return of(source, LineDecoder.DEFAULT_MAX_LINE_LENGTH, java.nio.charset.StandardCharsets.UTF_8, 64 * 1024);
    }

    /** The byte that ends a line: {@link LineDecoder#LF} unless another was given. */
    byte delimiter() {
        return decoder.delimiter();
    }

    /** {@return the loop whose thread completes this reader's futures} */
    public EventLoop loop() {
        return loop;
    }

    /**
     * The next line, without its terminator (LF, CRLF, or the delimiter given to {@code of}); {@code null} once the stream has ended. Fails with a
     * {@link LineTooLongException} once per over-long line, and with the stream's error if reading
     * failed.
     *
     * @return the next line, or null at the end of the stream
     */
    public LoopFuture<String> readLine() {
        LoopFuture<String> f = new LoopFuture<>();
        try {
            loop.runOnLoop(() -> {
                if (delivery.await(f)) {
                    drain();
                }
            });
        } catch (LoopClosedException e) {
            f.completeExceptionally(e);
        }
        return f;
    }

    /**
     * Switches to push mode: {@code l} gets every line (queued ones first) on the loop thread. Null
     * switches back. {@code readLine()} calls still pending fail with a
     * {@link io.dualpipe.core.ConsumerConflictException}.
     *
     * @param l the listener, or null for pull mode
     */
    public void listen(Listener l) {
        loop.runOnLoop(() -> {
            delivery.listen(l);
            drain();
        });
    }

    /** Stops the decoder at a line that filled the queue: thrown through it, caught in {@link #decodeChunk}. */
    private static final class QueueFull extends RuntimeException {
        private static final long serialVersionUID = 1L;
        static final QueueFull INSTANCE = new QueueFull();

        private QueueFull() {
            super("line queue full", null, false, false);
        }
    }

    /** Decodes {@code chunk} until its end or until the queue is full; what is left stays in it. */
    private void decodeChunk(ByteBuffer chunk) {
        decoding = true;
        try {
            decoder.decode(chunk, sink);
        } catch (QueueFull full) {
            // the decoder left chunk's position just past the line that filled the queue
        } finally {
            decoding = false;
        }
    }

    private void stopIfFull() {
        if (decoding && queuedBytes > maxQueuedBytes) {
            throw QueueFull.INSTANCE;
        }
    }

    private void endOfInput() {
        decoder.endOfInput(sink);
        offer(END);
    }

    /** What {@code item} costs while queued; the one terminal item costs nothing. */
    private static long cost(Object item) {
        if (item instanceof String) {
            return ((String) item).length() + (long) LINE_OVERHEAD;
        }
        return item instanceof LineTooLongException ? ERROR_COST : 0;
    }

    private void offer(Object item) {
        if (queue.isEmpty() && delivery.deliverNow(item)) {
            return;
        }
        queue.add(item);
        queuedBytes += cost(item);
        if (!paused && queuedBytes > maxQueuedBytes) {
            paused = true;
            source.pause();
        }
    }

    private void drain() {
        deliverQueued();
        while (held != null && !decoding && queuedBytes <= maxQueuedBytes / 2) {
            ByteBuffer h = held;
            decodeChunk(h);
            if (!h.hasRemaining() && held == h) {
                held = null;
                Object end = heldEnd;
                heldEnd = null;
                if (end == END) {
                    endOfInput();
                } else if (end != null) {
                    offer(end);
                }
            }
            deliverQueued();
        }
        if (paused && held == null && queuedBytes <= maxQueuedBytes / 2) {
            paused = false;
            source.resume();
        }
    }

    private void deliverQueued() {
        while (!queue.isEmpty()) {
            Object item = queue.peek();
            if (LineDelivery.terminal(item)) {
                if (!delivery.anyTaker()) {
                    break;
                }
                delivery.deliverNow(item);
                if (delivery.listening()) {
                    queue.poll();
                }
                break; // a terminal item stays queued for later readLine() calls in pull mode
            }
            // Taken off before it is handed out: the taker's stage may call readLine() and drain
            // re-entrantly, which must see the next line, not this one again.
            queue.poll();
            queuedBytes -= cost(item);
            if (!delivery.deliverNow(item)) {
                queue.addFirst(item);
                queuedBytes += cost(item);
                break;
            }
        }
    }

    /**
     * {@return the lines and over-long-line errors queued for readers not yet there} Loop thread only
     * (tests and diagnostics hop there).
     */
    public int queuedLines() {
        int n = queue.size();
        return LineDelivery.terminal(queue.peekLast()) ? n - 1 : n;
    }

    /** {@return true once the end of stream (or a read error) has been delivered} Any thread. */
    public boolean isEnded() {
        return delivery.ended;
    }

    /** {@return the error that ended the stream, or null} Any thread. */
    public Throwable failure() {
        return failure;
    }

    /**
     * Receives pushed lines on the loop thread; must not block. What a method throws is logged
     * (WARN, at most 20 times a minute per listener class; the rest at DEBUG) and reading goes on.
     */
    public interface Listener {
        /**
         * One line, terminator stripped.
         *
         * @param line the line, the listener's to keep
         */
        void onLine(String line);

        /**
         * An over-long line was skipped; the next line follows. By default logged at WARN, at most
         * 20 times a minute per listener (the peer decides how many it sends), the rest at DEBUG.
         *
         * @param e names the limit
         */
        default void onLineTooLong(LineTooLongException e) {
            long notLogged = TOO_LONG_LOGGED.acquire(System.identityHashCode(this));
            if (notLogged >= 0) {
                LOG.get().warn("skipped an over-long line: {}{}", e.getMessage(), LogLimiter.note(notLogged));
            } else {
                LOG.get().debug("skipped an over-long line: {}", e.getMessage());
            }
        }

        /** The stream ended (after its last line); no more calls follow. */
        default void onEnd() {
        }

        /**
         * Reading failed; no more calls follow.
         *
         * @param error the stream's error
         */
        default void onError(Throwable error) {
        }
    }
}
