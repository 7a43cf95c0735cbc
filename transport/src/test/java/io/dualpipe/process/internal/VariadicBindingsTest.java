package io.dualpipe.process.internal;

import io.dualpipe.core.internal.CFunction;
import io.dualpipe.core.internal.Native;
import io.dualpipe.fifo.internal.FifoLib;
import io.dualpipe.net.internal.SocketLib;
import jnr.ffi.Platform;
import jnr.ffi.annotations.Variadic;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Every variadic libc function we bind is declared variadic with its count of fixed parameters, as
 * jnr-posix does: {@link Variadic} on a jnr-ffi interface, {@link CFunction#bindVariadic} for the
 * jffi bindings (LibC, PosixLib). arm64 macOS passes variadic arguments on the stack, so a binding
 * that declares them as fixed parameters hands the callee garbage there. x86_64 passes both kinds
 * alike, so this cannot be seen by calling them here; the test reads the declarations, and then
 * calls each binding once to show the variadic call path works.
 */
class VariadicBindingsTest {
    /** The variadic functions of libc a binding might declare, with their fixed-parameter counts. */
    private static final Map<String, Integer> VARIADIC = Map.of(
            "open", 2, "openat", 3, "fcntl", 2, "ioctl", 2, "syscall", 1, "prctl", 1, "execl", 2,
            "printf", 1, "mq_open", 2, "sem_open", 2);

    private static final List<Class<?>> BINDINGS = List.of(
            SocketLib.class, SocketLib.Linux.class, SocketLib.Darwin.class, FifoLib.class, LimitLib.class);

    @Test
    void everyVariadicFunctionIsDeclaredVariadicWithItsFixedCount() {
        List<String> wrong = new ArrayList<>();
        int checked = 0;
        for (Class<?> binding : BINDINGS) {
            for (Method m : binding.getDeclaredMethods()) {
                Integer fixed = VARIADIC.get(m.getName());
                if (fixed == null) {
                    continue;
                }
                checked++;
                Variadic v = m.getAnnotation(Variadic.class);
                if (m.getParameterCount() > fixed && (v == null || v.fixedCount() != fixed)) {
                    wrong.add(binding.getSimpleName() + "." + m.getName() + " (" + m.getParameterCount()
                            + " parameters, " + fixed + " fixed): " + (v == null ? "no @Variadic" : "@Variadic(fixedCount = " + v.fixedCount() + ")"));
                }
            }
        }
        List<CFunction> bound = new ArrayList<>(List.of(Native.LIBC.functions()));
        bound.addAll(List.of(Posix.LIB.functions()));
        for (CFunction f : bound) {
            Integer fixed = VARIADIC.get(f.name());
            if (fixed == null) {
                continue;
            }
            checked++;
            if (f.parameterCount() > fixed && f.fixedCount() != fixed) {
                wrong.add(f.name() + " (" + f.parameterCount() + " parameters, " + fixed + " fixed): bound with fixedCount " + f.fixedCount());
            }
        }
        assertTrue(checked >= 5, "found only " + checked + " variadic bindings: has the list of interfaces gone stale?");
        assertEquals(List.of(), wrong);
    }

    @Test
    void theVariadicBindingsStillWork() {
        int[] fds = new int[2];
        assertEquals(0, Native.LIBC.pipe2(fds, Native.O_CLOEXEC));
        try {
            assertEquals(Native.FD_CLOEXEC, Native.LIBC.fcntl(fds[0], Native.F_GETFD, 0) & Native.FD_CLOEXEC);
            assertEquals(0, Posix.LIB.fcntl(fds[1], Native.F_SETFL, Native.O_NONBLOCK));
            assertEquals(Native.O_NONBLOCK, Native.LIBC.fcntl(fds[1], Native.F_GETFL, 0) & Native.O_NONBLOCK);
        } finally {
            Native.closeQuietly(fds[0]);
            Native.closeQuietly(fds[1]);
        }
        byte[] devNull = "/dev/null\0".getBytes(StandardCharsets.US_ASCII);
        long path = Posix.MEM.allocateMemory(devNull.length, true);
        try {
            Posix.MEM.putByteArray(path, devNull, 0, devNull.length);
            int fd = Posix.LIB.open(path, Posix.O_RDONLY | Posix.O_CLOEXEC, 0);
            assertTrue(fd >= 0, "open(/dev/null): " + Native.errnoName(Native.errno()));
            Native.closeQuietly(fd);
        } finally {
            Posix.MEM.freeMemory(path);
        }
        assumeTrue(Posix.LINUX && Platform.getNativePlatform().getCPU() == Platform.CPU.X86_64, "getpid is syscall 39 on x86_64 Linux");
        assertEquals(ProcessHandle.current().pid(), Posix.LIB.syscall(39, 0, 0, 0, 0));
    }
}
