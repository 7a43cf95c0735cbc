/**
 * DualPipe's transports on the core's event loop: child processes ({@code io.dualpipe.process}),
 * the blocking {@link io.dualpipe.DualPipe} facade, Unix sockets and TCP ({@code io.dualpipe.net}),
 * FIFOs ({@code io.dualpipe.fifo}), pools of long-running children ({@code io.dualpipe.pool}) and worker
 * pools ({@code io.dualpipe.worker}).
 *
 * <p>Worker pools exchange JSON envelopes and need Jackson ({@code com.fasterxml.jackson.databind}),
 * an optional dependency that a module using them requires itself.
 */
module io.dualpipe.transport {
    requires transitive io.dualpipe.core;
    requires org.jnrproject.ffi;
    requires org.jnrproject.unixsocket;
    requires org.jnrproject.constants;
    requires jffi;
    requires static com.fasterxml.jackson.databind;

    exports io.dualpipe;
    exports io.dualpipe.fifo;
    exports io.dualpipe.net;
    exports io.dualpipe.pool;
    exports io.dualpipe.process;
    exports io.dualpipe.worker;

    // jnr-ffi implements the native binding interfaces (LimitLib, SocketLib, FifoLib) in a class
    // loader of its own (an unnamed module), which needs their packages at run time; `opens` grants
    // that without exporting them to anyone's compiler.
    opens io.dualpipe.process.internal;
    opens io.dualpipe.net.internal;
    opens io.dualpipe.fifo.internal;
}
