package io.dualpipe.worker;

import com.fasterxml.jackson.databind.util.RawValue;
import io.dualpipe.core.codec.EncodeException;
import io.dualpipe.core.codec.Frames;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Serialises the payloads of a {@link WorkerPool}'s tasks and envelopes, on the caller's thread,
 * and checks each against the frame limit with the longest pids its envelope can carry, so that a
 * payload that cannot be sent fails before it takes a place in the queue rather than when a worker
 * is free.
 *
 * <p><b>Threading.</b> Immutable once built: any thread may call {@link #encode} at once.
 *
 * <p><b>Buffers.</b> The caller's object is only read, during {@code encode}; the value returned is
 * a new immutable copy, so the caller may change its object afterwards without changing the task.
 */
final class PayloadEncoder {
    /** The bytes of {@code ["DO",PID,PID,DATA]} other than the request, the pids and the data, for the frame-size check. */
    private static final int ENVELOPE_PUNCTUATION = "[,,,]".length();

    private final long parentPid;
    private final int maxPidDigits;

    /** For a pool of parent {@code parentPid} whose first workers are {@code started}. */
    PayloadEncoder(long parentPid, List<Slot> started) {
        this.parentPid = parentPid;
        // a replacement's pid can be longer than the first workers': leave room for the longest there is
        this.maxPidDigits = Math.max(Long.toString(maxPid()).length(),
                started.stream().mapToInt(s -> Integer.toString(s.child.pid()).length()).max().orElse(1));
    }

    private static long maxPid() {
        try {
            return Long.parseLong(java.nio.file.Files.readString(java.nio.file.Path.of("/proc/sys/kernel/pid_max")).strip());
        } catch (java.io.IOException | RuntimeException e) {
            return 4_194_304L; // Linux's ceiling; macOS pids are smaller
        }
    }

    /**
     * The payload of a {@code request} envelope as JSON.
     *
     * @throws EncodeException if JSON cannot carry {@code data}, or the envelope would be too big for a frame
     */
    RawValue encode(String request, Object data) {
        byte[] json = EnvelopeCodec.payloadJson(request, data);
        int word = EnvelopeCodec.payloadJson(request, request).length; // the request as a JSON string, escapes included
        long body = (long) ENVELOPE_PUNCTUATION + word + Long.toString(parentPid).length() + maxPidDigits + json.length;
        if (body > Frames.DEFAULT_MAX_FRAME_SIZE) {
            throw new EncodeException(EnvelopeCodec.TYPE, "envelope " + request + ": payload of " + json.length
                    + " bytes makes an envelope of " + body + " bytes > maxFrameSize " + Frames.DEFAULT_MAX_FRAME_SIZE);
        }
        return new RawValue(new String(json, StandardCharsets.UTF_8));
    }
}
