package io.dualpipe.core.message.internal;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.InetAddress;
import java.net.InetSocketAddress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * Review 22, adversarial: 77c1bf6, FloodKey keys an unknown-uid peer by its host. A client's new port
 * per connection must buy it no new key, whatever the address family.
 */
class Review22FloodKeyTest {

    /** As transport's Sockets.describe writes a TCP peer (copied: core cannot see transport). */
    private static String describe(InetSocketAddress i) {
        String host = i.getAddress() != null ? i.getAddress().getHostAddress() : i.getHostString();
        return "tcp:" + (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + i.getPort();
    }

    @Test
    @Timeout(10)
    void thePortIsStrippedForEveryAddressFamily() throws Exception {
        for (String a : new String[] {"10.0.0.7", "::1", "fe80::1%1", "::ffff:10.0.0.7", "2001:db8::1", "0.0.0.0"}) {
            InetAddress addr = InetAddress.getByName(a);
            String one = FloodKey.host(describe(new InetSocketAddress(addr, 40122)));
            String two = FloodKey.host(describe(new InetSocketAddress(addr, 1)));
            assertEquals(one, two, a + ": two ports, two keys");
            assertEquals(describe(new InetSocketAddress(addr, 0)).replaceFirst(":0$", ""), one, a);
        }
    }

    @Test
    @Timeout(10)
    void addressesWithoutAPortGiveNoHost() {
        assertNull(FloodKey.host("unix:/tmp/x.sock"));
        assertNull(FloodKey.host("unix:"));
        assertNull(FloodKey.host("tcp:[::1]"));
        assertNull(FloodKey.host("pipe"));
        assertNull(FloodKey.host(":123"));
        assertNull(FloodKey.host("MessageChannel[fd 7 / fd 8]"));
        assertEquals("tcp:[::1]", FloodKey.host("tcp:[::1]:0"));
    }
}
