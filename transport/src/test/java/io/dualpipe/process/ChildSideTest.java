package io.dualpipe.process;

import io.dualpipe.core.BrokenPipeException;
import io.dualpipe.core.codec.Codecs;
import io.dualpipe.core.codec.DecodeException;
import io.dualpipe.core.codec.Frames;
import io.dualpipe.core.codec.ProtocolException;
import io.dualpipe.core.codec.UnknownTypeException;
import io.dualpipe.core.line.LineTooLongException;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** ChildSide over in-memory streams; {@link JavaChildTest} runs it in real child JVMs. */
class ChildSideTest {

    private static ChildSide reading(byte[] input) {
        return ChildSide.over(new ByteArrayInputStream(input), new ByteArrayOutputStream());
    }

    private static ChildSide reading(String input) {
        return reading(input.getBytes(UTF_8));
    }

    @Test
    void linesWithLfCrlfEmptyAndUnterminatedLast() {
        ChildSide io = reading("a\r\n\nb\nlast");
        List<String> lines = new ArrayList<>();
        io.lines().forEach(lines::add);
        assertEquals(List.of("a", "", "b", "last"), lines);
        assertNull(io.readLine());
    }

    @Test
    void multiByteCharacterAcrossTheReadBuffer() {
        // The 8 KiB input buffer ends in the middle of the euro sign's three bytes.
        String line = "x".repeat(8191) + "€€" + "y";
        ChildSide io = reading(line + "\nnext\n");
        assertEquals(line, io.readLine());
        assertEquals("next", io.readLine());
    }

    @Test
    void overLongLineIsReportedOnceThenReadingGoesOn() {
        ChildSide io = reading("x".repeat(70_000) + "\nafter\n");
        assertThrows(LineTooLongException.class, io::readLine);
        assertEquals("after", io.readLine());
        assertNull(io.readLine());
    }

    @Test
    void writeLineFlushesEveryLine() {
        List<String> flushedAt = new ArrayList<>();
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        OutputStream out = new OutputStream() {
            @Override
            public void write(int b) {
                sink.write(b);
            }

            @Override
            public void flush() {
                flushedAt.add(sink.toString(UTF_8));
            }
        };
        ChildSide io = ChildSide.over(new ByteArrayInputStream(new byte[0]), out);
        io.writeLine("one");
        io.writeLine("twö");
        assertEquals(List.of("one\n", "one\ntwö\n"), flushedAt);
    }

    @Test
    void framesMatchTheWireFormatExample() {
        // docs/wire-format.md: request 42 "ping", and its reply "pong".
        byte[] request = HexFormat.of().parseHex("0201" + "0000002a" + "00000004" + "70696e67");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ChildSide io = ChildSide.over(new ByteArrayInputStream(request), out);
        ChildSide.Frame f = io.readFrame();
        assertEquals(new ChildSide.Frame(Codecs.UTF8, Frames.FLAG_REQUEST, 42, "ping"), f);
        assertTrue(f.isRequest());
        io.reply(f, "pong");
        assertEquals("02020000002a00000004706f6e67", HexFormat.of().formatHex(out.toByteArray()));
        assertNull(io.readFrame());
    }

    @Test
    void framesRoundTripWithEveryBuiltinCodecAndErrorReplies() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ChildSide writer = ChildSide.over(new ByteArrayInputStream(new byte[0]), out);
        writer.writeFrame("text");
        writer.writeFrame(new byte[] {1, 2, 3});
        writer.writeFrame(Codecs.JSON, Map.of("a", 1));
        writer.writeFrame(Codecs.BYTES, new byte[0]);
        writer.replyError(new ChildSide.Frame(2, Frames.FLAG_REQUEST, 7, "x"), "no such op");

        ChildSide reader = reading(out.toByteArray());
        assertEquals("text", reader.readFrame().message());
        ChildSide.Frame bytes = reader.readFrame();
        assertEquals(Codecs.BYTES, bytes.type());
        assertArrayEquals(new byte[] {1, 2, 3}, (byte[]) bytes.message());
        assertEquals(Map.of("a", 1), reader.readFrame().message());
        assertArrayEquals(new byte[0], (byte[]) reader.readFrame().message());
        ChildSide.Frame error = reader.readFrame();
        assertEquals(new ChildSide.Frame(Codecs.UTF8, Frames.FLAG_REPLY | Frames.FLAG_ERROR, 7, "no such op"), error);
        assertNull(reader.readFrame());
    }

    @Test
    void linesAndFramesMixWithoutStealingEachOthersBytes() {
        ByteArrayOutputStream in = new ByteArrayOutputStream();
        ChildSide writer = ChildSide.over(new ByteArrayInputStream(new byte[0]), in);
        writer.writeLine("hello");
        writer.writeFrame("in a frame\nwith a newline");
        writer.writeLine("bye");
        ChildSide io = reading(in.toByteArray());
        assertEquals("hello", io.readLine());
        assertEquals("in a frame\nwith a newline", io.readFrame().message());
        assertEquals("bye", io.readLine());
    }

    @Test
    void undecodableRequestIsAnsweredWithAnErrorAndSkipped() {
        ByteBuffer frames = ByteBuffer.allocate(64);
        Frames.writeHeader(frames, 0x42, Frames.FLAG_REQUEST, 9, 1); // no codec for 0x42
        frames.put((byte) 0);
        Frames.writeHeader(frames, Codecs.UTF8, 0, 0, 1);
        frames.put((byte) 0xff); // malformed UTF-8
        Frames.writeHeader(frames, Codecs.UTF8, 0, 0, 2);
        frames.put("ok".getBytes(UTF_8));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ChildSide io = ChildSide.over(new ByteArrayInputStream(frames.array(), 0, frames.position()), out);

        assertThrows(UnknownTypeException.class, io::readFrame);
        assertThrows(DecodeException.class, io::readFrame);
        assertEquals("ok", io.readFrame().message());

        ChildSide.Frame reply = reading(out.toByteArray()).readFrame();
        assertEquals(Frames.FLAG_REPLY | Frames.FLAG_ERROR, reply.flags());
        assertEquals(9, reply.requestId());
        assertTrue(((String) reply.message()).contains("0x42"), reply.message().toString());
    }

    @Test
    void truncatedOrCorruptFramesAreProtocolErrors() {
        assertThrows(ProtocolException.class, () -> reading(new byte[] {2, 0, 0}).readFrame());
        byte[] cutBody = HexFormat.of().parseHex("0200" + "00000000" + "00000004" + "7069");
        assertThrows(ProtocolException.class, () -> reading(cutBody).readFrame());
        byte[] badFlags = HexFormat.of().parseHex("0280" + "00000000" + "00000000");
        assertThrows(ProtocolException.class, () -> reading(badFlags).readFrame());
    }

    @Test
    void replyToAOneWayFrameIsRefused() {
        ChildSide io = reading(new byte[0]);
        ChildSide.Frame oneWay = new ChildSide.Frame(Codecs.UTF8, 0, 0, "x");
        assertThrows(io.dualpipe.core.InvalidArgumentException.class, () -> io.reply(oneWay, "y"));
    }

    @Test
    void aGoneReaderIsABrokenPipe() {
        OutputStream failing = new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                throw new IOException("Broken pipe");
            }
        };
        ChildSide io = ChildSide.over(new ByteArrayInputStream(new byte[0]), failing);
        assertThrows(BrokenPipeException.class, () -> io.writeLine("x"));
        // System.out is a PrintStream, which hides the IOException; checkError() still reveals it.
        ChildSide viaPrintStream = ChildSide.over(new ByteArrayInputStream(new byte[0]), new PrintStream(failing, true));
        assertThrows(BrokenPipeException.class, () -> viaPrintStream.writeLine("x"));
    }
}
