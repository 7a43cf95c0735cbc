package io.dualpipe.process.internal;

import io.dualpipe.core.internal.Native;
import io.dualpipe.process.ExitStatus;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;

/**
 * Blocking stand-ins for the event loop, for tests only: read/write the non-blocking fds a spawn
 * returns by switching them to blocking mode, and reap by polling waitNoHang with a deadline.
 */
public final class TestChildren {
    static final long MY_PID = ProcessHandle.current().pid();

    private TestChildren() {
    }

    /** Reads fd to EOF (blocking) and closes it. */
    static String readAllAndClose(int fd) {
        Native.setNonBlocking(fd, false);
        ByteBuffer buf = ByteBuffer.allocateDirect(16384);
        long address = Native.address(buf);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] chunk = new byte[16384];
        try {
            while (true) {
                long n = Native.LIBC.read(fd, address, chunk.length);
                if (n < 0) {
                    if (Native.errno() == Native.EINTR) {
                        continue;
                    }
                    throw Native.lastError("read(" + fd + ")");
                }
                if (n == 0) {
                    return out.toString(StandardCharsets.UTF_8);
                }
                buf.clear();
                buf.get(chunk, 0, (int) n);
                out.write(chunk, 0, (int) n);
            }
        } finally {
            Native.closeQuietly(fd);
        }
    }

    /** Closes every fd of s except those already closed by the caller (a double close could hit a reused fd). */
    static void closeOthers(Spawned s, int... alreadyClosed) {
        List<Integer> all = new ArrayList<>(List.of(s.stdinFd(), s.stdoutFd(), s.stderrFd(), s.pidfd()));
        for (int i = 0; i < s.extraFdCount(); i++) {
            all.add(s.extraFd(i));
        }
        for (int closed : alreadyClosed) {
            all.remove(Integer.valueOf(closed));
        }
        for (int fd : all) {
            Native.closeQuietly(fd);
        }
    }

    /** Writes all of data (blocking). */
    static void writeAll(int fd, String data) {
        Native.setNonBlocking(fd, false);
        byte[] bytes = data.getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.allocateDirect(Math.max(1, bytes.length));
        buf.put(bytes);
        long address = Native.address(buf);
        int done = 0;
        while (done < bytes.length) {
            long n = Native.LIBC.write(fd, address + done, bytes.length - done);
            if (n < 0) {
                if (Native.errno() == Native.EINTR) {
                    continue;
                }
                throw Native.lastError("write(" + fd + ")");
            }
            done += (int) n;
        }
    }

    /** Reads exactly the bytes of one line echoed back (blocking, without closing). */
    static String readLine(int fd) {
        Native.setNonBlocking(fd, false);
        ByteBuffer buf = ByteBuffer.allocateDirect(1);
        long address = Native.address(buf);
        StringBuilder sb = new StringBuilder();
        while (true) {
            long n = Native.LIBC.read(fd, address, 1);
            if (n < 0 && Native.errno() == Native.EINTR) {
                continue;
            }
            if (n <= 0) {
                return sb.toString();
            }
            char c = (char) buf.get(0);
            if (c == '\n') {
                return sb.toString();
            }
            sb.append(c);
        }
    }

    /** Polls waitNoHang until pid is reaped; spins briefly first since most test children are quick. */
    static ExitStatus waitFor(int pid, Duration timeout) throws TimeoutException {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (int i = 0; ; i++) {
            ExitStatus status = ProcessControl.waitNoHang(pid);
            if (status != null) {
                return status;
            }
            if (System.nanoTime() - deadline > 0) {
                throw new TimeoutException("pid " + pid + " still running after " + timeout);
            }
            if (i < 200) {
                Thread.yield();
            } else {
                LockSupport.parkNanos(Math.min(1_000_000L, 10_000L << Math.min(10, (i - 200) / 10)));
            }
        }
    }

    static ExitStatus waitFor(int pid) throws TimeoutException {
        return waitFor(pid, Duration.ofSeconds(10));
    }

    /** /proc/PID/stat fields after the "(comm)" field: [0]=state, [1]=ppid, [2]=pgrp, ...; null if gone. */
    static String[] statFields(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            return stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
        } catch (IOException e) {
            return null;
        }
    }
}
