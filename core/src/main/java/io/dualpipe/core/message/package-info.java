/**
 * Typed messages over DualPipe byte streams: {@link io.dualpipe.core.message.MessageChannel} frames
 * messages as {@code docs/wire-format.md} describes, encodes them with a
 * {@link io.dualpipe.core.codec.CodecRegistry}, matches requests to replies by id, and routes
 * incoming messages to {@link io.dualpipe.core.message.MessageHandler}s by type byte.
 *
 * <p>Nothing here knows about sockets or processes: a channel runs over any
 * {@link io.dualpipe.core.ByteSource} and {@link io.dualpipe.core.ByteSink} on one loop. The
 * transport module opens channels over Unix and TCP sockets ({@code io.dualpipe.net}); a child
 * process's pipes work directly: {@code MessageChannel.over(child.stdout(), child.stdin(), codecs)}.
 *
 * <p>Threading, in short: every public method is thread-safe; handlers, error listeners and reply
 * futures run on the loop thread and must not block.
 */
package io.dualpipe.core.message;
