/**
 * DualPipe's core: the event loop ({@link io.dualpipe.core.EventLoop}), the epoll selector, fd
 * channels, byte streams with backpressure ({@link io.dualpipe.core.ByteSource},
 * {@link io.dualpipe.core.ByteSink}), line decoding and conversations ({@code io.dualpipe.core.line}),
 * frames and codecs ({@code io.dualpipe.core.codec}) and typed message channels
 * ({@code io.dualpipe.core.message}).
 *
 * <p>Native code is reached through JNR (the automatic modules {@code org.jnrproject.ffi},
 * {@code jffi}, {@code org.jnrproject.enxio}, {@code org.jnrproject.constants}); on JDK 22+ grant
 * them native access ({@code --enable-native-access=ALL-UNNAMED} on the class path; on the module
 * path {@code --enable-native-access=jffi}). Jackson ({@code com.fasterxml.jackson.databind}) is
 * optional: only the JSON codecs use it, and a module that sends JSON requires it itself.
 * The {@code .internal} packages are exported to DualPipe's own modules alone: {@code io.dualpipe.transport}
 * both of them, {@code io.dualpipe.nats} the one with the log budgets.
 */
module io.dualpipe.core {
    requires transitive org.slf4j;
    requires org.jnrproject.ffi;
    requires org.jnrproject.enxio;
    requires org.jnrproject.constants;
    requires jffi;
    // jnr-ffi (which transport's socket, FIFO and limit bindings and jnr-unixsocket use) generates its
    // stubs with ASM; as an automatic module it declares no requires, so ASM's (explicit) modules
    // would not be resolved on the module path without these.
    requires org.objectweb.asm.commons;
    requires org.objectweb.asm.util;
    requires static com.fasterxml.jackson.databind;

    exports io.dualpipe.core;
    exports io.dualpipe.core.codec;
    exports io.dualpipe.core.line;
    exports io.dualpipe.core.message;

    // LibC is bound through jffi directly (no jnr-ffi interface for jnr-ffi to implement), so the
    // package needs no `opens`.
    exports io.dualpipe.core.internal to io.dualpipe.transport, io.dualpipe.nats;
    exports io.dualpipe.core.message.internal to io.dualpipe.transport;
}
