package io.dualpipe.core.internal;

import java.io.IOException;
import java.net.ProtocolFamily;
import java.nio.channels.DatagramChannel;
import java.nio.channels.Pipe;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.spi.AbstractSelector;
import java.nio.channels.spi.SelectorProvider;

/**
 * Opens {@link EpollSelector}s. It makes no channels of its own: DualPipe's channels are built over
 * fds it already has (pipes, accepted sockets, FIFOs), so the JDK channel factories are unsupported.
 */
public final class EpollSelectorProvider extends SelectorProvider {
    public static final EpollSelectorProvider INSTANCE = new EpollSelectorProvider();

    private EpollSelectorProvider() {
    }

    @Override
    public AbstractSelector openSelector() throws IOException {
        return new EpollSelector(this);
    }

    @Override
    public DatagramChannel openDatagramChannel() {
        throw unsupported("openDatagramChannel");
    }

    @Override
    public DatagramChannel openDatagramChannel(ProtocolFamily family) {
        throw unsupported("openDatagramChannel");
    }

    @Override
    public Pipe openPipe() {
        throw unsupported("openPipe");
    }

    @Override
    public ServerSocketChannel openServerSocketChannel() {
        throw unsupported("openServerSocketChannel");
    }

    @Override
    public SocketChannel openSocketChannel() {
        throw unsupported("openSocketChannel");
    }

    private static UnsupportedOperationException unsupported(String what) {
        return new UnsupportedOperationException(what + ": the epoll provider only selects over existing fds (use FdChannel)");
    }
}
