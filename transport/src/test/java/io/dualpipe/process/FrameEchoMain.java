package io.dualpipe.process;

/**
 * A child for tests: answers each request frame. A String is upper-cased, a byte[] reversed;
 * "fail" gets an error reply.
 */
public final class FrameEchoMain {
    private FrameEchoMain() {
    }

    public static void main(String[] args) {
        ChildSide.run(io -> {
            ChildSide.Frame f;
            while ((f = io.readFrame()) != null) {
                if ("fail".equals(f.message())) {
                    io.replyError(f, "asked to fail");
                } else if (f.message() instanceof String s) {
                    io.reply(f, s.toUpperCase());
                } else if (f.message() instanceof byte[] b) {
                    byte[] r = new byte[b.length];
                    for (int i = 0; i < b.length; i++) {
                        r[i] = b[b.length - 1 - i];
                    }
                    io.reply(f, r);
                }
            }
        });
    }
}
