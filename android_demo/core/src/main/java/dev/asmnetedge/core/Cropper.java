package dev.asmnetedge.core;

/**
 * Cuts a face box out of an image and resizes it to {@code size x size} RGB, bilinear, bit-exact
 * with the numpy fallback of {@code asmnet_edge.runtime.geometry.crop_image} ({@code _crop_numpy}).
 *
 * <p>Why bit-exact rather than "close": the int8 model is fed quantised pixels, so one grey level of
 * difference in the crop changes the input tensor, and the parity test can then no longer tell a
 * real bug from resampling noise. The arithmetic below is therefore written to round exactly as
 * numpy does: everything in float64, no fused multiply-add (Java never fuses), the same operation
 * order, {@code Math.rint} (round half to even, like {@code np.rint}) and a clip to 0..255.
 *
 * <p>Conventions, as in Python: the box maps onto {@code [0, size]}; crop pixel (u, v) samples the
 * image at {@code inverse(matrix) . (u, v, 1)} (pixel-centre convention, no half-pixel shift);
 * samples outside the image read black.
 *
 * <pre>{@code
 * byte[] crop = Cropper.crop(frame, box, meta.inputSize);  // size * size * 3 bytes, RGB
 * }</pre>
 */
public final class Cropper {
    private Cropper() {
    }

    /** The crop as packed RGB bytes, {@code size * size * 3}. */
    public static byte[] crop(PixelImage image, Box box, int size) {
        byte[] out = new byte[size * size * 3];
        crop(image, box, size, out);
        return out;
    }

    /** Same as {@link #crop(PixelImage, Box, int)} into a caller-owned buffer (no per-frame allocation). */
    public static void crop(PixelImage image, Box box, int size, byte[] out) {
        if (size <= 0 || out.length < size * size * 3) {
            throw new IllegalArgumentException("output buffer needs " + size * size * 3 + " bytes");
        }
        // crop_matrix: scale = size / width, shift = -x0 * scale; then np.linalg.inv of that
        // diagonal affine map is, bit for bit, [1/scale, -(shift * (1/scale))] (checked against
        // numpy on 200k random boxes).
        double scaleX = size / box.width();
        double scaleY = size / box.height();
        double shiftX = -box.x0 * scaleX;
        double shiftY = -box.y0 * scaleY;
        double stepX = 1.0 / scaleX;
        double stepY = 1.0 / scaleY;
        double originX = -(shiftX * stepX);
        double originY = -(shiftY * stepY);

        int width = image.width;
        int height = image.height;
        int[] col0 = new int[size];
        int[] col1 = new int[size];
        double[] fracX = new double[size];
        for (int u = 0; u < size; u++) {
            double srcX = stepX * u + originX;
            double floorX = Math.floor(srcX);
            fracX[u] = srcX - floorX;
            // indices into numpy's zero-padded frame, clipped like np.clip(col0 + 1, 0, width + 1)
            col0[u] = Bilinear.clampIndex(floorX + 1, width);
            col1[u] = Bilinear.clampIndex(floorX + 2, width);
        }
        int offset = 0;
        for (int v = 0; v < size; v++) {
            double srcY = stepY * v + originY;
            double floorY = Math.floor(srcY);
            double fracY = srcY - floorY;
            int row0 = Bilinear.clampIndex(floorY + 1, height);
            int row1 = Bilinear.clampIndex(floorY + 2, height);
            for (int u = 0; u < size; u++) {
                for (int channel = 0; channel < 3; channel++) {
                    out[offset++] = (byte) Bilinear.sample(image, row0, row1, col0[u], col1[u], fracX[u], fracY, channel);
                }
            }
        }
    }
}
