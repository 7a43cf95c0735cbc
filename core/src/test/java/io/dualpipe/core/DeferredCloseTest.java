package io.dualpipe.core;

import io.dualpipe.core.internal.EpollSelectorProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.channels.Selector;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import static java.nio.channels.SelectionKey.OP_READ;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A closed channel's fd outlives every epoll registration of it, however many selectors held it. */
class DeferredCloseTest {

    /** A channel registered with several selectors keeps its fd until the last has deregistered it, in any order. */
    @Test
    @Timeout(10)
    void aClosedChannelKeepsItsFdUntilEverySelectorDeregisteredIt() throws IOException {
        for (int order = 0; order < 3; order++) {
            List<Selector> all = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                all.add(EpollSelectorProvider.INSTANCE.openSelector());
            }
            FdChannel[] p = FdChannel.pipe();
            try {
                for (Selector s : all) {
                    p[0].register(s, OP_READ);
                }
                int fd = p[0].getFD();
                p[0].close();
                Collections.rotate(all, order);
                for (int i = 0; i < all.size(); i++) {
                    assertTrue(TestSupport.isOpen(fd), "still registered with " + (all.size() - i) + " selectors");
                    all.get(i).selectNow(); // takes the cancelled key out of epoll
                }
                assertFalse(TestSupport.isOpen(fd), "released once the last selector let go");
            } finally {
                p[0].close();
                p[1].close();
                for (Selector s : all) {
                    s.close();
                }
            }
        }
    }
}
