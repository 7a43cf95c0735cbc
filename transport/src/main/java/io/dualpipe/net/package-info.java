/**
 * Typed messages between processes over Unix sockets and TCP: a {@link io.dualpipe.net.MessageServer}
 * in the main process, {@link io.dualpipe.net.MessageClient}s in its children (or anywhere), every
 * connection a {@link io.dualpipe.core.message.MessageChannel}.
 *
 * <p>All sockets are raw fds served by the same {@link io.dualpipe.core.EventLoop} as pipes and child
 * processes, and the bytes move through the core's {@code FdStream}. jnr-unixsocket binds and
 * connects Unix sockets (it lays out {@code sockaddr_un} for each OS) and reads SO_PEERCRED on Linux,
 * always on our own fds and never through its channels' accept, read, write or close; socket,
 * listen, accept (accept4 on Linux, accept + fcntl on macOS) and everything TCP are called directly
 * through jnr-ffi. Linux and macOS are supported (macOS untested); elsewhere binding or connecting
 * throws {@link io.dualpipe.net.UnsupportedPlatformException}. The wire format is {@code docs/wire-format.md}; a
 * peer in any language can speak it (the tests include a Python one using only its standard
 * library).
 */
package io.dualpipe.net;
