package io.dualpipe.core.internal;

import java.util.Arrays;

/**
 * A binary min-heap of timers by deadline in which every entry knows its index, so a cancelled
 * timer leaves at once in O(log n) (a lazily-cancelled heap would hold every cancelled request
 * timeout until its deadline). Loop thread only.
 */
final class TimerHeap {
    private TimerTask[] heap = new TimerTask[16];
    private int size;

    boolean isEmpty() {
        return size == 0;
    }

    int size() {
        return size;
    }

    TimerTask peek() {
        return size == 0 ? null : heap[0];
    }

    void add(TimerTask t) {
        if (size == heap.length) {
            heap = Arrays.copyOf(heap, size * 2);
        }
        t.index = size;
        heap[size++] = t;
        up(t.index);
    }

    TimerTask poll() {
        if (size == 0) {
            return null;
        }
        TimerTask top = heap[0];
        removeAt(0);
        return top;
    }

    /** Removes {@code t} if it is in the heap. */
    boolean remove(TimerTask t) {
        int i = t.index;
        if (i < 0 || i >= size || heap[i] != t) {
            return false;
        }
        removeAt(i);
        return true;
    }

    void clear() {
        for (int i = 0; i < size; i++) {
            heap[i].index = -1;
            heap[i] = null;
        }
        size = 0;
    }

    private void removeAt(int i) {
        TimerTask removed = heap[i];
        removed.index = -1;
        size--;
        if (i == size) {
            heap[size] = null;
            return;
        }
        TimerTask last = heap[size];
        heap[size] = null;
        heap[i] = last;
        last.index = i;
        if (!down(i)) {
            up(i);
        }
    }

    private void up(int i) {
        TimerTask t = heap[i];
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            TimerTask p = heap[parent];
            if (!t.before(p)) {
                break;
            }
            heap[i] = p;
            p.index = i;
            i = parent;
        }
        heap[i] = t;
        t.index = i;
    }

    private boolean down(int i) {
        int start = i;
        TimerTask t = heap[i];
        int half = size >>> 1;
        while (i < half) {
            int child = 2 * i + 1;
            int right = child + 1;
            if (right < size && heap[right].before(heap[child])) {
                child = right;
            }
            if (!heap[child].before(t)) {
                break;
            }
            heap[i] = heap[child];
            heap[i].index = i;
            i = child;
        }
        heap[i] = t;
        t.index = i;
        return i != start;
    }
}
