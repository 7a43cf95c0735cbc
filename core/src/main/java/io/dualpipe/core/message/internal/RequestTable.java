package io.dualpipe.core.message.internal;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Outstanding requests by id, in O(1) and without boxing on the common path.
 *
 * <p>Ids come from a counter, so the outstanding ones are mostly a sliding range of consecutive
 * numbers: a ring indexed by {@code id & mask} holds them with no probing at all (an open-addressing
 * map would keep them as one long probe run, and every in-order removal would walk it). The ring
 * doubles when more than half full. A straggler, a request still unanswered when an id a ring's
 * length newer needs its slot, moves to a small boxed overflow map, so one forgotten request cannot
 * make the ring grow without bound. Id 0 is never used (the wire format reserves it).
 *
 * <p>Not thread-safe: loop thread only ({@link Requests} owns it).
 */
final class RequestTable {
    private static final int INITIAL = 64;

    private int[] keys = new int[INITIAL];
    private OpenRequest[] values = new OpenRequest[INITIAL];
    private int inRing;
    private Map<Integer, OpenRequest> overflow; // stragglers; null until the first one

    int size() {
        return inRing + (overflow == null ? 0 : overflow.size());
    }

    boolean contains(int id) {
        return get(id) != null;
    }

    OpenRequest get(int id) {
        int i = id & (keys.length - 1);
        if (values[i] != null && keys[i] == id) {
            return values[i];
        }
        return overflow == null ? null : overflow.get(id);
    }

    void put(int id, OpenRequest request) {
        if ((inRing + 1) * 2 > keys.length) {
            grow();
        }
        int i = id & (keys.length - 1);
        OpenRequest old = values[i];
        if (old == null) {
            inRing++;
        } else if (keys[i] != id) {
            if (overflow == null) {
                overflow = new HashMap<>();
            }
            overflow.put(keys[i], old);
        }
        keys[i] = id;
        values[i] = request;
    }

    OpenRequest remove(int id) {
        int i = id & (keys.length - 1);
        OpenRequest v = values[i];
        if (v != null && keys[i] == id) {
            values[i] = null;
            keys[i] = 0;
            inRing--;
            return v;
        }
        return overflow == null ? null : overflow.remove(id);
    }

    /** Removes and returns every request. */
    List<OpenRequest> drain() {
        List<OpenRequest> all = new ArrayList<>(size());
        for (int i = 0; i < values.length; i++) {
            if (values[i] != null) {
                all.add(values[i]);
                values[i] = null;
                keys[i] = 0;
            }
        }
        inRing = 0;
        if (overflow != null) {
            all.addAll(overflow.values());
            overflow = null;
        }
        return all;
    }

    // Two ids that share a slot after doubling shared it before too, so re-inserting cannot collide;
    // stragglers come back into the ring where their slot is free.
    private void grow() {
        int[] oldKeys = keys;
        OpenRequest[] oldValues = values;
        keys = new int[oldKeys.length * 2];
        values = new OpenRequest[oldKeys.length * 2];
        int mask = keys.length - 1;
        for (int i = 0; i < oldKeys.length; i++) {
            if (oldValues[i] != null) {
                int j = oldKeys[i] & mask;
                keys[j] = oldKeys[i];
                values[j] = oldValues[i];
            }
        }
        if (overflow != null) {
            overflow.entrySet().removeIf(e -> {
                int j = e.getKey() & mask;
                if (values[j] != null) {
                    return false;
                }
                keys[j] = e.getKey();
                values[j] = e.getValue();
                inRing++;
                return true;
            });
        }
    }
}
