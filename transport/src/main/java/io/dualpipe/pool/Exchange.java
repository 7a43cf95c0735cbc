package io.dualpipe.pool;

import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.codec.CodecRegistry;
import io.dualpipe.core.message.MessageChannel;
import io.dualpipe.process.ChildProcess;

/**
 * How a {@link ChildPool} talks to one child: {@link #open} is called once per child, on the
 * pool's loop thread, right after the child started; the {@link Session} it returns carries that
 * child's requests until the child is gone. {@link #lines()} (one line each way, FIFO) and
 * {@link #messages} (frames via {@link MessageChannel}, matched by id) are built in.
 *
 * <p>The pool never reuses a session after a request on it timed out or failed in a way that may
 * have desynchronised it: it kills that child and opens a new session on its replacement.
 *
 * @param <Q> what a request is
 * @param <R> what a reply is
 */
@FunctionalInterface
public interface Exchange<Q, R> {

    /**
     * Starts talking to {@code child}; called on the loop thread. May throw: the child then counts as crashed.
     *
     * @param child the child that just started
     * @return the session carrying that child's requests
     */
    Session<Q, R> open(ChildProcess child);

    /** One child's side of the exchange. Called on the pool's loop thread only. */
    @FunctionalInterface
    interface Session<Q, R> {
        /**
         * Sends {@code request} and completes with its reply. The pool applies its own timeout; the
         * session need not. A failure that is not a {@link io.dualpipe.core.DualPipeException} scoped
         * to this one request (see {@link ChildPool}) makes the pool kill the child.
         *
         * @param request the request
         * @return the reply
         */
        LoopFuture<R> request(Q request);

        /** Releases what {@link #open} took; the child is already gone. Default: nothing. */
        default void close() {
        }
    }

    /**
     * One line each way over stdin/stdout ({@link ChildProcess#request(String)}), replies matched in
     * FIFO order. Keep {@link ChildPoolBuilder#maxInFlightPerChild} at 1 (the default) unless the
     * child answers every line: with several lines in flight, a child that skips a reply would pair
     * the next reply with the request it skipped before the pool's timeout could tell.
     *
     * @return the exchange
     */
    static Exchange<String, String> lines() {
        return child -> child.conversation()::request;
    }

    /**
     * Frames over stdin/stdout through a {@link MessageChannel} (replies matched by id, so several
     * requests per child are safe); {@code replyClass} is what the replies must decode to.
     *
     * @param <Q>        what a request is
     * @param <R>        what a reply is
     * @param codecs     the codecs of both directions
     * @param replyClass the class replies must decode to
     * @return the exchange
     */
    static <Q, R> Exchange<Q, R> messages(CodecRegistry codecs, Class<R> replyClass) {
        return child -> {
            MessageChannel channel = MessageChannel.over(child.stdout(), child.stdin(), codecs);
            return new Session<>() {
                @Override
                public LoopFuture<R> request(Q request) {
                    return channel.request(request, replyClass);
                }

                @Override
                public void close() {
                    channel.close();
                }
            };
        };
    }
}
