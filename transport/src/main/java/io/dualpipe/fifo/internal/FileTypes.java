package io.dualpipe.fifo.internal;

import io.dualpipe.core.internal.Native;
import io.dualpipe.fifo.FifoException;
import io.dualpipe.fifo.NoSuchFifoException;
import io.dualpipe.fifo.NotAFifoException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * What kind of file a path or an open fd is, in words fit for an error message ("regular file",
 * "socket"). Uses the JDK's {@code unix:mode} attribute (st_mode), so no stat struct layout is
 * hard-coded; where that view is missing it falls back to {@link BasicFileAttributes}, which cannot
 * tell a FIFO from a socket or device and then gives the path the benefit of the doubt.
 *
 * <p>Thread-safe: stateless.
 */
public final class FileTypes {
    private static final Logger LOG = LoggerFactory.getLogger(FileTypes.class);

    // st_mode file-type bits: the same values on Linux, macOS and the BSDs.
    private static final int S_IFMT = 0170000;
    private static final int S_IFIFO = 0010000;
    private static final int S_IFCHR = 0020000;
    private static final int S_IFDIR = 0040000;
    private static final int S_IFBLK = 0060000;
    private static final int S_IFREG = 0100000;
    private static final int S_IFLNK = 0120000;
    private static final int S_IFSOCK = 0140000;

    /** Where an open fd can be stat'ed by path; the kernel resolves these links to the fd's file. */
    private static final String FD_DIR = Native.LINUX ? "/proc/self/fd/" : "/dev/fd/";

    public static final String FIFO = "FIFO";

    private FileTypes() {
    }

    /**
     * The type of the file {@code path} names, following symbolic links as open(2) does; a link
     * whose target is missing is a "dangling symbolic link".
     *
     * @throws NoSuchFileException when nothing exists at {@code path}
     */
    public static String of(Path path) throws IOException {
        try {
            return describe(path);
        } catch (NoSuchFileException e) {
            if (Files.isSymbolicLink(path)) {
                return "dangling symbolic link";
            }
            throw e;
        }
    }

    /**
     * Fails unless {@code path} is a FIFO (after symbolic links).
     *
     * @throws NoSuchFifoException when nothing is there
     * @throws NotAFifoException when something else is
     */
    public static void requireFifo(Path path) {
        String type;
        try {
            type = of(path);
        } catch (NoSuchFileException e) {
            throw new NoSuchFifoException(path);
        } catch (IOException e) {
            throw new FifoException(path, "cannot stat fifo " + FifoNative.quote(path) + ": " + e, e);
        }
        if (!FIFO.equals(type)) {
            throw new NotAFifoException(path, type);
        }
    }

    /**
     * Fails unless the file open as {@code fd} is a FIFO. Checks the fd itself, not only the path
     * checked before the open: the path may have been replaced in between, and a writer must not
     * put a byte into a regular file, nor a reader hand the selector one (it fails there with a far
     * less helpful error).
     */
    public static void requireFifoFd(Path path, int fd) {
        String type = ofFd(fd);
        if (!FIFO.equals(type)) {
            throw new NotAFifoException(path, type);
        }
    }

    /** The type of {@code path} itself (a symbolic link is reported as one). */
    public static String ofLink(Path path) throws IOException {
        return describe(path, LinkOption.NOFOLLOW_LINKS);
    }

    /**
     * The type of the file open as {@code fd}, or {@link #FIFO} when it cannot be told (no
     * {@code /proc/self/fd} or {@code /dev/fd} here): the caller then relies on its path check alone.
     */
    public static String ofFd(int fd) {
        try {
            return describe(Path.of(FD_DIR + fd));
        } catch (IOException e) {
            LOG.debug("cannot stat fd {} through {}: {}", fd, FD_DIR, e.toString());
            return FIFO;
        }
    }

    /**
     * The st_mode and st_uid of the file open as {@code fd}, or null when they cannot be told (no
     * {@code /proc/self/fd} or {@code /dev/fd}, or no "unix" attribute view).
     */
    public static int[] modeAndOwnerOfFd(int fd) {
        return modeAndOwner(Path.of(FD_DIR + fd));
    }

    /**
     * The st_mode and st_uid of the file {@code path} names, after symbolic links; null when they
     * cannot be told (no "unix" attribute view, or the file cannot be stat'ed).
     */
    public static int[] modeAndOwner(Path path) {
        try {
            java.util.Map<String, Object> a = Files.readAttributes(path, "unix:mode,uid");
            return new int[] {(Integer) a.get("mode"), (Integer) a.get("uid")};
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            LOG.debug("cannot read the mode and owner of {}: {}", path, e.toString());
            return null;
        }
    }

    /** True when {@code a} and {@code b} are open on the same file; true when it cannot be told. */
    public static boolean sameFile(int a, int b) {
        try {
            return Files.isSameFile(Path.of(FD_DIR + a), Path.of(FD_DIR + b));
        } catch (IOException e) {
            LOG.debug("cannot compare fds {} and {} through {}: {}", a, b, FD_DIR, e.toString());
            return true;
        }
    }

    private static String describe(Path path, LinkOption... options) throws IOException {
        Object mode;
        try {
            mode = Files.getAttribute(path, "unix:mode", options);
        } catch (UnsupportedOperationException | IllegalArgumentException noUnixView) {
            return describeBasic(Files.readAttributes(path, BasicFileAttributes.class, options));
        }
        return describeMode((Integer) mode);
    }

    public static String describeMode(int mode) {
        switch (mode & S_IFMT) {
            case S_IFIFO:
                return FIFO;
            case S_IFREG:
                return "regular file";
            case S_IFDIR:
                return "directory";
            case S_IFLNK:
                return "symbolic link";
            case S_IFSOCK:
                return "socket";
            case S_IFCHR:
                return "character device";
            case S_IFBLK:
                return "block device";
            default:
                return "file of type 0" + Integer.toOctalString(mode & S_IFMT);
        }
    }

    private static String describeBasic(BasicFileAttributes a) {
        if (a.isRegularFile()) {
            return "regular file";
        }
        if (a.isDirectory()) {
            return "directory";
        }
        if (a.isSymbolicLink()) {
            return "symbolic link";
        }
        return FIFO;
    }
}
