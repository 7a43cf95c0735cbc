package io.dualpipe.core.internal;

import io.dualpipe.core.InvalidArgumentException;
import jnr.enxio.channels.NativeSelectorProvider;
import jnr.ffi.Platform;

import java.io.IOException;
import java.nio.channels.Selector;
import java.nio.channels.spi.SelectorProvider;

/**
 * The one place that chooses the selector provider, once per JVM: epoll on Linux, jnr-enxio's
 * kqueue selector on macOS and the BSDs, jnr-enxio's poll selector (with a warning) elsewhere.
 * The system property {@code dualpipe.selector} ({@code epoll}, {@code jnr}) overrides the choice,
 * for benchmarks and for ruling the selector out when chasing a bug.
 */
public final class Selectors {
    private static final LazyLogger LOG = new LazyLogger(Selectors.class);
    private static final SelectorProvider PROVIDER = choose(System.getProperty("dualpipe.selector", "auto"));

    private Selectors() {
    }

    /** The provider every DualPipe loop and channel uses. */
    public static SelectorProvider provider() {
        return PROVIDER;
    }

    public static Selector open() throws IOException {
        return PROVIDER.openSelector();
    }

    /** jnr-enxio's stock selector provider (poll on Linux, kqueue on BSD): for comparisons. */
    public static SelectorProvider jnrProvider() {
        return NativeSelectorProvider.getInstance();
    }

    static SelectorProvider choose(String wanted) {
        switch (wanted) {
            case "epoll":
                if (!Native.LINUX) {
                    throw new InvalidArgumentException("dualpipe.selector=epoll needs Linux, this is " + Native.OS);
                }
                return EpollSelectorProvider.INSTANCE;
            case "jnr":
                return jnrProvider();
            case "auto":
                if (Native.LINUX) {
                    return EpollSelectorProvider.INSTANCE;
                }
                Platform platform = Platform.getNativePlatform();
                if (!platform.isBSD()) {
                    LOG.get().warn("no epoll or kqueue on {}: falling back to jnr-enxio's poll selector, whose cost grows with every registered fd",
                            platform.getOS());
                }
                return jnrProvider();
            default:
                throw new InvalidArgumentException("dualpipe.selector must be auto, epoll or jnr: '" + wanted + "'");
        }
    }
}
