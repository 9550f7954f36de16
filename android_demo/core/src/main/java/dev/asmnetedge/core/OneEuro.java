package dev.asmnetedge.core;

/**
 * A One-Euro filter (Casiez et al., CHI 2012) over a vector of values, the same as Python's
 * {@code asmnet_edge.runtime.smoothing.OneEuro}: each value is low-pass filtered with a cut-off that
 * rises with its own speed, {@code cutoff = minCutoff + beta * |speed| / speedUnit}, so it smooths
 * when still and does not lag when moving.
 *
 * <pre>{@code
 * OneEuro filter = new OneEuro(1.0, 0.0);
 * filter.filter(new double[] {0.0}, 1 / 30.0, 1.0);   // {0.0}: the first sample passes through
 * filter.filter(new double[] {1.0}, 1 / 30.0, 1.0);   // {0.173...}
 * }</pre>
 */
public final class OneEuro {
    private final double minCutoff;
    private final double beta;
    private final double derivativeCutoff;
    private double[] value; // null until the first sample
    private double[] speed;

    public OneEuro(double minCutoff, double beta) {
        this(minCutoff, beta, 1.0);
    }

    public OneEuro(double minCutoff, double beta, double derivativeCutoff) {
        this.minCutoff = minCutoff;
        this.beta = beta;
        this.derivativeCutoff = derivativeCutoff;
    }

    /** Forget the past: the next sample passes through. */
    public void reset() {
        value = null;
        speed = null;
    }

    /**
     * Filter one sample taken {@code interval} seconds after the last; speeds are divided by
     * {@code speedUnit} before {@code beta} applies. The first sample, one of another length or a
     * non-positive interval restarts the filter (the sample passes through). Returns a new array.
     */
    public double[] filter(double[] sample, double interval, double speedUnit) {
        if (value == null || value.length != sample.length || interval <= 0) {
            value = sample.clone();
            speed = new double[sample.length];
            return sample.clone();
        }
        double speedAlpha = alpha(derivativeCutoff, interval);
        for (int index = 0; index < sample.length; index++) {
            double rawSpeed = (sample[index] - value[index]) / interval;
            speed[index] = speed[index] + speedAlpha * (rawSpeed - speed[index]);
            double cutoff = minCutoff + beta * Math.abs(speed[index]) / speedUnit;
            value[index] = value[index] + alpha(cutoff, interval) * (sample[index] - value[index]);
        }
        return value.clone();
    }

    private static double alpha(double cutoff, double interval) {
        double tau = 1.0 / (2.0 * Math.PI * cutoff);
        return 1.0 / (1.0 + tau / interval);
    }
}
