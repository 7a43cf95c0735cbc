package io.dualpipe.process.internal;

import io.dualpipe.process.ExitStatus;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Run by SpawnerTest in a JVM whose parent set SIGCHLD to SIG_IGN before exec: reports whether
 * that took, then spawns and reaps a child. Without the reset in {@link Posix} the kernel would
 * auto-reap the child and waitNoHang would fail with ECHILD.
 */
public final class SigchldIgnoredMain {
    private SigchldIgnoredMain() {
    }

    public static void main(String[] args) throws Exception {
        System.out.println("SIGCHLD ignored at start: " + sigchldIgnored());
        Spawned s = Spawner.spawn(SpawnSpec.builder("/bin/sh", "-c", "exit 3").stdin(SpawnSpec.Stdin.NULL_DEVICE).build());
        s.closeAll();
        ExitStatus status = TestChildren.waitFor(s.pid());
        System.out.println("SIGCHLD ignored after spawn: " + sigchldIgnored());
        System.out.println("child: " + status);
    }

    private static boolean sigchldIgnored() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("SigIgn:")) {
                return (Long.parseUnsignedLong(line.substring(7).trim(), 16) & (1L << 16)) != 0; // bit 16 = signal 17
            }
        }
        throw new IllegalStateException("no SigIgn line");
    }
}
