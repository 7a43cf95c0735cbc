package io.dualpipe.core.message.internal;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The {@link ByteBuffer} a raw handler or a listener is lent for one body: read-only, exactly the
 * body (index 0 is its first byte, its capacity the body's length), never a window onto the loop's
 * shared read buffer, where a {@code rewind()} or {@code get(0)} would read other frames' and other
 * connections' bytes.
 *
 * <p><b>Cost.</b> A slice of the read buffer is an object per body (a direct buffer view, about 64
 * bytes), which on W5T's path measured ~40 ns a message. So a small body is instead copied into an
 * array this channel keeps, behind a view it reuses while bodies keep the same length, as a protocol's
 * fixed-size messages do; a body of another length gets a new array and view, and one over
 * {@link #COPY_LIMIT} a slice, since copying it would cost more than the object.
 *
 * <p><b>Ownership.</b> What {@link #lend} returns is valid until the next call: the channel lends
 * one body at a time (a handler or listener returns before the next frame is read), and the
 * contract makes it the callee's only until it returns. Loop thread only.
 */
final class BodyLender {
    static final int COPY_LIMIT = 4 * 1024;

    private byte[] array;
    private ByteBuffer view;

    /** {@return an exact read-only view of {@code body}'s remaining bytes}; {@code body} is left as it was. */
    ByteBuffer lend(ByteBuffer body) {
        int n = body.remaining();
        if (n > COPY_LIMIT) {
            return body.slice().asReadOnlyBuffer().order(ByteOrder.BIG_ENDIAN);
        }
        ByteBuffer v = view;
        if (v == null || array.length != n) {
            array = new byte[n];
            v = view = ByteBuffer.wrap(array).asReadOnlyBuffer();
        }
        body.get(body.position(), array, 0, n);
        v.clear(); // the last callee may have moved them
        v.order(ByteOrder.BIG_ENDIAN);
        return v;
    }
}
