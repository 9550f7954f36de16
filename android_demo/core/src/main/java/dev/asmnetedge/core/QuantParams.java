package dev.asmnetedge.core;

/**
 * Affine quantisation of one tensor, {@code real = scale * (q - zeroPoint)}, as in
 * {@code asmnet_edge.runtime.metadata.QuantParams}.
 *
 * <p>The scale is kept as the double value of the float32 the interpreter stores, which is what
 * the Python runtime sees too ({@code float(np.float32)}), so dequantisation agrees bit for bit.
 */
public final class QuantParams {
    /** A float32 tensor: no quantisation. */
    public static final QuantParams FLOAT32 = new QuantParams(TensorType.FLOAT32, 0.0, 0);

    public final TensorType type;
    public final double scale;
    public final int zeroPoint;

    public QuantParams(TensorType type, double scale, int zeroPoint) {
        if (type == null) {
            throw new MetadataException("a tensor type is required");
        }
        if (!(scale >= 0.0) || Double.isInfinite(scale)) {
            throw new MetadataException("a quantisation scale must be finite and >= 0, got " + scale);
        }
        this.type = type;
        this.scale = scale;
        this.zeroPoint = zeroPoint;
    }

    /** Same rule as the Python runtime: an integer type with a positive scale. */
    public boolean isQuantised() {
        return type != TensorType.FLOAT32 && scale > 0.0;
    }

    @Override
    public String toString() {
        return type.numpyName + "(scale=" + scale + ", zero_point=" + zeroPoint + ")";
    }
}
