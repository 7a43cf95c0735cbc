/**
 * Frames and codecs: the frame header of {@code docs/wire-format.md} ({@link io.dualpipe.core.codec.Frames}),
 * a {@link io.dualpipe.core.codec.FrameDecoder} that cuts a byte stream into frames, and the
 * {@link io.dualpipe.core.codec.MessageCodec}s, collected in a
 * {@link io.dualpipe.core.codec.CodecRegistry}, that turn bodies into messages and back by type byte.
 *
 * <p>The built-in codecs ({@link io.dualpipe.core.codec.Codecs}) carry bytes, UTF-8 text and JSON;
 * the JSON ones need Jackson, an optional dependency. Registries and codecs are immutable and
 * thread-safe; a decoder serves one stream from one thread.
 */
package io.dualpipe.core.codec;
