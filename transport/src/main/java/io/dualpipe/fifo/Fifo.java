package io.dualpipe.fifo;

import io.dualpipe.core.ByteSink;
import io.dualpipe.core.ByteSource;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.internal.Native;
import io.dualpipe.fifo.internal.FifoNative;
import io.dualpipe.fifo.internal.FileTypes;
import io.dualpipe.fifo.internal.ReaderOpen;
import io.dualpipe.fifo.internal.WriterOpen;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Named pipes (FIFOs) on the event loop: a pipe with a name in the file system, so that processes
 * that did not fork one another can talk through it (a long-running reader and writers started by
 * anyone with permission on the file).
 *
 * <pre>{@code
 * Fifo.create(path);                                    // mkfifo, mode 0600; an existing one of ours is reused
 * ByteSource in = Fifo.openReader(path, loop).join();   // never waits for a writer
 * LineReader lines = LineReader.of(in);
 * ByteSink out = Fifo.openWriter(path, loop).join();    // completes once a reader has the FIFO open
 * }</pre>
 *
 * <p><b>Opening never blocks.</b> open(2) on a FIFO normally waits for the other side. Here both
 * sides are opened O_NONBLOCK | O_CLOEXEC: a reader's open succeeds at once; a writer's fails with
 * ENXIO while there is no reader, and is retried on a loop timer with backoff (see
 * {@link FifoWriterOptions}) until one appears. No thread waits meanwhile.
 *
 * <p><b>End of stream.</b> A reader sees end of stream once the last writer closes, unless it was
 * opened with {@link FifoReaderOptions#keepOpenForWriters(boolean)}. A writer whose reader closes
 * fails its writes with a {@link io.dualpipe.core.BrokenPipeException}.
 *
 * <p><b>Threading.</b> Every method may be called from any thread, a loop thread included:
 * {@link #create}, {@link #delete} and {@link #isFifo} are short file-system calls that wait for no
 * peer. The streams follow the threading and buffer-ownership rules of {@link ByteSource} and
 * {@link ByteSink} (bytes read are the caller's; a buffer written is borrowed until its future
 * completes). Open futures complete on the loop thread, or on the caller's when the open succeeds
 * at once.
 *
 * <p><b>Errors.</b> Argument errors throw {@link InvalidArgumentException}. Failures of
 * {@code create}/{@code delete} throw; failures of an open fail its future: {@link NoSuchFifoException},
 * {@link NotAFifoException}, {@link FifoOpenTimeoutException}, {@link io.dualpipe.core.LoopClosedException},
 * or a {@link io.dualpipe.core.NativeIoException} naming the path and errno (EACCES ...).
 */
public final class Fifo {
    /** Owner read and write only: a FIFO is a door into the reader; others get in only if asked for. */
    public static final int DEFAULT_MODE = 0600;

    private Fifo() {
    }

    /**
     * Creates a FIFO at {@code path} with mode {@value #DEFAULT_MODE} (octal 0600), or reuses the
     * FIFO already there if this process's user owns it and its mode is 0600.
     *
     * @param path where the FIFO is, or is to be
     * @return true if it was created, false if an existing FIFO was reused (only delete what you created)
     * @see #create(Path, int)
     */
    public static boolean create(Path path) {
        return create(path, DEFAULT_MODE);
    }

    /**
     * Creates a FIFO at {@code path} with permissions exactly {@code mode} (as {@code mkfifo -m}:
     * the umask is overridden), or reuses the FIFO already there when it is safe to: this process's
     * effective user owns it and its mode is exactly {@code mode}. Symbolic links are followed when
     * checking an existing file, as open(2) follows them. The mode of a new FIFO is set through an fd
     * opened without following symbolic links, so a link planted at {@code path} meanwhile never
     * has its target's mode changed.
     *
     * @param path where the FIFO is, or is to be
     * @param mode permission bits, {@code 0000} to {@code 0777} (write them in octal: {@code 0660})
     * @return true if it was created, false if an existing FIFO was reused
     * @throws UnsafeFifoException when a FIFO exists at {@code path} that another user owns or whose
     *     mode is not {@code mode}; it is left alone
     * @throws NotAFifoException when something else exists at {@code path} (also when a symbolic
     *     link replaced the new FIFO before its mode was set)
     * @throws MissingParentDirectoryException when the directory of {@code path} does not exist
     * @throws io.dualpipe.core.NativeIoException for other mkfifo failures (EACCES, ENOTDIR ...)
     * @throws InvalidArgumentException for a null path or a mode outside 0000..0777
     */
    public static boolean create(Path path, int mode) {
        InvalidArgumentException.requireNonNull("path", path);
        if ((mode & ~0777) != 0) {
            throw new InvalidArgumentException("mode must be within 0000..0777 (permission bits only): 0" + Integer.toOctalString(mode));
        }
        int errno = FifoNative.mkfifo(path, mode);
        if (errno == 0) {
            applyMode(path, mode);
            return true;
        }
        if (errno == FifoNative.EEXIST) {
            String type;
            try {
                type = FileTypes.of(path);
            } catch (IOException e) {
                throw new FifoException(path, "cannot create fifo " + FifoNative.quote(path) + ": it exists but cannot be checked: " + e, e);
            }
            if (!FileTypes.FIFO.equals(type)) {
                throw new NotAFifoException(path, type);
            }
            requireSafeToReuse(path, mode);
            return false;
        }
        if (errno == FifoNative.ENOENT) {
            Path parent = path.toAbsolutePath().getParent();
            throw new MissingParentDirectoryException(path, parent == null ? path.toAbsolutePath().getRoot() : parent);
        }
        throw FifoNative.error("mkfifo(" + FifoNative.quote(path) + ", 0" + Integer.toOctalString(mode) + ")", errno);
    }

    /**
     * Removes the FIFO at {@code path}. Processes that have it open keep talking through it; new
     * ones cannot find it. Refuses to remove anything that is not a FIFO (a symbolic link included,
     * even to a FIFO).
     *
     * @param path the FIFO's path
     * @return true if a FIFO was removed, false if nothing was there
     * @throws NotAFifoException when something else is at {@code path}; it is left in place
     */
    public static boolean delete(Path path) {
        InvalidArgumentException.requireNonNull("path", path);
        try {
            String type = FileTypes.ofLink(path);
            if (!FileTypes.FIFO.equals(type)) {
                throw new NotAFifoException(path, type);
            }
            return Files.deleteIfExists(path);
        } catch (NoSuchFileException e) {
            return false;
        } catch (IOException e) {
            throw new FifoException(path, "cannot delete fifo " + FifoNative.quote(path) + ": " + e, e);
        }
    }

    /**
     * {@return true when {@code path} exists and is a FIFO (after symbolic links)} False also when
     * its type cannot be read.
     *
     * @param path the path to check
     */
    public static boolean isFifo(Path path) {
        InvalidArgumentException.requireNonNull("path", path);
        try {
            return FileTypes.FIFO.equals(FileTypes.of(path));
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Opens the FIFO at {@code path} for reading with {@link FifoReaderOptions#defaults()}.
     *
     * @param path the FIFO's path
     * @param loop the loop to serve the stream
     * @return an already completed future of the source, or one failed as the class comment says
     */
    public static LoopFuture<ByteSource> openReader(Path path, EventLoop loop) {
        return openReader(path, loop, FifoReaderOptions.defaults());
    }

    /**
     * Opens the FIFO at {@code path} for reading, served by {@code loop}. Succeeds at once whether or
     * not a writer exists (bytes arrive when one writes), so the returned future is already complete.
     * Closing the source closes every fd it opened.
     *
     * @param path    the FIFO's path
     * @param loop    the loop to serve the stream
     * @param options how to open and serve it
     * @return an already completed future of the source, or one failed as the class comment says
     */
    public static LoopFuture<ByteSource> openReader(Path path, EventLoop loop, FifoReaderOptions options) {
        InvalidArgumentException.requireNonNull("path", path);
        InvalidArgumentException.requireNonNull("loop", loop);
        InvalidArgumentException.requireNonNull("options", options);
        try {
            return LoopFuture.completed(ReaderOpen.open(path, loop, options));
        } catch (RuntimeException e) {
            return LoopFuture.failed(e);
        }
    }

    /**
     * Opens the FIFO at {@code path} for writing with {@link FifoWriterOptions#defaults()}: waits for
     * a reader without limit.
     *
     * @param path the FIFO's path
     * @param loop the loop to serve the stream
     * @return the sink, once a reader has the FIFO open
     */
    public static LoopFuture<ByteSink> openWriter(Path path, EventLoop loop) {
        return openWriter(path, loop, FifoWriterOptions.defaults());
    }

    /**
     * Opens the FIFO at {@code path} for writing, served by {@code loop}. The future completes once a
     * reader has the FIFO open (at once if one has), and fails with a {@link FifoOpenTimeoutException}
     * if none appears within the options' timeout. Cancelling the future stops waiting; closing the
     * loop fails it with a {@link io.dualpipe.core.LoopClosedException}.
     *
     * @param path    the FIFO's path
     * @param loop    the loop to serve the stream
     * @param options the timeout, backoff and water marks
     * @return the sink, once a reader has the FIFO open
     */
    public static LoopFuture<ByteSink> openWriter(Path path, EventLoop loop, FifoWriterOptions options) {
        InvalidArgumentException.requireNonNull("path", path);
        InvalidArgumentException.requireNonNull("loop", loop);
        InvalidArgumentException.requireNonNull("options", options);
        return WriterOpen.start(path, loop, options);
    }

    /**
     * Another user's FIFO, or one whose mode grants other than what was asked, is a door someone else
     * may hold open (to inject messages, or to read them away): refuse it rather than reuse it.
     * Where owner and mode cannot be read (no "unix" attribute view) the FIFO is reused as before.
     */
    private static void requireSafeToReuse(Path path, int mode) {
        int[] modeAndOwner = FileTypes.modeAndOwner(path);
        if (modeAndOwner == null) {
            return;
        }
        int actual = modeAndOwner[0] & 07777;
        int euid = FifoNative.euid();
        if (modeAndOwner[1] != euid || actual != mode) {
            throw new UnsafeFifoException(path, modeAndOwner[1], euid, actual, mode);
        }
    }

    /**
     * mkfifo applied the umask; set the bits asked for, as {@code mkfifo -m} does. Through an fd
     * opened with O_NOFOLLOW and checked to be a FIFO of ours: chmod(2) on the path would follow a
     * symbolic link planted there since the mkfifo and change the mode of whatever it points to.
     * The open is a non-blocking read open, which succeeds at once and which no writer can notice.
     */
    static void applyMode(Path path, int mode) {
        int fd = FifoNative.open(path, FifoNative.READ_FLAGS | FifoNative.O_NOFOLLOW);
        if (fd < 0) {
            int errno = -fd;
            if (errno == FifoNative.ELOOP) {
                throw new NotAFifoException(path, "symbolic link"); // planted since the mkfifo: not ours, left alone
            }
            throw FifoNative.error("open(" + FifoNative.quote(path) + ") of the new fifo to set its mode", errno);
        }
        try {
            int[] modeAndOwner = FileTypes.modeAndOwnerOfFd(fd);
            if (modeAndOwner != null) {
                String type = FileTypes.describeMode(modeAndOwner[0]);
                if (!FileTypes.FIFO.equals(type)) {
                    throw new NotAFifoException(path, type); // replaced since the mkfifo: not ours, left alone
                }
                int euid = FifoNative.euid();
                if (modeAndOwner[1] != euid) {
                    throw new UnsafeFifoException(path, modeAndOwner[1], euid, modeAndOwner[0] & 07777, mode);
                }
            }
            int errno = FifoNative.fchmod(fd, mode);
            if (errno != 0) {
                FifoException e = new FifoException(path, "created fifo " + FifoNative.quote(path)
                        + " but cannot set its mode to 0" + Integer.toOctalString(mode) + ": "
                        + FifoNative.error("fchmod", errno).getMessage());
                deleteQuietly(path, e); // ours, and wrong: do not leave it behind
                throw e;
            }
        } finally {
            Native.closeQuietly(fd);
        }
    }

    private static void deleteQuietly(Path path, Exception failure) {
        try {
            delete(path);
        } catch (RuntimeException suppressed) {
            failure.addSuppressed(suppressed);
        }
    }
}
