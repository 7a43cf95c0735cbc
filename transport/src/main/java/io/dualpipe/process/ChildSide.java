package io.dualpipe.process;

import io.dualpipe.core.BrokenPipeException;
import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.codec.CodecException;
import io.dualpipe.core.codec.CodecRegistry;
import io.dualpipe.core.codec.Codecs;
import io.dualpipe.core.codec.FrameListener;
import io.dualpipe.core.codec.Frames;
import io.dualpipe.core.line.LineTooLongException;

import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * The child's end of the pipes, for code running <em>inside</em> a child (typically one started with
 * {@link JavaChild}): lines and {@code docs/wire-format.md} frames on stdin and stdout, with blocking
 * plain {@code java.io}. It starts no event loop and loads no native code.
 *
 * <pre>{@code
 * public static void main(String[] args) {
 *     ChildSide.run(io -> {
 *         for (String line : io.lines()) {
 *             io.writeLine(line.toUpperCase());
 *         }
 *     });
 * }
 * }</pre>
 *
 * <p><b>Flushing.</b> Every {@code writeLine} and {@code writeFrame} is flushed before it returns, so
 * the parent sees each message at once: a child never stalls its parent with output sitting in a
 * buffer (see {@code docs/buffering.md}).
 *
 * <p><b>One reader.</b> This object buffers stdin; bytes it has buffered are invisible to anyone
 * reading {@code System.in} directly, so read all of stdin through it. Lines and frames may be
 * mixed: a line read never consumes bytes past its newline, nor a frame read past its body.
 *
 * <p><b>Stdout belongs to the protocol.</b> {@link #stdio()} takes the process's real stdout (file
 * descriptor 1) for itself and points {@code System.out} at {@code System.err}, so a stray
 * {@code System.out.println} in user code, or a console logger writing to {@code System.out}, lands
 * on stderr instead of inside a line or frame stream. Only what goes through this object reaches
 * the parent on stdout. (Code that kept a reference to the old {@code System.out} from before, or
 * native code writing to fd 1, still writes to stdout.) {@link JavaChild} sends the child JVM's own
 * warnings to stderr the same way.
 *
 * <p><b>Threading.</b> Reads are serialised with each other and writes with each other, so one
 * thread may read while others write replies; a message is never interleaved with another.
 *
 * <p><b>Buffers.</b> A message is encoded before {@code writeFrame}/{@code reply} returns, so it is
 * the caller's again at once; decoded messages, {@code byte[]} bodies included, belong to the caller.
 *
 * <p><b>Errors.</b> A write the parent can no longer receive fails with {@link BrokenPipeException};
 * a failed read with {@link io.dualpipe.core.ChannelClosedException}. Frame errors are those of
 * {@code docs/wire-format.md}: see {@link #readFrame()}.
 */
public final class ChildSide {
    /** The exit code {@link #run} uses for an uncaught exception: 70, {@code EX_SOFTWARE} of sysexits.h. */
    public static final int UNCAUGHT_EXIT_CODE = 70;

    private static ChildSide stdio; // guarded by ChildSide.class

    private final StreamInput input; // guarded by readLock
    private final StreamOutput output; // locks for itself
    private final Object readLock = new Object();
    private volatile CodecRegistry codecs; // null until first needed: the JSON codec costs Jackson's startup

    private ChildSide(InputStream in, OutputStream out, String outName) {
        this.input = new StreamInput(in);
        this.output = new StreamOutput(out, outName);
    }

    /**
     * This process's stdin ({@code System.in}) and its real stdout. Always the same instance, since
     * two buffers on one stdin would steal each other's bytes.
     *
     * <p>The first call takes stdout over: it flushes {@code System.out} (what was printed before goes
     * out first, in order), keeps file descriptor 1 for this object's writes, and sets
     * {@code System.out} to {@code System.err}, so that nothing printed afterwards can corrupt the
     * lines or frames this object writes.
     *
     * @return the process's one instance
     */
    public static synchronized ChildSide stdio() {
        if (stdio == null) {
            stdio = new ChildSide(System.in, takeStdout(), "stdout");
        }
        return stdio;
    }

    private static OutputStream takeStdout() {
        System.out.flush();
        // Own buffer, flushed per message: a small message leaves in one write(2), header and body.
        OutputStream real = new BufferedOutputStream(new FileOutputStream(FileDescriptor.out), 8192);
        System.setOut(System.err);
        return real;
    }

    /**
     * Lines and frames over any pair of streams: a socket's, or in-memory ones in tests.
     *
     * @param in  the stream read; this object buffers it, so read it through this object only
     * @param out the stream written, flushed after each message
     * @return a new instance
     */
    public static ChildSide over(InputStream in, OutputStream out) {
        return new ChildSide(InvalidArgumentException.requireNonNull("in", in),
                InvalidArgumentException.requireNonNull("out", out), "output");
    }

    /**
     * Sets the codecs frames are encoded and decoded with. Default: {@link Codecs#builtins()}.
     *
     * @param registry the codecs
     * @return this object
     */
    public ChildSide codecs(CodecRegistry registry) {
        this.codecs = InvalidArgumentException.requireNonNull("codecs", registry);
        return this;
    }

    private CodecRegistry codecs() {
        CodecRegistry c = codecs;
        if (c == null) {
            // Benign race: two threads may each build one; both are equal.
            codecs = c = CodecRegistry.builder().registerAll(Codecs.builtins()).build();
        }
        return c;
    }

    // ---- running a child's main ----

    /** A child program's body; may throw anything. */
    @FunctionalInterface
    public interface Main {
        /**
         * The program.
         *
         * @param io the child's end of the pipes, {@link #stdio()}
         * @throws Exception anything: {@link ChildSide#run} reports it and exits with
         *         {@link #UNCAUGHT_EXIT_CODE}
         */
        void run(ChildSide io) throws Exception;
    }

    /**
     * Runs {@code main} with {@link #stdio()}. If it throws, the parent learns it twice over: stderr
     * gets one line naming the exception's class and message, then the stack trace, and the process
     * exits with {@link #UNCAUGHT_EXIT_CODE}. Either way stdout is flushed first, so output written
     * before the failure is not lost. Returns normally when {@code main} does.
     *
     * @param main the program's body
     */
    public static void run(Main main) {
        InvalidArgumentException.requireNonNull("main", main);
        ChildSide io = stdio();
        try {
            main.run(io);
        } catch (Throwable t) {
            io.output.flushQuietly();
            PrintStream err = System.err;
            err.println("uncaught exception in child pid " + ProcessHandle.current().pid() + ": "
                    + t.getClass().getName() + ": " + t.getMessage());
            t.printStackTrace(err);
            err.flush();
            System.exit(UNCAUGHT_EXIT_CODE);
        }
        io.output.flushQuietly();
    }

    // ---- lines ----

    /**
     * The next line of input without its terminator (LF or CRLF), decoded as UTF-8; {@code null} at
     * end of input. A last line without a newline is returned as it is.
     *
     * @return the line, or null at end of input
     * @throws LineTooLongException for a line over 64 KiB, once; the next call returns the line after it
     */
    public String readLine() {
        synchronized (readLock) {
            return input.readLine();
        }
    }

    /** {@return the remaining lines, read lazily by {@link #readLine()}; iterate once} */
    public Iterable<String> lines() {
        return () -> new Iterator<>() {
            private String next;
            private boolean ended;

            @Override
            public boolean hasNext() {
                if (next == null && !ended) {
                    next = readLine();
                    ended = next == null;
                }
                return next != null;
            }

            @Override
            public String next() {
                if (!hasNext()) {
                    throw new NoSuchElementException("end of input");
                }
                String line = next;
                next = null;
                return line;
            }
        };
    }

    /**
     * Writes {@code line} and a newline (UTF-8) and flushes.
     *
     * @param line the line, without newline
     * @throws BrokenPipeException when the parent can no longer receive it
     */
    public void writeLine(String line) {
        output.writeLine(InvalidArgumentException.requireNonNull("line", line));
    }

    // ---- frames ----

    /**
     * One frame of {@code docs/wire-format.md}, its body decoded by the codec of its type.
     *
     * @param type      the message type byte
     * @param flags     {@link Frames#FLAG_REQUEST}, {@link Frames#FLAG_REPLY}, {@link Frames#FLAG_ERROR}
     * @param requestId unsigned 32-bit id in an int; 0 unless request or reply
     * @param message   the decoded body: {@code byte[]}, {@code String}, a JSON value, or the
     *                  application's type; the error text for an error reply
     */
    public record Frame(int type, int flags, int requestId, Object message) {
        /**
         * {@return true when the sender waits for a reply with this frame's {@link #requestId()}}
         * See {@link ChildSide#reply}.
         */
        public boolean isRequest() {
            return (flags & Frames.FLAG_REQUEST) != 0;
        }
    }

    /**
     * The next frame; {@code null} when input ends at a frame boundary.
     *
     * @return the frame, or null at end of input
     * @throws io.dualpipe.core.codec.ProtocolException for a corrupt header or input that ends
     *     inside a frame; there is no next frame boundary after that, so stop reading
     * @throws io.dualpipe.core.codec.UnknownTypeException for a type with no codec, and
     *     {@link io.dualpipe.core.codec.DecodeException} for a body its codec rejects: the frame
     *     is skipped (a request is answered with an error reply, as the wire format says) and the
     *     next call reads the frame after it
     */
    public Frame readFrame() {
        synchronized (readLock) {
            FrameCatcher c = new FrameCatcher();
            if (!input.readFrame(c)) {
                return null;
            }
            if (c.failure != null) {
                if ((c.flags & Frames.FLAG_REQUEST) != 0) {
                    replyError(c.requestId, c.failure.getMessage());
                }
                throw c.failure;
            }
            return c.frame;
        }
    }

    /**
     * Writes a one-way frame (flags 0) with the codec chosen by {@code message}'s class, and flushes.
     *
     * @param message the message, not null
     * @throws BrokenPipeException when the parent can no longer receive it
     */
    public void writeFrame(Object message) {
        InvalidArgumentException.requireNonNull("message", message);
        writeFrame(codecs().codecFor(message.getClass()).type(), message);
    }

    /**
     * Writes a one-way frame (flags 0) with the codec of {@code type}, and flushes.
     *
     * @param type    the type byte
     * @param message the message, of that codec's class
     * @throws BrokenPipeException when the parent can no longer receive it
     */
    public void writeFrame(int type, Object message) {
        send(type, 0, 0, message);
    }

    /**
     * Answers {@code request} with {@code result}, encoded by the codec chosen by its class.
     *
     * @param request the request being answered
     * @param result  the reply, not null
     * @throws InvalidArgumentException if {@code request} is not a request
     * @throws BrokenPipeException when the parent can no longer receive it
     */
    public void reply(Frame request, Object result) {
        requireRequest(request);
        InvalidArgumentException.requireNonNull("result", result);
        send(codecs().codecFor(result.getClass()).type(), Frames.FLAG_REPLY, request.requestId(), result);
    }

    /**
     * Answers {@code request} with an error reply carrying {@code error} as UTF-8 text.
     *
     * @param request the request being answered
     * @param error   the error text, not null
     * @throws InvalidArgumentException if {@code request} is not a request
     * @throws BrokenPipeException when the parent can no longer receive it
     */
    public void replyError(Frame request, String error) {
        requireRequest(request);
        replyError(request.requestId(), InvalidArgumentException.requireNonNull("error", error));
    }

    private void replyError(int requestId, String error) {
        output.writeFrame(Codecs.UTF8, Frames.FLAG_REPLY | Frames.FLAG_ERROR, requestId,
                ByteBuffer.wrap(error.getBytes(StandardCharsets.UTF_8)));
    }

    private static void requireRequest(Frame request) {
        InvalidArgumentException.requireNonNull("request", request);
        if (!request.isRequest()) {
            throw new InvalidArgumentException("frame is not a request (flags 0x"
                    + Integer.toHexString(request.flags()) + "): there is nobody waiting for a reply");
        }
    }

    private void send(int type, int flags, int requestId, Object message) {
        output.writeFrame(type, flags, requestId, codecs().encode(type, message));
    }

    /** Decodes the body while it is borrowed; keeps a codec failure for after the frame is consumed. */
    private final class FrameCatcher implements FrameListener {
        Frame frame;
        CodecException failure;
        int flags;
        int requestId;

        @Override
        public void onFrame(int type, int flags, int requestId, ByteBuffer body) {
            this.flags = flags;
            this.requestId = requestId;
            if ((flags & Frames.FLAG_ERROR) != 0) {
                // An error reply's body is UTF-8 text whatever its type byte says.
                frame = new Frame(type, flags, requestId, StandardCharsets.UTF_8.decode(body).toString());
                return;
            }
            try {
                frame = new Frame(type, flags, requestId, codecs().decode(type, body));
            } catch (CodecException e) {
                failure = e;
            }
        }
    }
}
