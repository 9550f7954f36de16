package dev.asmnetedge.core;

/**
 * Read-only access to the RGB channels of an 8-bit image, whatever its memory layout.
 *
 * <p>The camera hands out RGBA rows with padding ({@code ImageProxy} plane 0), a Bitmap hands out
 * ARGB ints, and the test vectors are packed RGB: the crop reads all three through this one view
 * instead of copying frames into a common format first.
 *
 * <pre>{@code
 * PixelImage frame = PixelImage.ofRgba(bytes, width, height, rowStride);
 * }</pre>
 */
public abstract class PixelImage {
    public final int width;
    public final int height;

    protected PixelImage(int width, int height) {
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("image must not be empty, got " + width + "x" + height);
        }
        this.width = width;
        this.height = height;
    }

    /** Channel {@code channel} (0 = R, 1 = G, 2 = B) of pixel (col, row), 0..255; no bounds check. */
    public abstract int channel(int col, int row, int channel);

    /** Packed RGB bytes, 3 per pixel, rows back to back (numpy {@code uint8 (H, W, 3)}). */
    public static PixelImage ofRgb(byte[] rgb, int width, int height) {
        return new Interleaved(rgb, width, height, 3, width * 3);
    }

    /** RGBA bytes, 4 per pixel, {@code rowStride} bytes per row (CameraX RGBA_8888 output). */
    public static PixelImage ofRgba(byte[] rgba, int width, int height, int rowStride) {
        return new Interleaved(rgba, width, height, 4, rowStride);
    }

    /** ARGB_8888 ints as {@code android.graphics.Bitmap.getPixels} returns them, {@code stride} ints per row. */
    public static PixelImage ofArgb(int[] argb, int width, int height, int stride) {
        return new Argb(argb, width, height, stride);
    }

    /**
     * This image turned clockwise by {@code degrees} (0, 90, 180 or 270), without copying: CameraX
     * delivers sensor-oriented frames plus {@code ImageInfo.getRotationDegrees()}, the clockwise turn
     * that makes them upright, and the model must see the face upright.
     */
    public PixelImage rotated(int degrees) {
        int turns = Math.floorMod(degrees, 360) / 90;
        if (Math.floorMod(degrees, 90) != 0) {
            throw new IllegalArgumentException("rotation must be a multiple of 90 degrees, got " + degrees);
        }
        return turns == 0 ? this : new Rotated(this, turns);
    }

    private static final class Rotated extends PixelImage {
        private final PixelImage source;
        private final int turns;

        Rotated(PixelImage source, int turns) {
            super(turns % 2 == 0 ? source.width : source.height, turns % 2 == 0 ? source.height : source.width);
            this.source = source;
            this.turns = turns;
        }

        @Override
        public int channel(int col, int row, int channel) {
            // upright (col, row) back to the source pixel that a clockwise turn moved there
            switch (turns) {
                case 1:
                    return source.channel(row, source.height - 1 - col, channel);
                case 2:
                    return source.channel(source.width - 1 - col, source.height - 1 - row, channel);
                default:
                    return source.channel(source.width - 1 - row, col, channel);
            }
        }
    }

    private static final class Interleaved extends PixelImage {
        private final byte[] data;
        private final int pixelStride;
        private final int rowStride;

        Interleaved(byte[] data, int width, int height, int pixelStride, int rowStride) {
            super(width, height);
            if (rowStride < width * pixelStride || (long) rowStride * (height - 1) + (long) width * pixelStride > data.length) {
                throw new IllegalArgumentException("buffer of " + data.length + " bytes is too small for "
                        + width + "x" + height + " with row stride " + rowStride);
            }
            this.data = data;
            this.pixelStride = pixelStride;
            this.rowStride = rowStride;
        }

        @Override
        public int channel(int col, int row, int channel) {
            return data[row * rowStride + col * pixelStride + channel] & 0xFF;
        }
    }

    private static final class Argb extends PixelImage {
        private final int[] data;
        private final int stride;

        Argb(int[] data, int width, int height, int stride) {
            super(width, height);
            if (stride < width || (long) stride * (height - 1) + width > data.length) {
                throw new IllegalArgumentException("pixel array too small for " + width + "x" + height);
            }
            this.data = data;
            this.stride = stride;
        }

        @Override
        public int channel(int col, int row, int channel) {
            // ARGB: R in bits 16-23, G in 8-15, B in 0-7
            return (data[row * stride + col] >> (16 - 8 * channel)) & 0xFF;
        }
    }
}
