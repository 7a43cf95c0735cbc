package io.dualpipe.net;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.codec.Codecs;
import io.dualpipe.core.message.Peer;
import io.dualpipe.net.internal.DefaultMessageServer;
import io.dualpipe.process.ChildProcess;
import io.dualpipe.process.StderrMode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static io.dualpipe.net.TestSupport.codecs;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** A client running as another user is turned away by an allow-list of uids; needs root to be that other user. */
class AllowListTest {
    private static final int NOBODY = 65534;

    @TempDir
    Path dir;

    private static Path realPath(Path p) {
        try {
            return p.toRealPath();
        } catch (java.io.IOException e) {
            return p;
        }
    }

    @Test
    @Timeout(30)
    void aClientRunningAsAnotherUidIsRejected() throws Exception {
        int uid = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        assumeTrue(uid == 0, "running as uid " + uid + ": only root can start a client as uid " + NOBODY);
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/setpriv")), "setpriv is missing");
        // The python3 on PATH may live where nobody cannot go (a pyenv shim under /root): use a system one.
        Path python = java.util.stream.Stream.of("/usr/bin/python3", "/usr/local/bin/python3", "/bin/python3")
                .map(Path::of).filter(p -> Files.isExecutable(p) && !realPath(p).startsWith("/root")).findFirst().orElse(null);
        assumeTrue(python != null, "no python3 outside /root that another user could run");
        // nobody must reach the scripts and the socket: a traversable directory, readable scripts, a 0666 socket
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path knock = TestSupport.script(dir, "knock.py");
        Path wire = TestSupport.script(dir, "wire.py");
        Files.setPosixFilePermissions(knock, PosixFilePermissions.fromString("rw-r--r--"));
        Files.setPosixFilePermissions(wire, PosixFilePermissions.fromString("rw-r--r--"));
        Path sock = dir.resolve("allow.sock");
        LinkedBlockingQueue<Peer> rejected = new LinkedBlockingQueue<>();
        try (EventLoop loop = EventLoop.create("allow-list");
             LogCapture log = new LogCapture(DefaultMessageServer.class)) {
            MessageServer server = MessageServer.builder(codecs()).loop(loop)
                    .allowUids(0)
                    .socketMode(0666)
                    .onReject(rejected::add)
                    .handle(Codecs.UTF8, String.class, (ctx, s) -> ctx.reply("welcome, uid " + ctx.channel().peer().uid()))
                    .bind(sock);

            ChildProcess asRoot = ChildProcess.builder("python3", knock.toString(), sock.toString())
                    .stderr(StderrMode.INHERIT).loop(loop).start();
            assertEquals("reply welcome, uid 0", asRoot.readLine().get(20, TimeUnit.SECONDS));

            ChildProcess asNobody = ChildProcess.builder("setpriv", "--reuid=" + NOBODY, "--regid=" + NOBODY, "--clear-groups",
                    python.toString(), knock.toString(), sock.toString()).directory(dir).stderr(StderrMode.INHERIT).loop(loop).start();
            assertEquals("closed", asNobody.readLine().get(20, TimeUnit.SECONDS));
            assertEquals(0, asNobody.onExit().get(20, TimeUnit.SECONDS).exitCode());
            Peer peer = rejected.poll(10, TimeUnit.SECONDS);
            assertEquals(NOBODY, peer.uid());
            assertEquals(NOBODY, peer.gid());
            assertEquals(asNobody.pid(), peer.pid()); // setpriv execs python in place
            assertTrue(log.count("rejected a client: uid " + NOBODY) == 1, log.warnings().toString());
            assertTrue(rejected.isEmpty());
            server.close();
        }
    }
}
