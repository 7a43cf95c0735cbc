package io.dualpipe.core.internal;

import io.dualpipe.core.ChannelClosedException;
import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.IoHandler;
import io.dualpipe.core.LoopClosedException;
import io.dualpipe.core.LoopFuture;

import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * What is registered with a {@link SingleThreadEventLoop}: channels with its selector (their
 * handlers attached) and close hooks for resources no key stands for. Registers channels, with a
 * typed error for each way it fails, and at shutdown tells every one of them that the loop closed.
 *
 * <p>Threading: {@link #register} and {@link #onClose} may be called from any thread (a
 * registration off the loop thread hops onto it, as every selector change must); {@link #closeAll}
 * runs on the loop thread, once, while it shuts down.
 */
final class LoopRegistrations {
    // The loop's logger, so that users who configured it keep seeing these messages under its name.
    private static final LazyLogger LOG = new LazyLogger(SingleThreadEventLoop.class);
    private static final CallbackFailureLog FAILURES = new CallbackFailureLog();
    private static final CallbackFailureLog DISPATCH_FAILURES = new CallbackFailureLog();

    private final SingleThreadEventLoop loop;
    private final Selector selector;
    /** Resources not tied to a selection key (a child polled by timer) that must hear of the close. */
    private final Set<Consumer<LoopClosedException>> closeHooks = ConcurrentHashMap.newKeySet();

    LoopRegistrations(SingleThreadEventLoop loop, Selector selector) {
        this.loop = loop;
        this.selector = selector;
    }

    /** {@link io.dualpipe.core.EventLoop#register}, argument checks included. */
    LoopFuture<SelectionKey> register(SelectableChannel channel, int ops, IoHandler handler) {
        InvalidArgumentException.requireNonNull("channel", channel);
        InvalidArgumentException.requireNonNull("handler", handler);
        LoopFuture<SelectionKey> future = new LoopFuture<>();
        if (loop.inEventLoop()) {
            registerNow(channel, ops, handler, future);
        } else {
            try {
                loop.execute(() -> registerNow(channel, ops, handler, future));
            } catch (LoopClosedException e) {
                future.completeExceptionally(e);
            }
        }
        return future;
    }

    private void registerNow(SelectableChannel channel, int ops, IoHandler handler, LoopFuture<SelectionKey> future) {
        if (loop.isClosed()) {
            future.completeExceptionally(loop.closed());
            return;
        }
        try {
            future.complete(channel.register(selector, ops, handler));
        } catch (ClosedChannelException e) {
            future.completeExceptionally(new ChannelClosedException("register " + channel + ": channel is closed", e));
        } catch (java.nio.channels.IllegalSelectorException | java.nio.channels.IllegalBlockingModeException e) {
            future.completeExceptionally(new InvalidArgumentException("register " + channel
                    + ": the loop serves non-blocking FdChannels and jnr-enxio native channels only (" + e.getClass().getSimpleName() + ")"));
        } catch (RuntimeException e) {
            future.completeExceptionally(e);
        }
    }

    /** {@link SingleThreadEventLoop#onClose}: adds {@code hook}, returns its remover. */
    Runnable onClose(Consumer<LoopClosedException> hook) {
        closeHooks.add(hook);
        return () -> closeHooks.remove(hook);
    }

    /**
     * Logs what a registered handler threw when the loop told it of readiness: bounded, as it may
     * throw on every event of a channel that stays ready.
     */
    static void handlerThrew(String loopName, IoHandler handler, Throwable t) {
        DISPATCH_FAILURES.threw(LOG.get(), handler, t, "event loop '{}': handler {} threw", loopName, handler);
    }

    /**
     * Tells every registered handler, then every close hook, that the loop closed with {@code cause};
     * cancels each key and closes its channel. What a handler, hook or channel throws is logged and
     * the rest are still told.
     */
    void closeAll(LoopClosedException cause) {
        String name = loop.name();
        List<SelectionKey> keys;
        try {
            keys = new ArrayList<>(selector.keys());
        } catch (RuntimeException e) {
            keys = List.of();
        }
        for (SelectionKey key : keys) {
            Object handler = key.attachment();
            if (handler instanceof IoHandler) {
                try {
                    ((IoHandler) handler).loopClosed(cause);
                } catch (Throwable t) {
                    FAILURES.threw(LOG.get(), handler, t, "event loop '{}': handler {} threw on close", name, handler);
                }
            }
            key.cancel();
            try {
                key.channel().close();
            } catch (IOException | RuntimeException e) {
                LOG.get().debug("event loop '{}': closing {} failed", name, key.channel(), e);
            }
        }
        for (Consumer<LoopClosedException> hook : new ArrayList<>(closeHooks)) {
            try {
                hook.accept(cause);
            } catch (Throwable e) {
                FAILURES.threw(LOG.get(), hook, e, "event loop '{}': close hook {} threw", name, hook);
            }
        }
        closeHooks.clear();
    }
}
