/**
 * The event loop and byte streams everything else is built on: an {@link io.dualpipe.core.EventLoop}
 * (one thread, one epoll selector) or an {@link io.dualpipe.core.EventLoopGroup} of them, the
 * {@link io.dualpipe.core.ByteSource} and {@link io.dualpipe.core.ByteSink} ends of pipes and
 * sockets, {@link io.dualpipe.core.FdChannel} over a raw file descriptor, and
 * {@link io.dualpipe.core.LoopFuture}, which fails fast instead of deadlocking when a loop thread
 * blocks on it.
 *
 * <p>Every exception the library raises is an unchecked {@link io.dualpipe.core.DualPipeException};
 * the ones shared by all modules live here.
 *
 * <p>Threading, in short: selector work happens on the loop thread, other threads hand it tasks;
 * callbacks and read futures complete on the loop thread and must not block it.
 */
package io.dualpipe.core;
