/**
 * Typed messages between processes over Unix sockets and TCP: a {@link io.dualpipe.net.MessageServer}
 * in the main process, {@link io.dualpipe.net.MessageClient}s in its children (or anywhere), every
 * connection a {@link io.dualpipe.core.message.MessageChannel}.
 *
 * <p>All sockets are raw fds served by the same {@link io.dualpipe.core.EventLoop} as pipes and child
 * processes: socket, bind, listen, accept4 and connect are made directly through jnr-ffi, and the
 * bytes move through the core's {@code FdStream}. The wire format is {@code docs/wire-format.md}; a
 * peer in any language can speak it (the tests include a Python one using only its standard
 * library).
 */
package io.dualpipe.net;
