package io.dualpipe.core.internal;

import com.kenai.jffi.CallContext;
import com.kenai.jffi.CallingConvention;
import com.kenai.jffi.Invoker;
import com.kenai.jffi.Library;
import com.kenai.jffi.ObjectParameterInfo;
import com.kenai.jffi.ObjectParameterStrategy;
import com.kenai.jffi.Type;

import java.nio.ByteBuffer;

/**
 * One C function bound through jffi, JNR's native layer: its address and libffi call context.
 * Arguments are integers or addresses passed as {@code long}s (an {@code int} argument sign-extends;
 * the callee reads its low 32 bits), and the result comes back as a {@code long} the caller narrows.
 *
 * <p>Why not jnr-ffi's {@code LibraryLoader}: it implements an interface by generating a class with
 * ASM, which in a fresh JVM loads and runs ASM and some 200 jnr-ffi classes; that was most of the
 * cold start (issue 11). jffi's invoker is what those generated classes call in the end: on x86_64
 * a JNI call that calls the function directly and, when asked, saves errno for
 * {@link com.kenai.jffi.LastError}, exactly as jnr-ffi's {@code Runtime.getLastError()} reads it.
 *
 * <p>Variadic C functions ({@code fcntl}, {@code open}, {@code syscall}) are bound with the count of
 * their fixed parameters ({@link #bindVariadic}): jffi then prepares libffi's variadic call
 * interface, which on ABIs that pass variadic arguments differently (arm64 macOS: on the stack)
 * places them right; x86_64 passes both kinds alike and jffi clears {@code %al} as the ABI asks.
 *
 * <p>A symbol this libc lacks binds to a function that throws {@link UnsatisfiedLinkError} when
 * called, as jnr-ffi's stubs do; callers probe optional symbols first.
 *
 * <p>Thread-safe: immutable; errno is saved per thread.
 */
public final class CFunction {
    private static final Invoker INVOKER = Invoker.getInstance();

    private final String name;
    private final long address;
    private final CallContext context;
    private final int fixedCount;
    private final int parameterCount;

    private CFunction(String name, long address, CallContext context, int fixedCount) {
        this.name = name;
        this.address = address;
        this.context = context;
        this.fixedCount = fixedCount;
        this.parameterCount = context.getParameterCount();
    }

    /** Binds name with the given result and parameter types; saveErrno as jnr-ffi's default (no {@code @IgnoreError}). */
    public static CFunction bind(Library library, String name, boolean saveErrno, Type result, Type... params) {
        return new CFunction(name, library.getSymbolAddress(name),
                CallContext.getCallContext(result, params, CallingConvention.DEFAULT, saveErrno), params.length);
    }

    /** Binds a variadic function whose first fixedCount parameters are the fixed ones. */
    public static CFunction bindVariadic(Library library, String name, int fixedCount, boolean saveErrno, Type result, Type... params) {
        if (fixedCount < 0 || fixedCount > params.length) {
            throw new IllegalArgumentException(name + ": fixedCount " + fixedCount + " of " + params.length + " parameters");
        }
        return new CFunction(name, library.getSymbolAddress(name),
                CallContext.getCallContext(result, fixedCount, params, CallingConvention.DEFAULT, saveErrno), fixedCount);
    }

    public String name() {
        return name;
    }

    /** Whether this libc has the symbol. */
    public boolean isPresent() {
        return address != 0;
    }

    /** The count of fixed parameters: all of them unless the function is variadic. */
    public int fixedCount() {
        return fixedCount;
    }

    public int parameterCount() {
        return parameterCount;
    }

    public long call() {
        return INVOKER.invokeN0(context, check(0));
    }

    public long call(long a1) {
        return INVOKER.invokeN1(context, check(1), a1);
    }

    public long call(long a1, long a2) {
        return INVOKER.invokeN2(context, check(2), a1, a2);
    }

    public long call(long a1, long a2, long a3) {
        return INVOKER.invokeN3(context, check(3), a1, a2, a3);
    }

    public long call(long a1, long a2, long a3, long a4) {
        return INVOKER.invokeN4(context, check(4), a1, a2, a3, a4);
    }

    public long call(long a1, long a2, long a3, long a4, long a5) {
        return INVOKER.invokeN5(context, check(5), a1, a2, a3, a4, a5);
    }

    public long call(long a1, long a2, long a3, long a4, long a5, long a6) {
        return INVOKER.invokeN6(context, check(6), a1, a2, a3, a4, a5, a6);
    }

    /**
     * A three-argument call whose second argument is the bytes of a heap buffer, from its position to
     * its limit, passed pinned ({@code GetPrimitiveArrayCritical}): the callee reads the Java array in
     * place, with no copy. The collector waits while the call runs, so only for calls that return at
     * once (a non-blocking write).
     */
    public long callPinned(long a1, ByteBuffer heap, long a3) {
        return INVOKER.invokeN3O1(context, check(3), a1, 0, a3, heap, HeapBytes.STRATEGY, HeapBytes.SECOND_ARG_IN);
    }

    /** How jffi finds a heap buffer's array, offset and length. */
    private static final class HeapBytes extends ObjectParameterStrategy<ByteBuffer> {
        static final HeapBytes STRATEGY = new HeapBytes();
        static final ObjectParameterInfo SECOND_ARG_IN = ObjectParameterInfo.create(1, ObjectParameterInfo.ARRAY,
                ObjectParameterInfo.BYTE, ObjectParameterInfo.IN | ObjectParameterInfo.PINNED);

        private HeapBytes() {
            super(HEAP);
        }

        @Override
        public long address(ByteBuffer b) {
            return 0;
        }

        @Override
        public Object object(ByteBuffer b) {
            return b.array();
        }

        @Override
        public int offset(ByteBuffer b) {
            return b.arrayOffset() + b.position();
        }

        @Override
        public int length(ByteBuffer b) {
            return b.remaining();
        }
    }

    /**
     * jffi's invokeN takes the count on trust: the callee would read stray argument registers (x86_64)
     * or libffi would read past the argument array, so a call of another arity fails here by name.
     */
    private long check(int arguments) {
        if (arguments != parameterCount) {
            throw new IllegalArgumentException(name + " takes " + parameterCount + " arguments, called with " + arguments);
        }
        if (address == 0) {
            throw new UnsatisfiedLinkError("native symbol '" + name + "' not found in libc");
        }
        return address;
    }

    @Override
    public String toString() {
        return name + (fixedCount < parameterCount() ? " (variadic, " + fixedCount + " fixed)" : "");
    }
}
