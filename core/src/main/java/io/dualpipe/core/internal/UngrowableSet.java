package io.dualpipe.core.internal;

import java.nio.channels.SelectionKey;
import java.util.AbstractSet;
import java.util.Iterator;
import java.util.Set;

/**
 * An {@link EpollSelector}'s selected-key set as callers see it: removal allowed, addition not (the
 * Selector contract). A view over the selector's own set, and as little thread-safe: the selecting
 * thread uses it, as {@link java.nio.channels.Selector#selectedKeys()} requires.
 */
final class UngrowableSet extends AbstractSet<SelectionKey> {
    private final Set<SelectionKey> delegate;

    UngrowableSet(Set<SelectionKey> delegate) {
        this.delegate = delegate;
    }

    @Override
    public Iterator<SelectionKey> iterator() {
        return delegate.iterator();
    }

    @Override
    public int size() {
        return delegate.size();
    }

    @Override
    public boolean contains(Object o) {
        return delegate.contains(o);
    }

    @Override
    public boolean remove(Object o) {
        return delegate.remove(o);
    }

    @Override
    public void clear() {
        delegate.clear();
    }

    @Override
    public boolean add(SelectionKey key) {
        throw new UnsupportedOperationException("keys cannot be added to a selected-key set");
    }
}
