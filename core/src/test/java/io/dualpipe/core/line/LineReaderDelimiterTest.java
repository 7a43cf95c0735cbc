package io.dualpipe.core.line;

import io.dualpipe.core.EventLoop;
import io.dualpipe.core.FdChannel;
import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.internal.FdStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** {@link LineReader} with a delimiter other than LF, over a real pipe. */
class LineReaderDelimiterTest {

    @Test
    @Timeout(30)
    void nulSeparatedRecordsOverAPipe() throws Exception {
        try (EventLoop loop = EventLoop.create("delim")) {
            FdChannel[] p = FdChannel.pipe();
            FdStream in = FdStream.source(loop, p[0], "in", 64 * 1024);
            FdStream out = FdStream.sink(loop, p[1], "out", 64 * 1024, 32 * 1024);
            LineReader lines = LineReader.of(in, 32, UTF_8, 64 * 1024, (byte) 0);
            ByteArrayOutputStream data = new ByteArrayOutputStream();
            data.writeBytes("a file\nwith a newline".getBytes(UTF_8));
            data.write(0);
            data.writeBytes("日本語.txt".getBytes(UTF_8));
            data.write(0);
            data.writeBytes("x".repeat(40).getBytes(UTF_8)); // over 32 bytes: reported, then skipped
            data.write(0);
            data.writeBytes("last\r\n".getBytes(UTF_8));      // no delimiter before the end
            byte[] bytes = data.toByteArray();
            // in two writes that split the 3-byte 日: the reader sees it across chunks
            int cut = indexOf(bytes, (byte) 0) + 2;
            out.write(java.util.Arrays.copyOfRange(bytes, 0, cut)).get(5, TimeUnit.SECONDS);
            assertEquals("a file\nwith a newline", lines.readLine().get(5, TimeUnit.SECONDS));
            out.write(java.util.Arrays.copyOfRange(bytes, cut, bytes.length));
            out.shutdownOutput();
            assertEquals("日本語.txt", lines.readLine().get(5, TimeUnit.SECONDS));
            ExecutionException e = assertThrows(ExecutionException.class, () -> lines.readLine().get(5, TimeUnit.SECONDS));
            assertInstanceOf(LineTooLongException.class, e.getCause());
            assertEquals("last\r\n", lines.readLine().get(5, TimeUnit.SECONDS));
            assertNull(lines.readLine().get(5, TimeUnit.SECONDS));
        }
    }

    @Test
    @Timeout(30)
    void badDelimiterIsRefusedBeforeTheSourceIsTaken() throws Exception {
        try (EventLoop loop = EventLoop.create("delim")) {
            FdChannel[] p = FdChannel.pipe();
            FdStream in = FdStream.source(loop, p[0], "in", 64 * 1024);
            FdStream out = FdStream.sink(loop, p[1], "out", 64 * 1024, 32 * 1024);
            assertEquals("delimiter must be an ASCII byte (0x00 to 0x7f): 0xc3",
                    assertThrows(InvalidArgumentException.class,
                            () -> LineReader.of(in, 16, UTF_8, 1024, (byte) 0xc3)).getMessage());
            out.write("still pulled");
            out.shutdownOutput();
            assertEquals("still pulled", new String(in.read(100).get(5, TimeUnit.SECONDS), UTF_8));
        }
    }

    private static int indexOf(byte[] a, byte b) {
        for (int i = 0; i < a.length; i++) {
            if (a[i] == b) {
                return i;
            }
        }
        return -1;
    }
}
