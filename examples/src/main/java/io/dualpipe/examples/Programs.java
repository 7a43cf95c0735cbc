package io.dualpipe.examples;

import java.nio.file.Files;
import java.nio.file.Path;

/** Whether the programs an example needs are installed. Stateless. */
final class Programs {
    private Programs() {
    }

    /** True when {@code program} is an executable file in a PATH directory. */
    static boolean onPath(String program) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, program))) {
                return true;
            }
        }
        return false;
    }
}
