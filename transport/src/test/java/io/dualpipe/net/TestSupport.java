package io.dualpipe.net;

import io.dualpipe.core.codec.CodecRegistry;
import io.dualpipe.core.codec.Codecs;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.function.BooleanSupplier;

final class TestSupport {
    static final int ORDER = 0x10;

    record Order(String item, int quantity) {
    }

    private TestSupport() {
    }

    static CodecRegistry codecs() {
        return CodecRegistry.builder().registerAll(Codecs.builtins()).register(Codecs.json(ORDER, Order.class)).build();
    }

    /** Copies a script from the test resources into {@code dir} (readable by anyone) and returns its path. */
    static Path script(Path dir, String name) throws IOException {
        Path target = dir.resolve(name);
        try (InputStream in = TestSupport.class.getResourceAsStream("/python/" + name)) {
            if (in == null) {
                throw new IOException("missing test resource python/" + name);
            }
            Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
        }
        return target;
    }

    /** Waits, by polling, for a condition that has no future to wait on (fd counts, log lines); fails after {@code limit}. */
    static void eventually(Duration limit, String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + limit + ": " + what);
            }
            java.util.concurrent.locks.LockSupport.parkNanos(1_000_000); // a poll interval, not a guess at timing
        }
    }
}
