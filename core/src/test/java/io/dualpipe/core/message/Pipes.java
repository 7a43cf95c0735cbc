package io.dualpipe.core.message;

import io.dualpipe.core.ByteSink;
import io.dualpipe.core.EventLoop;
import io.dualpipe.core.FdChannel;
import io.dualpipe.core.LoopFuture;
import io.dualpipe.core.codec.CodecRegistry;
import io.dualpipe.core.codec.Codecs;
import io.dualpipe.core.codec.DecodeException;
import io.dualpipe.core.codec.EncodeException;
import io.dualpipe.core.codec.MessageCodec;
import io.dualpipe.core.internal.FdStream;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/** Two message channels joined by two real pipes, and the codecs the tests use. */
final class Pipes {
    record Order(String item, int quantity) {
    }

    /** The original's example custom protocol: a fixed table of strings, one byte each. */
    static final class StringTableCodec implements MessageCodec<String> {
        static final int TYPE = 'S';
        private static final Map<String, Byte> MAP = Map.of("Hello World", (byte) 'h', "Goodbye", (byte) 'g');

        @Override
        public int type() {
            return TYPE;
        }

        @Override
        public Class<String> javaType() {
            return String.class;
        }

        @Override
        public ByteBuffer encode(String message) {
            Byte b = MAP.get(message);
            if (b == null) {
                throw new EncodeException(TYPE, "string table cannot encode '" + message + "': not in the table");
            }
            return ByteBuffer.wrap(new byte[] {b});
        }

        @Override
        public String decode(ByteBuffer body) {
            if (body.remaining() == 1) {
                byte b = body.get();
                for (Map.Entry<String, Byte> e : MAP.entrySet()) {
                    if (e.getValue() == b) {
                        return e.getKey();
                    }
                }
            }
            throw new DecodeException(TYPE, "string table cannot decode " + body.remaining() + "-byte body");
        }

        @Override
        public String toString() {
            return "string-table";
        }
    }

    static final int ORDER = 0x10;

    /** Built-ins and a user class (JSON). */
    static CodecRegistry codecs() {
        return CodecRegistry.builder()
                .registerAll(Codecs.builtins())
                .register(Codecs.json(ORDER, Order.class))
                .build();
    }

    /**
     * With the string table as well. It encodes Strings too, so a String must then be sent with its
     * type byte (as the original's {@code send_msg('S', ...)}); the registry refuses to guess.
     */
    static CodecRegistry codecsWithTable() {
        return CodecRegistry.builder()
                .registerAll(Codecs.builtins())
                .register(new StringTableCodec())
                .build();
    }

    /** Counts the writes that reach a sink: how many system calls the frames cost. */
    static final class CountingSink implements ByteSink {
        final FdStream delegate;
        final AtomicInteger writes = new AtomicInteger();

        CountingSink(FdStream delegate) {
            this.delegate = delegate;
        }

        public EventLoop loop() {
            return delegate.loop();
        }

        public LoopFuture<Void> write(ByteBuffer data) {
            writes.incrementAndGet();
            return delegate.write(data);
        }

        public LoopFuture<Void> write(byte[] data) {
            writes.incrementAndGet();
            return delegate.write(data);
        }

        public LoopFuture<Void> write(String text) {
            return write(text.getBytes(StandardCharsets.UTF_8));
        }

        public boolean isWritable() {
            return delegate.isWritable();
        }

        public long queuedBytes() {
            return delegate.queuedBytes();
        }

        public LoopFuture<Void> whenWritable() {
            return delegate.whenWritable();
        }

        public LoopFuture<Void> shutdownOutput() {
            return delegate.shutdownOutput();
        }

        public void close() {
            delegate.close();
        }
    }

    final MessageChannel a;
    final MessageChannel b;
    final CountingSink aOut;
    /** b's raw input end, for tests that inject bytes as "a": the write end of the pipe b reads. */
    final FdStream bInRawWriter;
    /** b's source, to pause and resume its reading. */
    final FdStream bIn;

    Pipes(EventLoop loop, MessageChannelBuilder aConfig, MessageChannelBuilder bConfig) {
        FdChannel[] aToB = FdChannel.pipe();
        FdChannel[] bToA = FdChannel.pipe();
        FdStream aOutStream = FdStream.sink(loop, aToB[1], "a.out", 64 * 1024, 32 * 1024);
        this.aOut = new CountingSink(aOutStream);
        this.bInRawWriter = aOutStream;
        this.bIn = FdStream.source(loop, aToB[0], "b.in", 64 * 1024);
        FdStream bOut = FdStream.sink(loop, bToA[1], "b.out", 64 * 1024, 32 * 1024);
        FdStream aIn = FdStream.source(loop, bToA[0], "a.in", 64 * 1024);
        this.a = aConfig.name("a").open(aIn, aOut);
        this.b = bConfig.name("b").open(bIn, bOut);
    }
}
