package io.dualpipe.core.codec;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.MissingDependencyException;
import io.dualpipe.core.internal.Jackson;

import java.util.List;

/**
 * The built-in codecs and the type bytes they own.
 *
 * <table>
 *   <caption>Type bytes</caption>
 *   <tr><td>0x00</td><td>reserved; never registered</td></tr>
 *   <tr><td>0x01</td><td>{@link #bytes()}: {@code byte[]}, the body as is</td></tr>
 *   <tr><td>0x02</td><td>{@link #utf8()}: {@code String}, strict UTF-8</td></tr>
 *   <tr><td>0x03</td><td>{@link #json()}: a JSON value as Map, List, String, Number, Boolean or null</td></tr>
 *   <tr><td>0x04</td><td>{@link #WORKER_ENVELOPE}: taken by the worker pools' envelopes
 *       ({@code io.dualpipe.worker.EnvelopeCodec} in the transport module), never a built-in</td></tr>
 *   <tr><td>0x05–0x0F</td><td>reserved for future built-ins</td></tr>
 *   <tr><td>0x10–0xFF</td><td>free for applications, e.g. {@link #json(int, Class)}</td></tr>
 * </table>
 *
 * All codecs returned here are immutable and thread-safe.
 *
 * <p>The JSON codecs need Jackson ({@code com.fasterxml.jackson.core:jackson-databind}), an optional
 * dependency that the application adds. Without it, {@link #json(int, Class)} throws a
 * {@link MissingDependencyException}, and the built-in {@link #json()} (which {@link #builtins()}
 * holds, so that byte and text messages need no Jackson) fails each JSON message it is given with
 * an {@link EncodeException} or {@link DecodeException} caused by one.
 */
public final class Codecs {
    /** 0x00: reserved, never registered. */
    public static final int RESERVED = 0x00;
    /** 0x01: {@link #bytes()}. */
    public static final int BYTES = 0x01;
    /** 0x02: {@link #utf8()}. */
    public static final int UTF8 = 0x02;
    /** 0x03: {@link #json()}. */
    public static final int JSON = 0x03;
    /**
     * 0x04: the worker pools' envelopes. Not a built-in here, but registered beside the built-ins by
     * every pool and worker, and Python workers write this byte, so no future built-in may take it.
     */
    public static final int WORKER_ENVELOPE = 0x04;
    /** The first type byte that is the application's: 0x10. */
    public static final int FIRST_USER_TYPE = 0x10;

    private Codecs() {
    }

    /** {@return type 0x01, {@code byte[]}: the body is the bytes; encoding copies the array} */
    public static MessageCodec<byte[]> bytes() {
        return BytesCodec.INSTANCE;
    }

    /**
     * Type 0x02, {@code String}: the body is UTF-8. Malformed input is a {@link DecodeException} and
     * an unpaired surrogate an {@link EncodeException}, never a silent replacement.
     *
     * @return the codec
     */
    public static MessageCodec<String> utf8() {
        return Utf8Codec.INSTANCE;
    }

    /**
     * Type 0x03, any JSON value: decodes objects to {@code LinkedHashMap}, arrays to
     * {@code ArrayList}, and scalars to {@code String}, {@code Integer}/{@code Long}/{@code BigInteger},
     * {@code Double}, {@code Boolean} or {@code null}; encodes whatever a default Jackson
     * {@link ObjectMapper} can serialise.
     *
     * @return the codec
     */
    public static MessageCodec<Object> json() {
        return JsonCodec.ANY;
    }

    /**
     * A JSON codec for the application's own class, with a default {@link ObjectMapper}.
     *
     * @param <T>      the message class
     * @param type     the type byte, {@link #FIRST_USER_TYPE} (0x10) to 0xFF for the application's
     * @param javaType the message class
     * @return the codec
     * @throws InvalidArgumentException if {@code type} is outside 0..255 or {@code javaType} is null
     * @throws MissingDependencyException if Jackson is not on the class path
     */
    public static <T> MessageCodec<T> json(int type, Class<T> javaType) {
        checkType(type);
        InvalidArgumentException.requireNonNull("javaType", javaType);
        Jackson.require("Codecs.json(0x" + Integer.toHexString(type) + ", " + javaType.getSimpleName() + ")");
        return new JsonCodec<>(type, javaType, null);
    }

    /**
     * A JSON codec for the application's own class with the application's mapper, which must not be
     * reconfigured afterwards (Jackson's own rule for sharing one between threads).
     *
     * @param <T>      the message class
     * @param type     the type byte, {@link #FIRST_USER_TYPE} (0x10) to 0xFF for the application's
     * @param javaType the message class
     * @param mapper   the mapper to read and write with
     * @return the codec
     * @throws InvalidArgumentException if {@code type} is outside 0..255, or an argument is null
     */
    public static <T> MessageCodec<T> json(int type, Class<T> javaType, ObjectMapper mapper) {
        checkType(type);
        InvalidArgumentException.requireNonNull("javaType", javaType);
        InvalidArgumentException.requireNonNull("mapper", mapper);
        return new JsonCodec<>(type, javaType, mapper);
    }

    private static void checkType(int type) {
        if (type < 0 || type > 0xff) {
            throw new InvalidArgumentException("type not in 0..255: " + type);
        }
    }

    /**
     * {@return {@link #bytes()}, {@link #utf8()} and {@link #json()}, for
     * {@link CodecRegistry.Builder#registerAll}}
     */
    public static List<MessageCodec<?>> builtins() {
        return List.of(bytes(), utf8(), json());
    }
}
