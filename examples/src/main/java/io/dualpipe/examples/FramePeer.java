package io.dualpipe.examples;

import io.dualpipe.core.ByteSource;
import io.dualpipe.core.ChannelClosedException;
import io.dualpipe.core.DualPipeException;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.codec.CodecRegistry;
import io.dualpipe.core.codec.FrameDecoder;
import io.dualpipe.core.codec.Frames;
import io.dualpipe.process.ChildProcess;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The parent's end of a child that answers {@code docs/wire-format.md} request frames on its stdout
 * (a {@link io.dualpipe.process.ChildSide} child): {@link #request} writes a frame to its stdin and
 * returns a future the reply with the same id completes. Many requests may be in flight; replies may
 * come in any order.
 *
 * <p>Thread-safe. Futures complete on the child's loop thread. The message passed to {@code request}
 * is encoded before it returns, so it is the caller's again at once.
 */
final class FramePeer {
    private final ChildProcess child;
    private final CodecRegistry codecs;
    private final FrameDecoder decoder = new FrameDecoder(); // loop thread only
    private final Map<Integer, LoopFuture<Object>> pending = new ConcurrentHashMap<>();
    private final AtomicInteger lastId = new AtomicInteger();

    FramePeer(ChildProcess child, CodecRegistry codecs) {
        this.child = child;
        this.codecs = codecs;
        child.stdout().listen(new ByteSource.Listener() {
            @Override
            public void onData(ByteBuffer data) {
                try {
                    decoder.decode(data, (type, flags, id, body) -> onFrame(type, flags, id, body));
                } catch (RuntimeException e) { // a corrupt stream: no later frame can be trusted
                    failAll(e);
                    child.close();
                }
            }

            @Override
            public void onEnd() {
                failAll(new ChannelClosedException("pid " + child.pid() + " closed its stdout with "
                        + pending.size() + " requests unanswered"));
            }

            @Override
            public void onError(Throwable error) {
                failAll(error);
            }
        });
    }

    /** Sends {@code message} as a request of {@code type}; completes with the decoded reply. */
    LoopFuture<Object> request(int type, Object message) {
        ByteBuffer body = codecs.encode(type, message);
        int id = nextId();
        LoopFuture<Object> reply = new LoopFuture<>();
        pending.put(id, reply);
        ByteBuffer frame = ByteBuffer.allocate(Frames.HEADER_SIZE + body.remaining());
        Frames.writeHeader(frame, type, Frames.FLAG_REQUEST, id, body.remaining());
        frame.put(body).flip();
        child.stdin().write(frame).whenComplete((v, e) -> {
            if (e != null && pending.remove(id) != null) {
                reply.completeExceptionally(e);
            }
        });
        return reply;
    }

    private int nextId() {
        int id;
        do {
            id = lastId.incrementAndGet();
        } while (id == 0); // 0 means "no request" on the wire
        return id;
    }

    private void onFrame(int type, int flags, int id, ByteBuffer body) {
        if ((flags & Frames.FLAG_REPLY) == 0) {
            return; // this peer only expects replies
        }
        LoopFuture<Object> reply = pending.remove(id);
        if (reply == null) {
            return; // nobody waits for it (wire-format.md: dropped)
        }
        if ((flags & Frames.FLAG_ERROR) != 0) {
            reply.completeExceptionally(new DualPipeException("pid " + child.pid() + " answered request " + id
                    + " with an error: " + StandardCharsets.UTF_8.decode(body)));
            return;
        }
        try {
            reply.complete(codecs.decode(type, body));
        } catch (RuntimeException e) {
            reply.completeExceptionally(e);
        }
    }

    private void failAll(Throwable cause) {
        for (Integer id : pending.keySet()) {
            LoopFuture<Object> f = pending.remove(id);
            if (f != null) {
                f.completeExceptionally(cause);
            }
        }
    }
}
