package dev.asmnetedge.core;

/**
 * 2x3 affine matrices of the refine stage, as {@code asmnet_edge.runtime.refine} computes them:
 * the least-squares similarity between two shapes, a shape through a matrix, and the inverse.
 *
 * <p>Matrices are flat row-major {@code [m00, m01, m02, m10, m11, m12]}: {@code x' = m00 x + m01 y + m02}.
 * Shapes are flat {@code [x0, y0, x1, y1, ...]}. Python sums with numpy (pairwise) and inverts with
 * LAPACK, so the values here agree to a few ulps, not bit for bit (the parity test states the bound).
 *
 * <pre>{@code
 * double[] matrix = Similarity.fit(stage1Points, meta.meanShape);  // stage-1 crop -> aligned frame
 * double[] aligned = Similarity.apply(stage1Points, matrix);
 * }</pre>
 */
public final class Similarity {
    private Similarity() {
    }

    /**
     * {@code [[a, -b, tx], [b, a, ty]]} taking {@code source} onto {@code target} in least squares:
     * in complex numbers {@code a + ib = sum(conj(s) m) / sum(|s|^2)} of the centred shapes (DAN's form).
     *
     * @throws IllegalArgumentException when the shapes differ in size or the source has no spread
     */
    public static double[] fit(double[] source, double[] target) {
        if (source.length != target.length || source.length < 2 || source.length % 2 != 0) {
            throw new IllegalArgumentException("similarity needs two shapes of the same size, got "
                    + source.length + " and " + target.length + " values");
        }
        int count = source.length / 2;
        double[] sourceMean = mean(source);
        double[] targetMean = mean(target);
        double norm = 0;
        double dot = 0;
        double cross = 0;
        for (int point = 0; point < count; point++) {
            double sx = source[2 * point] - sourceMean[0];
            double sy = source[2 * point + 1] - sourceMean[1];
            double mx = target[2 * point] - targetMean[0];
            double my = target[2 * point + 1] - targetMean[1];
            norm += sx * sx + sy * sy;
            dot += sx * mx + sy * my;
            cross += sx * my - sy * mx;
        }
        if (!Double.isFinite(norm) || norm < 1e-12) {
            throw new IllegalArgumentException("the stage-1 points have no spread (all in one place): nothing to align");
        }
        double a = dot / norm;
        double b = cross / norm;
        return new double[] {
            a, -b, targetMean[0] - (a * sourceMean[0] + -b * sourceMean[1]),
            b, a, targetMean[1] - (b * sourceMean[0] + a * sourceMean[1]),
        };
    }

    /** {@code points} (flat) through {@code matrix}. */
    public static double[] apply(double[] points, double[] matrix) {
        double[] out = new double[points.length];
        for (int index = 0; index < points.length; index += 2) {
            double x = points[index];
            double y = points[index + 1];
            out[index] = x * matrix[0] + y * matrix[1] + matrix[2];
            out[index + 1] = x * matrix[3] + y * matrix[4] + matrix[5];
        }
        return out;
    }

    /** The inverse affine map (OpenCV's {@code invertAffineTransform} formula). */
    public static double[] invert(double[] matrix) {
        double determinant = matrix[0] * matrix[4] - matrix[1] * matrix[3];
        if (determinant == 0 || !Double.isFinite(determinant)) {
            throw new IllegalArgumentException("the matrix is singular: it has no inverse");
        }
        double scale = 1.0 / determinant;
        double a11 = matrix[4] * scale;
        double a12 = -matrix[1] * scale;
        double a21 = -matrix[3] * scale;
        double a22 = matrix[0] * scale;
        return new double[] {
            a11, a12, -a11 * matrix[2] - a12 * matrix[5],
            a21, a22, -a21 * matrix[2] - a22 * matrix[5],
        };
    }

    private static double[] mean(double[] shape) {
        double sumX = 0;
        double sumY = 0;
        for (int index = 0; index < shape.length; index += 2) {
            sumX += shape[index];
            sumY += shape[index + 1];
        }
        int count = shape.length / 2;
        return new double[] {sumX / count, sumY / count};
    }
}
