package io.dualpipe.core.internal;

import io.dualpipe.core.NativeAccessException;

/**
 * The gate in front of the first JNR call. {@link Native} loads libc in its static initialiser, and
 * a failure there surfaces as a raw {@code ExceptionInInitializerError} the first time and as a
 * {@code NoClassDefFoundError} ever after; this class initialises it once, inside a try, and turns a
 * failure into a {@link NativeAccessException} that says what to add to the command line.
 * Thread-safe: the JVM runs the probe once, under the class-initialisation lock.
 */
public final class NativeAccess {
    static final String FLAG = "--enable-native-access=ALL-UNNAMED";
    private static final Throwable FAILURE = probe();

    private NativeAccess() {
    }

    /** Returns if JNR works in this JVM; throws a fresh {@link NativeAccessException} every time if not. */
    public static void require() {
        if (FAILURE != null) {
            throw new NativeAccessException(message(FAILURE), FAILURE);
        }
    }

    private static Throwable probe() {
        try {
            Class.forName(Native.class.getName(), true, NativeAccess.class.getClassLoader());
            return null;
        } catch (LinkageError e) {
            return e instanceof ExceptionInInitializerError && e.getCause() != null ? e.getCause() : e;
        } catch (ClassNotFoundException e) {
            throw new AssertionError(e); // Native is in this very package
        }
    }

    static String message(Throwable failure) {
        String chain = chain(failure);
        if (chain.contains("IllegalCallerException") || chain.contains("native access")) {
            return "native access is denied to JNR, which DualPipe calls libc through: start the JVM with " + FLAG
                    + " (on the module path: --enable-native-access=jffi), or put"
                    + " 'Enable-Native-Access: ALL-UNNAMED' in an executable jar's manifest (" + chain + ")";
        }
        if (chain.contains("Unsafe") || chain.contains("sun.misc")) {
            return "JNR cannot use sun.misc.Unsafe in this JVM: drop --sun-misc-unsafe-memory-access=deny or set it to"
                    + " allow (" + chain + ")";
        }
        if (chain.contains("NoClassDefFoundError") || chain.contains("ClassNotFoundException")) {
            return "a class of the JNR stack is missing: check that jnr-ffi, jffi (and its 'native' classifier jar) and"
                    + " ASM are on the class path, or resolved on the module path (" + chain + ")";
        }
        return "cannot load JNR's native stub (jffi), which DualPipe calls libc through: check that java.io.tmpdir ("
                + System.getProperty("java.io.tmpdir") + ") is writable and not mounted noexec, or set jffi.extract.dir"
                + " (" + chain + ")";
    }

    /**
     * The first lines of the messages of failure and its causes, outermost first: the root names the
     * real refusal. jnr-ffi puts a whole stack trace into its message; the cause keeps it.
     */
    private static String chain(Throwable failure) {
        StringBuilder b = new StringBuilder();
        for (Throwable t = failure; t != null && b.length() < 1000; t = t.getCause() == t ? null : t.getCause()) {
            String m = String.valueOf(t.getMessage());
            int nl = m.indexOf('\n');
            if (b.length() > 0) {
                b.append(" <- ");
            }
            b.append(t.getClass().getName()).append(": ").append(nl < 0 ? m : m.substring(0, nl).strip());
        }
        return b.toString();
    }
}
