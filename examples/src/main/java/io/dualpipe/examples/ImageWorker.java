package io.dualpipe.examples;

import io.dualpipe.process.ChildSide;

/**
 * A child program for {@link ParallelImages}: answers each request frame carrying a square 8-bit
 * grayscale image ({@code byte[]}, side = sqrt(length)) with the image blurred by a 3x3 box filter.
 */
public final class ImageWorker {
    private ImageWorker() {
    }

    public static void main(String[] args) {
        ChildSide.run(io -> {
            for (ChildSide.Frame f; (f = io.readFrame()) != null; ) {
                if (f.message() instanceof byte[] image && isSquare(image.length)) {
                    io.reply(f, blur(image));
                } else {
                    io.replyError(f, "expected a square grayscale image as bytes");
                }
            }
        });
    }

    static boolean isSquare(int n) {
        int side = (int) Math.sqrt(n);
        return side > 0 && side * side == n;
    }

    /** 3x3 box blur, edges clamped. Pure, so the parent can check the child's work. */
    static byte[] blur(byte[] image) {
        int side = (int) Math.sqrt(image.length);
        byte[] out = new byte[image.length];
        for (int y = 0; y < side; y++) {
            for (int x = 0; x < side; x++) {
                int sum = 0;
                for (int dy = -1; dy <= 1; dy++) {
                    for (int dx = -1; dx <= 1; dx++) {
                        int yy = Math.min(side - 1, Math.max(0, y + dy));
                        int xx = Math.min(side - 1, Math.max(0, x + dx));
                        sum += image[yy * side + xx] & 0xff;
                    }
                }
                out[y * side + x] = (byte) (sum / 9);
            }
        }
        return out;
    }
}
