package io.dualpipe.nats;

import io.dualpipe.process.ChildProcess;
import io.dualpipe.process.ChildProcessBuilder;
import io.dualpipe.process.JavaChild;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Runs a {@link NatsAgent} until DIE (or SIGTERM, which drains it too):
 *
 * <pre>
 * java -cp ... io.dualpipe.nats.NatsAgentMain --server nats://HOST:4222 --pool work --workers 8 \
 *      [--name NAME] [--in-flight 1] [--ack-wait-ms 30000] [--max-deliver 3] \
 *      (--java com.example.MyWorker | -- python3 worker.py ARGS...)
 * </pre>
 *
 * Prints {@code READY NAME pids=P1,P2,...} on stdout once it pulls, and {@code DRAINED NAME exits=[...]}
 * before it exits 0. Usage errors exit 2.
 */
public final class NatsAgentMain {
    private NatsAgentMain() {
    }

    /**
     * Parses the command line, starts the agent and waits until it has drained.
     *
     * @param args the options above
     * @throws Exception what starting or running the agent throws, e.g. a
     *         {@link StreamUnavailableException} when NATS cannot be reached
     */
    public static void main(String[] args) throws Exception {
        NatsAgent.Builder b;
        try {
            b = parse(args);
        } catch (IllegalArgumentException | io.dualpipe.core.InvalidArgumentException e) {
            System.err.println("NatsAgentMain: " + e.getMessage());
            System.err.println("usage: NatsAgentMain --server URL --pool NAME --workers N [--name NAME] [--in-flight N]"
                    + " [--ack-wait-ms MS] [--max-deliver N] (--java MAIN_CLASS | -- COMMAND ARGS...)");
            System.exit(2);
            return;
        }
        NatsAgent agent = b.start();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                agent.drain().get(30, TimeUnit.SECONDS);
            } catch (Exception e) {
                agent.close();
            }
        }, "dualpipe-agent-sigterm"));
        System.out.println("READY " + agent.name() + " pids=" + String.join(",", agent.workerPids().stream().map(String::valueOf).toList()));
        System.out.flush();
        var exits = agent.terminated().get();
        System.out.println("DRAINED " + agent.name() + " exits=" + exits);
        System.out.flush();
        System.exit(0);
    }

    static NatsAgent.Builder parse(String[] args) {
        Supplier<ChildProcessBuilder> worker = null;
        String server = null;
        String pool = null;
        String name = null;
        int workers = Runtime.getRuntime().availableProcessors();
        int inFlight = 1;
        Long ackWait = null;
        Integer maxDeliver = null;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--")) {
                List<String> command = new ArrayList<>(Arrays.asList(args).subList(i + 1, args.length));
                if (command.isEmpty()) {
                    throw new IllegalArgumentException("-- must be followed by the worker's command");
                }
                worker = () -> ChildProcess.builder(command);
                break;
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(a + " needs a value");
            }
            String v = args[++i];
            switch (a) {
                case "--server" -> server = v;
                case "--pool" -> pool = v;
                case "--name" -> name = v;
                case "--workers" -> workers = Integer.parseInt(v);
                case "--in-flight" -> inFlight = Integer.parseInt(v);
                case "--ack-wait-ms" -> ackWait = Long.parseLong(v);
                case "--max-deliver" -> maxDeliver = Integer.parseInt(v);
                case "--java" -> {
                    Class<?> main;
                    try {
                        main = Class.forName(v);
                    } catch (ClassNotFoundException e) {
                        throw new IllegalArgumentException("--java " + v + ": no such class on the class path");
                    }
                    worker = () -> JavaChild.builder(main);
                }
                default -> throw new IllegalArgumentException("unknown option " + a);
            }
        }
        if (worker == null) {
            throw new IllegalArgumentException("no worker: give --java MAIN_CLASS or -- COMMAND ARGS...");
        }
        NatsAgent.Builder b = NatsAgent.builder(worker).workers(workers).maxInFlightPerWorker(inFlight);
        if (server != null) {
            b.server(server);
        }
        if (pool != null) {
            b.pool(pool);
        }
        if (name != null) {
            b.name(name);
        }
        if (ackWait != null) {
            b.ackWait(Duration.ofMillis(ackWait));
        }
        if (maxDeliver != null) {
            b.maxDeliver(maxDeliver);
        }
        return b;
    }
}
