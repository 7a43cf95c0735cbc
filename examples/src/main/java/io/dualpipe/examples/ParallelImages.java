package io.dualpipe.examples;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.codec.CodecRegistry;
import io.dualpipe.core.codec.Codecs;
import io.dualpipe.core.message.MessageChannel;
import io.dualpipe.process.ChildProcess;
import io.dualpipe.process.ExitStatus;
import io.dualpipe.process.JavaChild;
import io.dualpipe.process.StderrMode;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Parallel data processing with binary payloads: several {@link ImageWorker} child JVMs blur images
 * sent as {@code bytes} frames. One event-loop thread serves every child's pipes; the requests are
 * all in flight at once and the parent checks each result against its own computation.
 *
 * <pre>mvn -q -pl examples -am -DskipTests package exec:exec -Dmain=io.dualpipe.examples.ParallelImages</pre>
 */
public final class ParallelImages {
    private ParallelImages() {
    }

    public static void main(String[] args) throws Exception {
        run(System.out, 4, 16, 256);
    }

    /** Blurs {@code images} random images of {@code side}² pixels on {@code workers} children; returns how many matched. */
    static int run(PrintStream out, int workers, int images, int side) throws Exception {
        CodecRegistry codecs = CodecRegistry.builder().registerAll(Codecs.builtins()).build();
        try (EventLoop loop = EventLoop.create("images")) { // closing it kills any child left behind
            List<ChildProcess> children = new ArrayList<>();
            List<MessageChannel> peers = new ArrayList<>();
            for (int i = 0; i < workers; i++) {
                ChildProcess c = JavaChild.builder(ImageWorker.class).stderr(StderrMode.INHERIT).loop(loop).start();
                children.add(c);
                peers.add(MessageChannel.over(c.stdout(), c.stdin(), codecs)); // frames over the child's stdio
            }
            out.println("started " + workers + " ImageWorker JVMs; sending " + images + " images of "
                    + side + "x" + side + " bytes");

            Random random = new Random(42);
            List<byte[]> inputs = new ArrayList<>();
            List<LoopFuture<Object>> results = new ArrayList<>();
            long t0 = System.nanoTime();
            for (int i = 0; i < images; i++) {
                byte[] image = new byte[side * side];
                random.nextBytes(image);
                inputs.add(image);
                results.add(peers.get(i % workers).request(Codecs.BYTES, image, Object.class, null)); // round robin, all in flight
            }
            CompletableFuture.allOf(results.toArray(new CompletableFuture<?>[0])).get(60, TimeUnit.SECONDS);
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);

            int ok = 0;
            for (int i = 0; i < images; i++) {
                if (Arrays.equals(ImageWorker.blur(inputs.get(i)), (byte[]) results.get(i).get())) {
                    ok++;
                }
            }
            out.println(ok + " of " + images + " blurred images match the parent's own result (" + ms + " ms)");

            for (MessageChannel peer : peers) {
                peer.closeGracefully(); // closes the child's stdin: its readFrame() returns null and it exits
            }
            for (ChildProcess c : children) {
                ExitStatus st = c.onExit().get(10, TimeUnit.SECONDS);
                out.println("  worker pid " + c.pid() + ": " + st);
            }
            return ok;
        }
    }
}
