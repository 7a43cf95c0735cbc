package io.dualpipe.core.internal;

import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * A child JVM for {@link Review19SelectorMemoryTest}, run with a small -XX:MaxDirectMemorySize
 * (args[0], in bytes): leaves exactly each of args[1..] bytes of direct memory free, tries to open an
 * EpollSelector, and prints one line per try, "R19 slack ok|oom fdsBefore fdsAfter".
 */
public final class Review19SelectorMemoryMain {
    private Review19SelectorMemoryMain() {
    }

    public static void main(String[] args) throws Exception {
        long max = Long.parseLong(args[0]);
        BufferPoolMXBean direct = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
                .filter(b -> b.getName().equals("direct")).findFirst().orElseThrow();
        Field f = Class.forName("sun.misc.Unsafe").getDeclaredField("theUnsafe");
        f.setAccessible(true);
        sun.misc.Unsafe unsafe = (sun.misc.Unsafe) f.get(null);
        fds();
        new EpollSelector(EpollSelectorProvider.INSTANCE).close(); // every class loaded before memory runs short
        // What stays allocated once the closed selector's own four buffers are freed (class init may keep some).
        long baseline = direct.getMemoryUsed() - (1024L * EpollKeyTable.EVENT_SIZE + 8 + 8 + 16);
        settle(direct, baseline);
        for (int i = 1; i < args.length; i++) {
            long slack = Long.parseLong(args[i]);
            long before = fds();
            ByteBuffer filler = ByteBuffer.allocateDirect((int) (max - direct.getMemoryUsed() - slack));
            String outcome;
            try {
                new EpollSelector(EpollSelectorProvider.INSTANCE).close();
                outcome = "ok";
            } catch (OutOfMemoryError e) {
                outcome = "oom";
            }
            unsafe.invokeCleaner(filler);
            filler = null;
            long after = fds();
            System.out.println("R19 " + slack + " " + outcome + " " + before + " " + after);
            // A failed constructor's buffers are garbage now; the next try must not find them freed midway.
            settle(direct, baseline);
        }
    }

    /** Collects until the direct buffers dropped since {@code baseline} are freed (their cleaners run after a GC). */
    private static void settle(BufferPoolMXBean direct, long baseline) {
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (direct.getMemoryUsed() > baseline) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("direct memory never went back to " + baseline + ": " + direct.getMemoryUsed());
            }
            System.gc();
            Thread.onSpinWait();
        }
    }

    /**
     * The fds of the kinds a selector opens (an epoll instance, an eventfd): the JVM opens and closes
     * files of its own at any moment (JIT threads read cgroup files), so a count of all fds flakes.
     */
    private static long fds() throws Exception {
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return s.filter(fd -> {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    return target.equals("anon_inode:[eventpoll]") || target.equals("anon_inode:[eventfd]");
                } catch (java.io.IOException gone) {
                    return false; // closed while listed
                }
            }).count();
        }
    }
}
