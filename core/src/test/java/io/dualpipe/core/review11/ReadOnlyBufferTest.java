package io.dualpipe.core.review11;

import io.dualpipe.core.FdChannel;
import io.dualpipe.core.InvalidArgumentException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * review11: FdChannel.read into a read-only buffer. A direct read-only buffer still has an address,
 * so the kernel wrote into memory the caller declared read-only (and the read succeeded); a heap one
 * consumed the bytes from the pipe and then threw ReadOnlyBufferException, losing them. The JDK's
 * channels refuse such a buffer up front (IllegalArgumentException); ours must too, with its typed
 * InvalidArgumentException, consuming nothing.
 */
@Timeout(value = 20, unit = TimeUnit.SECONDS)
class ReadOnlyBufferTest {

    @Test
    void readIntoAReadOnlyDirectBufferIsRefusedAndLeavesItUntouched() throws Exception {
        FdChannel[] p = FdChannel.pipe();
        try {
            assertEquals(3, p[1].write(ByteBuffer.wrap(new byte[] {1, 2, 3})));
            ByteBuffer backing = ByteBuffer.allocateDirect(8);
            ByteBuffer ro = backing.asReadOnlyBuffer();
            assertThrows(InvalidArgumentException.class, () -> p[0].read(ro));
            assertEquals(0, backing.get(0), "read-only memory was written");
            ByteBuffer dst = ByteBuffer.allocate(8);
            assertEquals(3, p[0].read(dst), "the bytes are still in the pipe");
        } finally {
            p[0].close();
            p[1].close();
        }
    }

    @Test
    void readIntoAReadOnlyHeapBufferIsRefusedWithoutConsumingBytes() throws Exception {
        FdChannel[] p = FdChannel.pipe();
        try {
            assertEquals(3, p[1].write(ByteBuffer.wrap(new byte[] {1, 2, 3})));
            ByteBuffer ro = ByteBuffer.allocate(8).asReadOnlyBuffer();
            assertThrows(InvalidArgumentException.class, () -> p[0].read(ro));
            ByteBuffer dst = ByteBuffer.allocate(8);
            assertEquals(3, p[0].read(dst), "the bytes must not be lost");
        } finally {
            p[0].close();
            p[1].close();
        }
    }
}
