package io.dualpipe.process.internal;

import io.dualpipe.core.ByteSink;
import io.dualpipe.core.ChannelClosedException;
import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.LoopClosedException;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.internal.ConversationRequests;
import io.dualpipe.core.line.Conversation;
import io.dualpipe.core.line.LineReader;
import io.dualpipe.core.line.ReplyReader;

import java.nio.charset.Charset;
import java.time.Duration;

/**
 * The line side of a {@link PosixChildProcess}: its {@link LineReader}s and {@link Conversation},
 * made on first use, and the calls that hand out their futures (through the child's
 * {@link Handoff}; a request's failure explained by its {@link DeathNotice}). Thread-safe.
 */
final class ChildLines {
    private final PosixChildProcess child;
    private final int maxLineLength;
    private final Charset charset;
    private final int readBufferLimit;
    private final Handoff handoff;
    private final DeathNotice deaths;
    private LineReader lines;          // guarded by this
    private LineReader errorLines;     // guarded by this
    private Conversation conversation; // guarded by this

    ChildLines(PosixChildProcess child, int maxLineLength, Charset charset, int readBufferLimit, Handoff handoff,
               DeathNotice deaths) {
        this.child = child;
        this.maxLineLength = maxLineLength;
        this.charset = charset;
        this.readBufferLimit = readBufferLimit;
        this.handoff = handoff;
        this.deaths = deaths;
    }

    synchronized LineReader lines() {
        if (lines == null) {
            lines = LineReader.of(child.stdout(), maxLineLength, charset, Math.max(readBufferLimit, maxLineLength));
        }
        return lines;
    }

    synchronized LineReader errorLines() {
        if (errorLines == null) {
            errorLines = LineReader.of(child.stderr(), maxLineLength, charset, Math.max(readBufferLimit, maxLineLength));
        }
        return errorLines;
    }

    synchronized Conversation conversation() {
        if (conversation == null) {
            conversation = Conversation.over(child.stdin(), lines(), charset);
        }
        return conversation;
    }

    LoopFuture<Void> writeLine(String line) {
        InvalidArgumentException.requireNonNull("line", line);
        ByteSink in = child.stdin(); // not a pipe: a wrong call, thrown here
        return handoff.of(() -> in.write((line + "\n").getBytes(charset)));
    }

    LoopFuture<String> readLine() {
        return handoff.of(() -> lines().readLine());
    }

    /**
     * {@code line}'s reply ({@code reader} null: one line). Without an executor to hand over to, the
     * request's own future is the caller's (it is fresh per call), with no copy and no supplier: one
     * child in a fan-out makes millions of these.
     */
    <T> LoopFuture<T> request(String line, ReplyReader<T> reader, Duration timeout) {
        if (handoff.hops()) {
            return handoff.of(() -> send(line, reader, timeout));
        }
        try {
            return send(line, reader, timeout);
        } catch (ChannelClosedException | LoopClosedException gone) {
            return LoopFuture.failed(gone); // as Handoff.of: a condition of the running system, not a wrong call
        }
    }

    private <T> LoopFuture<T> send(String line, ReplyReader<T> reader, Duration timeout) {
        return ConversationRequests.request(conversation(), line, reader, timeout, deaths);
    }
}
