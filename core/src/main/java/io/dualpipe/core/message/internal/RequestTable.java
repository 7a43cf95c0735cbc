package io.dualpipe.core.message.internal;

import java.util.ArrayList;
import java.util.List;

/**
 * Outstanding requests by id: an open-addressing int map, so tracking a request boxes nothing.
 * Ids are never 0 (the wire format reserves it), which marks an empty slot. Ids come from a counter,
 * so {@code id & mask} spreads them perfectly; linear probing with backward-shift deletion keeps the
 * table free of tombstones.
 *
 * <p>Not thread-safe: the channel guards it with its lock.
 */
final class RequestTable {
    private int[] keys = new int[16];
    private PendingRequest<?>[] values = new PendingRequest<?>[16];
    private int size;

    int size() {
        return size;
    }

    boolean contains(int id) {
        return values[find(id)] != null;
    }

    PendingRequest<?> get(int id) {
        return values[find(id)];
    }

    void put(int id, PendingRequest<?> request) {
        if ((size + 1) * 2 > keys.length) {
            grow();
        }
        int i = find(id);
        if (values[i] == null) {
            size++;
        }
        keys[i] = id;
        values[i] = request;
    }

    PendingRequest<?> remove(int id) {
        int i = find(id);
        PendingRequest<?> v = values[i];
        if (v == null) {
            return null;
        }
        size--;
        // Backward shift: pull later members of the probe run into the hole, so lookups never stop early.
        int mask = keys.length - 1;
        int hole = i;
        int j = i;
        while (true) {
            j = (j + 1) & mask;
            if (values[j] == null) {
                break;
            }
            int home = keys[j] & mask;
            // Move j into the hole when its home slot is not cyclically within (hole, j].
            if (((j - home) & mask) >= ((j - hole) & mask)) {
                keys[hole] = keys[j];
                values[hole] = values[j];
                hole = j;
            }
        }
        keys[hole] = 0;
        values[hole] = null;
        return v;
    }

    /** Removes and returns every request. */
    List<PendingRequest<?>> drain() {
        List<PendingRequest<?>> all = new ArrayList<>(size);
        for (int i = 0; i < values.length; i++) {
            if (values[i] != null) {
                all.add(values[i]);
                values[i] = null;
                keys[i] = 0;
            }
        }
        size = 0;
        return all;
    }

    private int find(int id) {
        int mask = keys.length - 1;
        int i = id & mask;
        while (values[i] != null && keys[i] != id) {
            i = (i + 1) & mask;
        }
        return i;
    }

    private void grow() {
        int[] oldKeys = keys;
        PendingRequest<?>[] oldValues = values;
        keys = new int[oldKeys.length * 2];
        values = new PendingRequest<?>[oldKeys.length * 2];
        for (int i = 0; i < oldKeys.length; i++) {
            if (oldValues[i] != null) {
                int j = find(oldKeys[i]);
                keys[j] = oldKeys[i];
                values[j] = oldValues[i];
            }
        }
    }
}
