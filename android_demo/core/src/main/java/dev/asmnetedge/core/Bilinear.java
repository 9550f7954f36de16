package dev.asmnetedge.core;

/**
 * The bilinear sample both warps use ({@link Cropper}, {@link AffineWarp}), written as numpy's
 * {@code geometry._crop_numpy} computes it: the image in a one-pixel black frame, the four indices
 * clipped into that frame, float64 weights, {@code rint} and a clip to 0..255. Kept in one place so
 * that the crop and the refine stage's aligned crop cannot drift apart.
 */
final class Bilinear {
    private Bilinear() {
    }

    /** Index in the padded frame (0 and limit + 1 are the black border), clipped to [0, limit + 1]. */
    static int clampIndex(double paddedIndex, int limit) {
        if (paddedIndex <= 0) {
            return 0;
        }
        if (paddedIndex >= limit + 1) {
            return limit + 1;
        }
        return (int) paddedIndex;
    }

    /**
     * One channel at padded rows {@code row0, row1} and columns {@code col0, col1} with fractions
     * {@code fracX, fracY}: {@code rint(top * (1 - fy) + bottom * fy)} clipped to 0..255.
     */
    static int sample(PixelImage image, int row0, int row1, int col0, int col1, double fracX, double fracY,
            int channel) {
        double top = padded(image, row0, col0, channel) * (1 - fracX) + padded(image, row0, col1, channel) * fracX;
        double bottom = padded(image, row1, col0, channel) * (1 - fracX) + padded(image, row1, col1, channel) * fracX;
        double value = Math.rint(top * (1 - fracY) + bottom * fracY);
        return (int) Math.max(0.0, Math.min(255.0, value));
    }

    private static double padded(PixelImage image, int paddedRow, int paddedCol, int channel) {
        if (paddedRow == 0 || paddedCol == 0 || paddedRow > image.height || paddedCol > image.width) {
            return 0.0;
        }
        return image.channel(paddedCol - 1, paddedRow - 1, channel);
    }
}
