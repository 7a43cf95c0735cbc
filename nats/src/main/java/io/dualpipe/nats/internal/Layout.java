package io.dualpipe.nats.internal;

import io.dualpipe.core.InvalidArgumentException;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.api.AckPolicy;
import io.nats.client.api.ConsumerConfiguration;
import io.nats.client.api.ConsumerInfo;
import io.nats.client.api.DiscardPolicy;
import io.nats.client.api.RetentionPolicy;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;

import java.io.IOException;
import java.time.Duration;
import java.util.regex.Pattern;

/**
 * The subjects, streams and consumer of one distributed pool, named from the pool's name, and the
 * idempotent set-up both sides run: whichever side starts first creates them, the other finds them
 * (an existing stream or consumer is used as it is, so the first side's limits win).
 *
 * <pre>
 * dualpipe.NAME.tasks            stream DUALPIPE_NAME (work queue, file): one message per task
 *   consumer "agents"            durable pull consumer every agent pulls from
 * dualpipe.NAME.results.SUBMITTER stream DUALPIPE_NAME_RESULTS (interest, file): results, one
 *                                durable consumer per submitter filtered on its own subject
 * dualpipe.NAME.control          core NATS: broadcasts and DIE, to every agent
 * dualpipe.NAME.progress.AGENT   core NATS: envelopes workers send on their own (progress)
 * </pre>
 *
 * Immutable, thread-safe.
 */
public final class Layout {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_-]{1,64}");
    /** JetStream's "stream not found" and "consumer not found" API error codes. */
    private static final int STREAM_NOT_FOUND = 10059;
    private static final int CONSUMER_NOT_FOUND = 10014;
    public static final String AGENTS_CONSUMER = "agents";

    private final String pool;

    public Layout(String pool) {
        InvalidArgumentException.requireNonNull("pool", pool);
        if (!NAME.matcher(pool).matches()) {
            throw new InvalidArgumentException("pool \"" + pool + "\" is not a valid name: use 1 to 64 of A-Z a-z 0-9 _ -"
                    + " (it names NATS subjects and JetStream streams)");
        }
        this.pool = pool;
    }

    public String pool() {
        return pool;
    }

    public String taskStream() {
        return "DUALPIPE_" + pool;
    }

    public String resultStream() {
        return "DUALPIPE_" + pool + "_RESULTS";
    }

    public String tasksSubject() {
        return "dualpipe." + pool + ".tasks";
    }

    public String resultsSubject(String submitter) {
        return "dualpipe." + pool + ".results." + submitter;
    }

    public String controlSubject() {
        return "dualpipe." + pool + ".control";
    }

    public String progressSubject(String agent) {
        return "dualpipe." + pool + ".progress." + agent;
    }

    public String progressWildcard() {
        return "dualpipe." + pool + ".progress.>";
    }

    /**
     * Creates the task stream, the result stream and the agents' consumer unless they exist; returns
     * the task stream's configuration as the server has it (another side's limits if it came first).
     */
    public StreamConfiguration ensure(JetStreamManagement jsm, Limits limits) throws IOException, JetStreamApiException {
        StreamConfiguration tasks = ensureStream(jsm, StreamConfiguration.builder()
                .name(taskStream())
                .subjects(tasksSubject())
                .retentionPolicy(RetentionPolicy.WorkQueue)
                .storageType(StorageType.File)
                .discardPolicy(DiscardPolicy.New) // a full stream refuses the task: the submitter sees saturation
                .maxMessages(limits.maxQueued())
                .maxBytes(limits.maxBytes())
                .duplicateWindow(limits.duplicateWindow())
                .build());
        ensureStream(jsm, StreamConfiguration.builder()
                .name(resultStream())
                .subjects("dualpipe." + pool + ".results.>")
                // a result is kept while its submitter's consumer has not acknowledged it, and dropped
                // at once when that submitter is gone (its consumer deleted)
                .retentionPolicy(RetentionPolicy.Interest)
                .storageType(StorageType.File)
                .discardPolicy(DiscardPolicy.New)
                .maxBytes(limits.maxBytes())
                .maxAge(limits.resultMaxAge())
                .duplicateWindow(limits.duplicateWindow())
                .build());
        try {
            jsm.getConsumerInfo(taskStream(), AGENTS_CONSUMER);
        } catch (JetStreamApiException e) {
            if (e.getApiErrorCode() != CONSUMER_NOT_FOUND) {
                throw e;
            }
            jsm.addOrUpdateConsumer(taskStream(), ConsumerConfiguration.builder()
                    .durable(AGENTS_CONSUMER)
                    .ackPolicy(AckPolicy.Explicit)
                    .ackWait(limits.ackWait())
                    // one delivery more than the user's bound: the extra one only fails the task, typed,
                    // for a task whose last holder died (a SIGKILLed agent) before it could say so
                    .maxDeliver(limits.maxDeliver() + 1L)
                    .maxAckPending(limits.maxAckPending())
                    .build());
        }
        return tasks;
    }

    /** The agents' consumer as the server has it (its ack wait and max deliver may come from another side). */
    public ConsumerInfo agentsConsumer(JetStreamManagement jsm) throws IOException, JetStreamApiException {
        return jsm.getConsumerInfo(taskStream(), AGENTS_CONSUMER);
    }

    private static StreamConfiguration ensureStream(JetStreamManagement jsm, StreamConfiguration config) throws IOException, JetStreamApiException {
        try {
            return jsm.getStreamInfo(config.getName()).getConfiguration();
        } catch (JetStreamApiException e) {
            if (e.getApiErrorCode() != STREAM_NOT_FOUND) {
                throw e;
            }
            return jsm.addStream(config).getConfiguration(); // identical configs race harmlessly: the server answers both with the stream
        }
    }

    /** The limits of a task stream, named as the builders name them: {@code "maxQueued 5, maxBytes 1024"}. */
    public static String describeLimits(StreamConfiguration tasks) {
        return "maxQueued " + tasks.getMaxMsgs() + ", maxBytes " + tasks.getMaxBytes();
    }

    /** The limits a side creates the streams and consumer with, when it is the first. */
    public record Limits(long maxQueued, long maxBytes, Duration ackWait, int maxDeliver, long maxAckPending,
                         Duration duplicateWindow, Duration resultMaxAge) {
    }
}
