package io.dualpipe.core.review11;

import com.kenai.jffi.Type;
import io.dualpipe.core.internal.CFunction;
import io.dualpipe.core.internal.Native;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * review11: CFunction.call(...) with a count of arguments other than the binding declares. jffi's
 * invokeN does not check it: on x86_64 the callee reads whatever the unused argument registers hold,
 * and on the libffi path ffi_call reads past the argument array. Nothing in the Java types stops
 * such a call (every overload takes longs), so a mismatch must fail by name before the native call.
 */
@Timeout(value = 20, unit = TimeUnit.SECONDS)
class CFunctionArityTest {

    @Test
    void tooFewArgumentsAreRefusedBeforeTheCall() {
        CFunction fcntl = CFunction.bindVariadic(Native.LIBC_LIBRARY, "fcntl", 2, true, Type.SINT32, Type.SINT32, Type.SINT32, Type.SINT32);
        assertEquals(3, fcntl.parameterCount());
        // fcntl(-1, F_GETFD, <garbage>) would run (and fail with EBADF) without a check.
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> fcntl.call(-1, Native.F_GETFD));
        assertEquals(true, e.getMessage().contains("fcntl"), e.getMessage());
    }

    @Test
    void tooManyArgumentsAreRefusedBeforeTheCall() {
        CFunction close = CFunction.bind(Native.LIBC_LIBRARY, "close", true, Type.SINT32, Type.SINT32);
        assertThrows(IllegalArgumentException.class, () -> close.call(-1, 0));
        assertThrows(IllegalArgumentException.class, () -> close.call());
        assertEquals(-1, (int) close.call(-1));
    }
}
