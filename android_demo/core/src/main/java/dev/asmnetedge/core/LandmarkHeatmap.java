package dev.asmnetedge.core;

/**
 * DAN's landmark image, the refine stage's fourth input channel, bit-exact with
 * {@code asmnet_edge.runtime.refine.landmark_heatmap} and the uint8 step of {@code aligned_input}:
 * {@code max_i 1 / (1 + d_i)} over the points whose square patch (half-width {@code patchHalf} px)
 * holds the pixel, 0 elsewhere, stored as {@code clip(rint(value * 255))}.
 *
 * <p>Python computes the distances in float32 (the differences rounded from float64, then squares,
 * sum, sqrt and {@code 1 / (1 + d)}, all float32); Java {@code float} arithmetic rounds the same
 * way, and {@code (float) Math.sqrt} of a float is the float square root. The byte conversion is
 * monotonic, so the maximum is taken over the bytes.
 *
 * <pre>{@code
 * LandmarkHeatmap.draw(alignedPoints, 80, 5.0, input, 4, 3);  // into channel 3 of an RGBH buffer
 * }</pre>
 */
public final class LandmarkHeatmap {
    private static final float LEVELS = 255.0f;

    private LandmarkHeatmap() {
    }

    /**
     * Draw the heatmap of {@code points} (flat, pixels of the {@code size x size} map) into byte
     * {@code channel} of every pixel of {@code out} ({@code pixelStride} bytes per pixel), replacing
     * what was there.
     */
    public static void draw(double[] points, int size, double patchHalf, byte[] out, int pixelStride, int channel) {
        if (channel < 0 || channel >= pixelStride || out.length < size * size * pixelStride) {
            throw new IllegalArgumentException("output buffer needs " + size * size * pixelStride
                    + " bytes with channel " + channel + " inside the pixel");
        }
        for (int index = channel; index < size * size * pixelStride; index += pixelStride) {
            out[index] = 0;
        }
        int low = (int) Math.floor(patchHalf);
        float half = (float) patchHalf; // numpy compares the float32 distances with a weak Python float
        for (int point = 0; point < points.length; point += 2) {
            double x = points[point];
            double y = points[point + 1];
            double baseX = Math.floor(x);
            double baseY = Math.floor(y);
            if (!(Math.abs(baseX) < 1e9 && Math.abs(baseY) < 1e9)) {
                continue; // far off (or NaN): Python's clipped patch draws only zeros
            }
            int rowStart = Math.max(0, (int) baseY - low);
            int rowEnd = Math.min(size - 1, (int) baseY + low + 1);
            int colStart = Math.max(0, (int) baseX - low);
            int colEnd = Math.min(size - 1, (int) baseX + low + 1);
            for (int row = rowStart; row <= rowEnd; row++) {
                float dy = (float) (row - y);
                if (!(Math.abs(dy) <= half)) {
                    continue;
                }
                for (int col = colStart; col <= colEnd; col++) {
                    float dx = (float) (col - x);
                    if (!(Math.abs(dx) <= half)) {
                        continue;
                    }
                    float value = 1.0f / (1.0f + (float) Math.sqrt(dy * dy + dx * dx));
                    int level = (int) Math.max(0.0, Math.min(255.0, Math.rint(value * LEVELS)));
                    int at = (row * size + col) * pixelStride + channel;
                    if (level > (out[at] & 0xFF)) {
                        out[at] = (byte) level;
                    }
                }
            }
        }
    }
}
