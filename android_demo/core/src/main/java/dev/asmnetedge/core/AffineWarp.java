package dev.asmnetedge.core;

/**
 * The {@code size x size} image whose pixel {@code p} reads {@code image} at {@code matrix^-1 p}
 * (bilinear, black outside), as {@code asmnet_edge.runtime.geometry.warp_image} makes it: the refine
 * stage's aligned crop. {@code matrix} maps image pixels to output pixels (OpenCV's
 * {@code warpAffine} convention).
 *
 * <p>The sampling is numpy's fallback ({@code _crop_numpy}) operation by operation, through the same
 * {@link Bilinear} kernel as {@link Cropper}. The Python runtime takes OpenCV's fixed-point
 * {@code warpAffine} when OpenCV is installed (1/32-pixel positions, 15-bit weights); the two differ
 * by a few grey levels on edges, and the parity test bounds both differences.
 *
 * <pre>{@code
 * byte[] aligned = new byte[80 * 80 * 4];
 * AffineWarp.warp(PixelImage.ofRgb(crop, 128, 128), matrix, 80, aligned, 4);  // RGB into channels 0-2
 * }</pre>
 */
public final class AffineWarp {
    private AffineWarp() {
    }

    /**
     * Write the warped RGB into {@code out}, {@code pixelStride} bytes per pixel (3 for packed RGB,
     * 4 to leave channel 3 free for the refine stage's heatmap), rows back to back.
     */
    public static void warp(PixelImage image, double[] matrix, int size, byte[] out, int pixelStride) {
        if (size <= 0 || pixelStride < 3 || out.length < size * size * pixelStride) {
            throw new IllegalArgumentException("output buffer needs " + size * size * pixelStride + " bytes");
        }
        double[] inverse = Similarity.invert(matrix);
        int offset = 0;
        for (int v = 0; v < size; v++) {
            for (int u = 0; u < size; u++) {
                // numpy: inverse[0, 0] * grid_u + inverse[0, 1] * grid_v + inverse[0, 2], left to right
                double srcX = inverse[0] * u + inverse[1] * v + inverse[2];
                double srcY = inverse[3] * u + inverse[4] * v + inverse[5];
                double floorX = Math.floor(srcX);
                double floorY = Math.floor(srcY);
                int col0 = Bilinear.clampIndex(floorX + 1, image.width);
                int col1 = Bilinear.clampIndex(floorX + 2, image.width);
                int row0 = Bilinear.clampIndex(floorY + 1, image.height);
                int row1 = Bilinear.clampIndex(floorY + 2, image.height);
                for (int channel = 0; channel < 3; channel++) {
                    out[offset + channel] = (byte) Bilinear.sample(image, row0, row1, col0, col1,
                            srcX - floorX, srcY - floorY, channel);
                }
                offset += pixelStride;
            }
        }
    }
}
