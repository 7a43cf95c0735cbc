package io.dualpipe.process.internal;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * The native form of the strings a spawn hands to the kernel (argv, the environment, paths): each
 * encoded with the JVM's file-name encoding ({@code sun.jnu.encoding}), the one the JDK uses for
 * paths and for its own ProcessBuilder, and NUL-terminated.
 *
 * <p>Stateless, hence thread-safe. Every array returned is new and belongs to the caller: a
 * {@link SpawnSpec} computes its own once, when it is built, and never changes them, so repeated
 * spawns of one spec pay no encoding cost. The strings must have passed {@link SpecChecks} first:
 * a NUL inside one would cut it short in C.
 */
final class NativeStrings {
    static final Charset ENCODING = fileNameCharset();

    private NativeStrings() {
    }

    /** {@code s} encoded and NUL-terminated; null for null. */
    static byte[] of(String s) {
        if (s == null) {
            return null;
        }
        byte[] encoded = s.getBytes(ENCODING);
        byte[] withNul = new byte[encoded.length + 1];
        System.arraycopy(encoded, 0, withNul, 0, encoded.length);
        return withNul;
    }

    /** Each of {@code strings}, in order. */
    static byte[][] each(List<String> strings) {
        byte[][] out = new byte[strings.size()][];
        for (int i = 0; i < out.length; i++) {
            out[i] = of(strings.get(i));
        }
        return out;
    }

    /** Entries {@code "KEY=VALUE\0"}, in the map's iteration order; null for null (inherit the parent's environ). */
    static byte[][] environ(Map<String, String> env) {
        if (env == null) {
            return null;
        }
        byte[][] out = new byte[env.size()][];
        int i = 0;
        for (Map.Entry<String, String> e : env.entrySet()) {
            out[i++] = of(e.getKey() + "=" + e.getValue());
        }
        return out;
    }

    /** The bytes {@code strings} take, NULs included; a null array or entry takes none. */
    static int length(byte[]... strings) {
        int total = 0;
        if (strings != null) {
            for (byte[] s : strings) {
                total += s == null ? 0 : s.length;
            }
        }
        return total;
    }

    private static Charset fileNameCharset() {
        String name = System.getProperty("sun.jnu.encoding");
        try {
            return name == null ? StandardCharsets.UTF_8 : Charset.forName(name);
        } catch (RuntimeException e) {
            return StandardCharsets.UTF_8;
        }
    }
}
