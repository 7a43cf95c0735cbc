package io.dualpipe.nats;

import io.dualpipe.core.EventLoop;
import io.dualpipe.process.ChildProcess;
import io.dualpipe.process.ExitStatus;
import io.dualpipe.process.JavaChild;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A {@link NatsAgentMain} in a JVM of its own, spawned with the library's {@link JavaChild}, with Python workers. */
final class AgentProcess implements AutoCloseable {
    final ChildProcess child;
    final String name;
    final List<Long> workerPids = new ArrayList<>();

    private AgentProcess(ChildProcess child, String name) {
        this.child = child;
        this.name = name;
    }

    static AgentProcess start(EventLoop loop, String url, String pool, String name, int workers, Path script, String... extra) throws Exception {
        List<String> args = new ArrayList<>(List.of("--server", url, "--pool", pool, "--name", name, "--workers", Integer.toString(workers)));
        args.addAll(Arrays.asList(extra));
        args.addAll(List.of("--", "python3", script.toString()));
        ChildProcess child = JavaChild.of(NatsAgentMain.class).jvmOptions("-Xmx96m", "-XX:TieredStopAtLevel=1", "-Xshare:auto")
                .args(args.toArray(String[]::new)).processBuilder().stderr(io.dualpipe.process.StderrMode.INHERIT).loop(loop).start();
        AgentProcess a = new AgentProcess(child, name);
        try {
            String line = child.readLine().get(60, TimeUnit.SECONDS);
            if (line == null || !line.startsWith("READY " + name)) {
                throw new IllegalStateException("agent " + name + " said " + line);
            }
            for (String p : line.substring(line.indexOf("pids=") + 5).split(",")) {
                a.workerPids.add(Long.parseLong(p));
            }
        } catch (Exception e) {
            child.close();
            throw e;
        }
        return a;
    }

    ExitStatus awaitExit() throws Exception {
        return child.onExit().get(60, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
        child.close();
    }
}
