package io.dualpipe.nats;

import io.dualpipe.core.DualPipeException;

/**
 * A task of a {@link NatsWorkerPool} was given to a worker {@code maxDeliver} times and each time
 * its worker (or the agent holding it) died before answering: it is a poison task, and JetStream
 * was told to drop it ({@code term}). The message names the task id, the deliveries and the last
 * failure an agent saw.
 */
public class TaskFailedException extends DualPipeException {
    private static final long serialVersionUID = 1L;
    /** The task's id. */
    private final String taskId;
    /** How many times JetStream delivered it. */
    private final long deliveries;

    /**
     * @param taskId     the task's id, as {@link NatsWorkerPool} gave it
     * @param deliveries how many times JetStream delivered the task
     * @param message    the task, its deliveries and the last failure an agent saw
     */
    public TaskFailedException(String taskId, long deliveries, String message) {
        super(message);
        this.taskId = taskId;
        this.deliveries = deliveries;
    }

    /** {@return the task's id, as {@link NatsWorkerPool} gave it} */
    public String taskId() {
        return taskId;
    }

    /** {@return how many times JetStream delivered the task} */
    public long deliveries() {
        return deliveries;
    }
}
