package io.dualpipe.nats;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** Shared bits of the NATS tests. */
final class Fixtures {
    private Fixtures() {
    }

    static Path script() {
        try {
            return Path.of(Fixtures.class.getResource("/python/square_worker.py").toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static Map<String, Object> slow(double seconds, int n) {
        return Map.of("sleep", seconds, "n", n);
    }

    /** True once {@code pid} has gone or is only a zombie that is not ours to reap. */
    static boolean goneOrReparentedZombie(long pid) {
        Path stat = Path.of("/proc/" + pid + "/stat");
        try {
            String s = Files.readString(stat);
            String state = s.substring(s.lastIndexOf(')') + 2, s.lastIndexOf(')') + 3);
            long ppid = Long.parseLong(s.substring(s.lastIndexOf(')') + 4).split(" ")[0]);
            return state.equals("Z") && ppid != ProcessHandle.current().pid();
        } catch (java.io.IOException gone) {
            return true;
        }
    }

    static boolean allGone(List<Long> pids) {
        return pids.stream().allMatch(p -> !Files.exists(Path.of("/proc/" + p)));
    }
}
