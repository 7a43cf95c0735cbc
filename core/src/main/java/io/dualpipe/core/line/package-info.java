/**
 * Lines: a {@link io.dualpipe.core.line.LineDecoder} that splits bytes into bounded lines, a
 * {@link io.dualpipe.core.line.LineReader} that reads them from a {@link io.dualpipe.core.ByteSource}
 * with backpressure, and {@link io.dualpipe.core.line.Conversation}, request and reply in lines,
 * paired in FIFO order or by id, which fails rather than hand a reply to the wrong request.
 *
 * <p>Threading, in short: readers and conversations may be called from any thread; their futures
 * complete, and listeners run, on the source's loop thread.
 */
package io.dualpipe.core.line;
