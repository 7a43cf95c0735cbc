package io.dualpipe.core.message.internal;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The host that stands in for an unknown uid in a log budget's key: the address without its port, or none. */
class FloodKeyTest {
    @Test
    void aTcpAddressLosesItsPortAndNothingElse() {
        assertEquals("tcp:127.0.0.2", FloodKey.host("tcp:127.0.0.2:40122"));
        assertEquals("tcp:[::1]", FloodKey.host("tcp:[::1]:40122"));
        assertEquals("tcp:[fe80::1%2]", FloodKey.host("tcp:[fe80::1%2]:1"));
    }

    @Test
    void anAddressWithoutAPortHasNoHost() {
        assertNull(FloodKey.host("unix:/tmp/app.sock"));
        assertNull(FloodKey.host("unix:/tmp/app.sock#3"));
        assertNull(FloodKey.host("MessageChannel[pipe:5 / pipe:8]"));
        assertNull(FloodKey.host("tcp:[::1]"));
        assertNull(FloodKey.host("tcp:"));
        assertNull(FloodKey.host(":80"));
        assertNull(FloodKey.host(""));
    }
}
