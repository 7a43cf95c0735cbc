package io.dualpipe.core.internal;

import com.kenai.jffi.Type;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The jffi bindings that replaced jnr-ffi's generated LibC keep its contract: results and errno as
 * libc leaves them (errno saved per thread, and left alone by a binding that does not save it),
 * signed results (-1, not 4294967295), strerror's text, pipe2 filling the caller's array, and a
 * missing symbol failing only when called.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class CFunctionTest {
    @Test
    void aFailedCallReturnsMinusOneAndSavesErrnoForThisThread() throws Exception {
        assertEquals(-1, Native.LIBC.close(-1));
        assertEquals(Native.EBADF, Native.errno());
        int[] other = new int[1];
        Thread t = new Thread(() -> {
            Native.LIBC.fcntl(-1, Native.F_GETFD, 0);
            other[0] = Native.errno();
        });
        t.start();
        t.join();
        assertEquals(Native.EBADF, other[0]);
        ByteBuffer buf = ByteBuffer.allocateDirect(8);
        assertEquals(-1L, Native.LIBC.read(-1, Native.address(buf), 8), "ssize_t -1 sign-extends");
        assertEquals(Native.EBADF, Native.errno());
    }

    @Test
    void strerrorDoesNotTouchErrnoAndGivesTheMessage() {
        assertEquals(-1, Native.LIBC.close(-1));
        assertEquals("Bad file descriptor", Native.LIBC.strerror(Native.EBADF));
        assertEquals(Native.EBADF, Native.errno(), "strerror is bound without saving errno, as with @IgnoreError");
        assertEquals("EBADF", Native.errnoName(Native.EBADF));
    }

    @Test
    void pipe2FillsTheArrayAndTheFdsWork() {
        int[] fds = {-7, -7};
        assertEquals(0, Native.LIBC.pipe2(fds, Native.O_CLOEXEC | Native.O_NONBLOCK));
        try {
            assertTrue(fds[0] >= 0 && fds[1] >= 0 && fds[0] != fds[1]);
            ByteBuffer out = ByteBuffer.allocateDirect(4).put(new byte[] {1, 2, 3, 4});
            ByteBuffer in = ByteBuffer.allocateDirect(4);
            assertEquals(4L, Native.LIBC.write(fds[1], Native.address(out), 4));
            assertEquals(4L, Native.LIBC.read(fds[0], Native.address(in), 4));
            assertEquals(3, in.get(2));
            assertEquals(-1L, Native.LIBC.read(fds[0], Native.address(in), 4), "empty non-blocking pipe");
            assertTrue(Native.isWouldBlock(Native.errno()));
            assertEquals(Native.O_NONBLOCK, Native.LIBC.fcntl(fds[0], Native.F_GETFL, 0) & Native.O_NONBLOCK);
            assertEquals(Native.FD_CLOEXEC, Native.LIBC.fcntl(fds[1], Native.F_GETFD, 0) & Native.FD_CLOEXEC);
        } finally {
            Native.closeQuietly(fds[0]);
            Native.closeQuietly(fds[1]);
        }
        assertThrows(IllegalArgumentException.class, () -> Native.LIBC.pipe2(new int[1], 0));
    }

    @Test
    void aMissingSymbolBindsAndFailsOnlyWhenCalled() {
        CFunction missing = CFunction.bind(Native.LIBC_LIBRARY, "dualpipe_no_such_function", true, Type.SINT32, Type.SINT32);
        assertFalse(missing.isPresent());
        UnsatisfiedLinkError e = assertThrows(UnsatisfiedLinkError.class, () -> missing.call(1));
        assertTrue(e.getMessage().contains("dualpipe_no_such_function"), e.getMessage());
    }

    @Test
    void variadicBindingsKnowTheirFixedCount() {
        CFunction fcntl = CFunction.bindVariadic(Native.LIBC_LIBRARY, "fcntl", 2, true, Type.SINT32, Type.SINT32, Type.SINT32, Type.SINT32);
        assertEquals(2, fcntl.fixedCount());
        assertEquals(3, fcntl.parameterCount());
        assertEquals(-1L, (int) fcntl.call(-1, Native.F_GETFD, 0));
        assertThrows(IllegalArgumentException.class,
                () -> CFunction.bindVariadic(Native.LIBC_LIBRARY, "fcntl", 4, true, Type.SINT32, Type.SINT32));
    }
}
