package io.dualpipe.core.message.internal;

import io.dualpipe.core.DualPipeException;
import io.dualpipe.core.codec.CodecException;
import io.dualpipe.core.codec.CodecRegistry;
import io.dualpipe.core.codec.DecodeException;
import io.dualpipe.core.codec.UnknownTypeException;
import io.dualpipe.core.internal.CallbackFailureLog;
import io.dualpipe.core.message.HandlerException;
import io.dualpipe.core.message.MessageErrorListener;
import io.dualpipe.core.message.NoHandlerException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;

/**
 * Hands the peer's requests and one-way messages to their handlers: looks the handler up, decodes the
 * body, arms the reusable context, and answers a request the handler left unanswered or that could not
 * reach a handler with an error reply. Loop thread only.
 */
final class Dispatcher {
    private static final Logger LOG = LoggerFactory.getLogger(Dispatcher.class);
    private static final CallbackFailureLog FAILURES = new CallbackFailureLog();

    private final DefaultMessageChannel channel;
    private final CodecRegistry codecs;
    private final Context context;
    private final BodyLender lender;

    Dispatcher(DefaultMessageChannel channel, CodecRegistry codecs, BodyLender lender) {
        this.channel = channel;
        this.codecs = codecs;
        this.lender = lender;
        this.context = new Context(channel);
    }

    void dispatch(int type, boolean request, int requestId, ByteBuffer body) {
        HandlerTable.Entry entry = channel.handlers().lookup(type);
        if (entry == null) {
            undeliverable(noHandler(type, requestId), request, requestId);
            return;
        }
        Object message;
        try {
            message = entry.raw() ? lender.lend(body) : codecs.decode(type, body);
        } catch (CodecException e) {
            undeliverable(e, request, requestId);
            return;
        }
        if (entry.requiredClass() != null && !entry.requiredClass().isInstance(message)) {
            undeliverable(new DecodeException(type, String.format(
                    "%s: message type 0x%02x decoded to %s, but its handler takes %s", channel.name(), type,
                    message == null ? "null" : message.getClass().getName(), entry.requiredClass().getName())), request, requestId);
            return;
        }
        Context ctx = context;
        ctx.begin(type, request, requestId);
        try {
            entry.handler().onMessage(ctx, message);
            if (ctx.unanswered()) {
                channel.sends().sendErrorReply(requestId, String.format("handler for type 0x%02x returned without replying", type));
                LOG.debug("{}: handler for type 0x{} returned without answering request {}; sent an error reply",
                        channel.name(), Integer.toHexString(type), Integer.toUnsignedLong(requestId));
            }
        } catch (Throwable t) {
            HandlerException e = new HandlerException(channel.name(), type, request ? Integer.toUnsignedLong(requestId) : 0, t);
            if (ctx.unanswered()) {
                channel.sends().sendErrorReply(requestId, t.toString());
            }
            report(e);
        } finally {
            ctx.end();
        }
    }

    private DualPipeException noHandler(int type, int requestId) {
        try {
            codecs.codec(type);
        } catch (UnknownTypeException e) {
            return e;
        }
        return new NoHandlerException(channel.name(), type, Integer.toUnsignedLong(requestId));
    }

    /** A message that cannot reach a handler: answer a request with the reason, tell the error listener. */
    private void undeliverable(DualPipeException e, boolean request, int requestId) {
        if (request) {
            channel.sends().sendErrorReply(requestId, e.getMessage());
        }
        report(e);
    }

    private void report(DualPipeException e) {
        MessageErrorListener l = channel.errorListener();
        try {
            l.onError(channel, e);
        } catch (Throwable t) {
            FAILURES.threw(LOG, l, t, "{}: error listener {} threw", channel.name(), l);
        }
    }
}
