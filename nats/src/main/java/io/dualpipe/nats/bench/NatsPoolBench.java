package io.dualpipe.nats.bench;

import io.dualpipe.core.EventLoop;
import io.dualpipe.nats.NatsAgentMain;
import io.dualpipe.nats.NatsWorkerPool;
import io.dualpipe.process.ChildProcess;
import io.dualpipe.process.JavaChild;
import io.dualpipe.process.StderrMode;
import io.dualpipe.worker.WorkerPool;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;

/**
 * Tasks/s and per-task latency (p50/p99) of the local {@link WorkerPool} and of the
 * {@link NatsWorkerPool} with one and with two agents (JVMs of their own) on this machine, in one run.
 * Every pool has 2 Python workers per pool or agent; tasks square a number; {@code CONCURRENCY} tasks
 * are outstanding at any time (a closed loop), so latency is a task's whole trip, queueing included.
 * Starts its own nats-server (JetStream, temporary store) on a free loopback port.
 *
 * <pre>mvn -q -pl nats -am -DskipTests package exec:exec [-Dargs="TASKS CONCURRENCY"]</pre>
 */
public final class NatsPoolBench {
    private static final String WORKER = String.join("\n",
            "import json, os, struct, sys",
            "inp, out = sys.stdin.buffer, sys.stdout.buffer",
            "H = struct.Struct('>BBII')",
            "def read(n):",
            "    b = b''",
            "    while len(b) < n:",
            "        c = inp.read(n - len(b))",
            "        if not c: return None",
            "        b += c",
            "    return b",
            "while True:",
            "    h = read(H.size)",
            "    if h is None: break",
            "    t, f, rid, n = H.unpack(h)",
            "    req, sender, _, data = json.loads(read(n))",
            "    if req == 'DIE': break",
            "    if req == 'DO':",
            "        body = json.dumps(['FINISHED', os.getpid(), sender, data * data]).encode()",
            "        out.write(H.pack(4, 2, rid, len(body)) + body); out.flush()",
            "");

    private NatsPoolBench() {
    }

    /**
     * Runs the three measurements and prints one line each.
     *
     * @param args {@code [TASKS [CONCURRENCY]]}, default 3000 and 16
     * @throws Exception when a pool, an agent or nats-server fails or times out
     */
    public static void main(String[] args) throws Exception {
        int tasks = args.length > 0 ? Integer.parseInt(args[0]) : 3_000;
        int concurrency = args.length > 1 ? Integer.parseInt(args[1]) : 16;
        Path dir = Files.createTempDirectory("nats-bench");
        Path script = dir.resolve("square.py");
        Files.writeString(script, WORKER);
        System.out.printf("%d tasks, %d outstanding, 2 Python workers per pool/agent, %d cores, load %.1f%n",
                tasks, concurrency, Runtime.getRuntime().availableProcessors(),
                java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        try (EventLoop loop = EventLoop.create("bench")) {
            WorkerPool local = WorkerPool.builder(() -> ChildProcess.builder("python3", script.toString())).workers(2).loop(loop).start();
            run("local WorkerPool", tasks, concurrency, i -> local.submit(i));
            local.shutdown().get(30, TimeUnit.SECONDS);

            int port;
            try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                port = s.getLocalPort();
            }
            Process server = new ProcessBuilder(natsServer(), "-js", "-sd", dir.resolve("store").toString(), "-a", "127.0.0.1", "-p", Integer.toString(port))
                    .redirectErrorStream(true).start();
            try {
                awaitReady(server);
                String url = "nats://127.0.0.1:" + port;
                for (int agents = 1; agents <= 2; agents++) {
                    String pool = "bench" + agents;
                    try (NatsWorkerPool dist = NatsWorkerPool.builder().server(url).pool(pool).start()) {
                        List<ChildProcess> started = new ArrayList<>();
                        for (int a = 0; a < agents; a++) {
                            ChildProcess agent = JavaChild.of(NatsAgentMain.class)
                                    .args("--server", url, "--pool", pool, "--name", "a" + a, "--workers", "2", "--", "python3", script.toString())
                                    .processBuilder().stderr(StderrMode.INHERIT).loop(loop).start();
                            String ready = agent.readLine().get(120, TimeUnit.SECONDS);
                            if (ready == null || !ready.startsWith("READY")) {
                                throw new IllegalStateException("agent said " + ready);
                            }
                            started.add(agent);
                        }
                        run("NatsWorkerPool, " + agents + " agent" + (agents > 1 ? "s" : ""), tasks, concurrency, dist::submit);
                        dist.shutdown().get(30, TimeUnit.SECONDS);
                        for (ChildProcess agent : started) {
                            agent.onExit().get(60, TimeUnit.SECONDS);
                        }
                    }
                }
            } finally {
                server.destroy();
                server.waitFor(20, TimeUnit.SECONDS);
            }
        }
    }

    private static void run(String name, int tasks, int concurrency, IntFunction<CompletableFuture<Object>> submit) throws Exception {
        int warm = Math.min(200, tasks / 10);
        measure(warm, concurrency, submit); // JIT, connections, the workers' first pages
        long[] lat = new long[tasks];
        long t0 = System.nanoTime();
        measure(tasks, concurrency, submit, lat);
        double secs = (System.nanoTime() - t0) / 1e9;
        Arrays.sort(lat);
        System.out.printf("%-28s %8.0f tasks/s   p50 %7.2f ms   p99 %7.2f ms   max %7.2f ms%n", name, tasks / secs,
                lat[tasks / 2] / 1e6, lat[(int) Math.min(tasks - 1, Math.ceil(tasks * 0.99) - 1)] / 1e6, lat[tasks - 1] / 1e6);
    }

    private static void measure(int tasks, int concurrency, IntFunction<CompletableFuture<Object>> submit, long... latencies) throws Exception {
        Semaphore room = new Semaphore(concurrency);
        List<CompletableFuture<Object>> all = new ArrayList<>(tasks);
        for (int i = 0; i < tasks; i++) {
            if (!room.tryAcquire(60, TimeUnit.SECONDS)) {
                throw new IllegalStateException("no task completed in 60 s");
            }
            int n = i;
            long start = System.nanoTime();
            CompletableFuture<Object> f = submit.apply(i);
            f.whenComplete((v, e) -> {
                if (latencies.length > 0) {
                    latencies[n] = System.nanoTime() - start;
                }
                room.release();
            });
            all.add(f);
        }
        CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(120, TimeUnit.SECONDS);
        for (int i = 0; i < tasks; i++) {
            if (((Number) all.get(i).join()).longValue() != (long) i * i) {
                throw new IllegalStateException("wrong result for " + i + ": " + all.get(i).join());
            }
        }
    }

    private static String natsServer() {
        for (String p : new String[] {"/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"}) {
            if (Files.isExecutable(Path.of(p))) {
                return p;
            }
        }
        return "nats-server";
    }

    private static void awaitReady(Process server) throws Exception {
        CompletableFuture<Void> ready = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    if (line.contains("Server is ready")) {
                        ready.complete(null);
                    }
                }
            } catch (java.io.IOException ignored) {
                // the server went away
            }
            ready.completeExceptionally(new IllegalStateException("nats-server ended before it was ready"));
        }, "nats-server-log");
        t.setDaemon(true);
        t.start();
        ready.get(30, TimeUnit.SECONDS);
    }
}
