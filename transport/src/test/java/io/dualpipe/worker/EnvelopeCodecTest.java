package io.dualpipe.worker;

import io.dualpipe.core.InvalidArgumentException;
import io.dualpipe.core.codec.Codecs;
import io.dualpipe.core.codec.DecodeException;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

class EnvelopeCodecTest {
    private final EnvelopeCodec codec = new EnvelopeCodec();

    @Test
    @org.junit.jupiter.api.Timeout(10)
    void theTypeByteIsTheOneCoreRecordsAsTaken() {
        assertEquals(0x04, EnvelopeCodec.TYPE); // Python workers write this byte: it must never move
        assertEquals(Codecs.WORKER_ENVELOPE, EnvelopeCodec.TYPE);
        assertInstanceOf(EnvelopeCodec.class, Worker.codecs().codec(EnvelopeCodec.TYPE));
    }

    @Test
    void roundTripInPymulprocShape() {
        Envelope e = new Envelope(Envelope.DO, 1234, 12345, Map.of("value", 20));
        ByteBuffer body = codec.encode(e);
        assertEquals("[\"DO\",1234,12345,{\"value\":20}]", StandardCharsets.UTF_8.decode(body.duplicate()).toString());
        assertEquals(e, codec.decode(body));
    }

    @Test
    void recipientZeroIsNull() {
        ByteBuffer body = codec.encode(new Envelope(Envelope.DIE, 1234, 0, null));
        assertEquals("[\"DIE\",1234,null,null]", StandardCharsets.UTF_8.decode(body.duplicate()).toString());
        assertEquals(new Envelope(Envelope.DIE, 1234, 0, null), codec.decode(body));
    }

    @Test
    void malformedEnvelopesAreDecodeErrors() {
        for (String bad : new String[] {"{}", "[\"DO\",1,2]", "[1,2,3,4]", "[\"DO\",\"x\",2,4]", "not json"}) {
            DecodeException e = assertThrows(DecodeException.class,
                    () -> codec.decode(ByteBuffer.wrap(bad.getBytes(StandardCharsets.UTF_8))), bad);
            assertEquals(EnvelopeCodec.TYPE, e.type());
        }
    }

    @Test
    void badEnvelopesAreRefusedWithTheRule() {
        assertEquals("request is empty: name the operation, e.g. DO, FINISHED, DIE",
                assertThrows(InvalidArgumentException.class, () -> new Envelope("", 1, 0, null)).getMessage());
        assertThrows(InvalidArgumentException.class, () -> new Envelope("DO", -1, 0, null));
    }
}
