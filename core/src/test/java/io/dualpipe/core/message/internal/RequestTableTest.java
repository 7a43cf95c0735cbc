package io.dualpipe.core.message.internal;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

class RequestTableTest {
    @Test
    @Timeout(20)
    void behavesAsAMapUnderRandomSequentialAndWrappingIds() {
        Random rnd = new Random(7);
        RequestTable table = new RequestTable();
        Map<Integer, PendingRequest<?>> model = new HashMap<>();
        List<Integer> live = new ArrayList<>();
        int next = -5000; // crosses the wrap from 0xffffffff to 0 (skipped) to 1
        for (int step = 0; step < 200_000; step++) {
            if (live.isEmpty() || rnd.nextInt(100) < 55) {
                int id = next++;
                if (id == 0) {
                    id = next++;
                }
                PendingRequest<?> p = new PendingRequest<>(null, null);
                table.put(id, p);
                model.put(id, p);
                live.add(id);
            } else {
                // replies come in any order: mostly recent, sometimes very old
                int i = rnd.nextInt(100) < 80 ? live.size() - 1 - rnd.nextInt(Math.min(live.size(), 8)) : rnd.nextInt(live.size());
                int id = live.remove(i);
                assertSame(model.remove(id), table.remove(id));
            }
            assertEquals(model.size(), table.size());
        }
        for (Map.Entry<Integer, PendingRequest<?>> e : model.entrySet()) {
            assertSame(e.getValue(), table.get(e.getKey()));
        }
        assertEquals(model.size(), table.drain().size());
        assertEquals(0, table.size());
    }

    @Test
    @Timeout(20)
    void aForgottenRequestSurvivesAMillionNewerOnes() {
        RequestTable table = new RequestTable();
        PendingRequest<?> old = new PendingRequest<>(null, null);
        table.put(1, old);
        for (int id = 2; id < 1_000_000; id++) {
            PendingRequest<?> p = new PendingRequest<>(null, null);
            table.put(id, p);
            if (id > 41) { // ids 2.. slide; id 1 stays
                assertSame(table.get(id - 40), table.remove(id - 40));
            }
        }
        assertSame(old, table.get(1));
        assertEquals(41, table.size());
        assertSame(old, table.remove(1));
        assertEquals(40, table.size());
    }
}
