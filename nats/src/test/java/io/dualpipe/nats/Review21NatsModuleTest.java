package io.dualpipe.nats;

import io.dualpipe.process.ChildProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Review 21, adversarial: the nats module (io.dualpipe.nats, to which core exports its internal
 * package) on the module path and on the class path, the bench on the class path, and the threads
 * of a pool and an agent (SubmitterLink, AgentThreads) after close.
 */
class Review21NatsModuleTest {

    /** This JVM's class path and module path entries, the test-only ones (JUnit, Surefire, test classes) left out. */
    private static List<String> runtimeEntries() {
        Set<String> out = new LinkedHashSet<>();
        for (String prop : new String[] {"jdk.module.path", "java.class.path"}) {
            String v = System.getProperty(prop);
            if (v == null) {
                continue;
            }
            for (String e : v.split(File.pathSeparator)) {
                String name = Path.of(e).getFileName() == null ? e : Path.of(e).getFileName().toString();
                if (e.isEmpty() || e.contains("test-classes") || name.startsWith("junit") || name.startsWith("opentest4j")
                        || name.startsWith("apiguardian") || name.contains("surefire")) {
                    continue;
                }
                out.add(e);
            }
        }
        return new ArrayList<>(out);
    }

    private static String testClasses() {
        return Path.of("target", "test-classes").toAbsolutePath().toString();
    }

    private static String run(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(150, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("child JVM did not exit: " + cmd + "\n" + out);
        }
        assertEquals(0, p.exitValue(), cmd + "\n" + out);
        return out;
    }

    private static List<String> java() {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-XX:TieredStopAtLevel=1"));
        if (Runtime.version().feature() >= 22) {
            cmd.add("--enable-native-access=ALL-UNNAMED,jffi");
        }
        return cmd;
    }

    private static String line(String out) {
        return out.lines().filter(l -> l.startsWith("R21 ")).findFirst().orElseThrow(() -> new AssertionError(out));
    }

    /** On the module path: the pool and agent run a task (ResultReader's LogLimiter is core.internal's), and leave no thread. */
    @Test
    @Timeout(200)
    void onTheModulePathAPoolAndAnAgentRunATask(@TempDir Path dir) throws Exception {
        try (NatsServer nats = NatsServer.start(dir)) {
            List<String> cmd = java();
            cmd.addAll(List.of("--module-path", String.join(File.pathSeparator, runtimeEntries()), "--add-modules", "io.dualpipe.nats",
                    "-cp", testClasses(), "io.dualpipe.review21.Review21NatsModuleProbeTest", nats.url(), Fixtures.script().toString()));
            String out = run(cmd);
            assertEquals("R21 io.dualpipe.nats 49 0 []", line(out), out);
        }
    }

    /** On the class path (the usual way): the same, the module name null (unnamed). */
    @Test
    @Timeout(200)
    void onTheClassPathAPoolAndAnAgentRunATask(@TempDir Path dir) throws Exception {
        try (NatsServer nats = NatsServer.start(dir)) {
            List<String> cp = new ArrayList<>(runtimeEntries());
            cp.add(testClasses());
            List<String> cmd = java();
            cmd.addAll(List.of("-cp", String.join(File.pathSeparator, cp), "io.dualpipe.review21.Review21NatsModuleProbeTest", nats.url(),
                    Fixtures.script().toString()));
            String out = run(cmd);
            assertEquals("R21 null 49 0 []", line(out), out);
        }
    }

    /** nats.bench (the exec:exec program) still starts and runs a few tasks on the class path. */
    @Test
    @Timeout(300)
    void theBenchRunsOnTheClassPath() throws Exception {
        Path tmp = Files.createTempDirectory("r21-bench");
        try {
            List<String> cmd = java();
            List<String> cp = new ArrayList<>(runtimeEntries());
            cp.add(testClasses()); // as exec:exec runs it (classpathScope test): the tests' logback configuration keeps DEBUG off stdout
            cmd.addAll(List.of("-Djava.io.tmpdir=" + tmp, "-cp", String.join(File.pathSeparator, cp),
                    "io.dualpipe.nats.bench.NatsPoolBench", "40", "4"));
            String out = run(cmd);
            assertTrue(out.contains("local WorkerPool"), out);
            assertTrue(out.contains("NatsWorkerPool, 1 agent "), out);
            assertTrue(out.contains("NatsWorkerPool, 2 agents"), out);
        } finally {
            try (var s = Files.walk(tmp)) {
                s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /**
     * close() means to delete the submitter's durable result consumer and purge its late results
     * (ResultReader.unsubscribe), but the consumer's subscription belongs to a dispatcher, whose
     * subscriptions refuse unsubscribe() (IllegalStateException, logged at DEBUG only): the consumer
     * stays on the server until its inactive threshold, and late results are never purged.
     */
    @Test
    @Timeout(120)
    void closeDeletesTheSubmittersResultConsumer(@TempDir Path dir) throws Exception {
        try (NatsServer nats = NatsServer.start(dir)) {
            String stream = new io.dualpipe.nats.internal.Layout("r21del").resultStream();
            try (NatsWorkerPool pool = NatsWorkerPool.builder().server(nats.url()).pool("r21del").start()) {
                try (io.nats.client.Connection c = io.nats.client.Nats.connect(nats.url())) {
                    assertEquals(1, c.jetStreamManagement().getConsumerNames(stream).size(), "the submitter's consumer while it runs");
                }
            }
            try (io.nats.client.Connection c = io.nats.client.Nats.connect(nats.url())) {
                List<String> left = c.jetStreamManagement().getConsumerNames(stream);
                assertEquals(List.of(), left, "consumers of " + stream + " after close()");
            }
        }
    }

    /** In this JVM: after close, the submitter's timer thread and the agent's two threads are gone, under their names. */
    @Test
    @Timeout(120)
    void closeLeavesNoThreadOfThePoolOrTheAgent(@TempDir Path dir) throws Exception {
        try (NatsServer nats = NatsServer.start(dir)) {
            for (int round = 0; round < 3; round++) {
                String name = "r21thr" + round;
                try (NatsWorkerPool pool = NatsWorkerPool.builder().server(nats.url()).pool(name).start();
                     NatsAgent agent = NatsAgent.builder(() -> ChildProcess.builder("python3", Fixtures.script().toString()))
                             .server(nats.url()).pool(name).name(name).workers(1).start()) {
                    assertEquals(49, ((Number) pool.submit(7).get(60, TimeUnit.SECONDS)).intValue());
                    assertTrue(!Fixtures.threads("dualpipe-agent-" + name + "-results").isEmpty(), "the results thread is named after the agent");
                }
                Fixtures.await("agent " + name + "'s threads end", () -> Fixtures.threads("dualpipe-agent-" + name + "-").isEmpty());
            }
            Fixtures.await("submitter threads end", () -> Fixtures.threads("dualpipe-nats-submitter-").isEmpty());
        }
    }
}
