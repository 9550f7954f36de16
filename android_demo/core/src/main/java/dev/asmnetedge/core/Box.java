package dev.asmnetedge.core;

/**
 * An axis-aligned box in image pixels, {@code x0 < x1} and {@code y0 < y1}, as
 * {@code asmnet_edge.runtime.geometry.Box}. Pixel (col, row) is centred on (col, row).
 *
 * <pre>{@code
 * Box face = Box.ofLandmarks(points).expand(meta.cropMargin);
 * }</pre>
 */
public final class Box {
    public final double x0;
    public final double y0;
    public final double x1;
    public final double y1;

    public Box(double x0, double y0, double x1, double y1) {
        if (!(x1 > x0) || !(y1 > y0) || Double.isInfinite(x0) || Double.isInfinite(y0)
                || Double.isInfinite(x1) || Double.isInfinite(y1)) {
            throw new IllegalArgumentException(
                    "a box needs finite x0 < x1 and y0 < y1, got " + x0 + ", " + y0 + ", " + x1 + ", " + y1);
        }
        this.x0 = x0;
        this.y0 = y0;
        this.x1 = x1;
        this.y1 = y1;
    }

    public double width() {
        return x1 - x0;
    }

    public double height() {
        return y1 - y0;
    }

    public double centerX() {
        return (x0 + x1) / 2.0;
    }

    public double centerY() {
        return (y0 + y1) / 2.0;
    }

    /**
     * Tight box of flat {@code [x0, y0, x1, y1, ...]} points ({@code geometry.landmark_box}).
     *
     * @throws IllegalArgumentException for fewer than two points, non-finite values or a degenerate
     *     spread (all points on one horizontal or vertical line)
     */
    public static Box ofLandmarks(double[] points) {
        if (points.length < 4 || points.length % 2 != 0) {
            throw new IllegalArgumentException("need at least two (x, y) points, got " + points.length + " values");
        }
        double minX = Double.POSITIVE_INFINITY;
        double minY = Double.POSITIVE_INFINITY;
        double maxX = Double.NEGATIVE_INFINITY;
        double maxY = Double.NEGATIVE_INFINITY;
        for (int index = 0; index < points.length; index += 2) {
            double x = points[index];
            double y = points[index + 1];
            if (Double.isNaN(x) || Double.isNaN(y) || Double.isInfinite(x) || Double.isInfinite(y)) {
                throw new IllegalArgumentException("landmarks must be finite");
            }
            minX = Math.min(minX, x);
            minY = Math.min(minY, y);
            maxX = Math.max(maxX, x);
            maxY = Math.max(maxY, y);
        }
        if (!(maxX > minX) || !(maxY > minY)) {
            throw new IllegalArgumentException("landmarks span no area: all points lie on one line");
        }
        return new Box(minX, minY, maxX, maxY);
    }

    /**
     * Grow by {@code margin} times the width/height on each side ({@code geometry.expand_box}),
     * written in the same operation order as numpy so results are bit-identical.
     */
    public Box expand(double margin) {
        double width = width();
        double height = height();
        return new Box(x0 - margin * width, y0 - margin * height, x1 + margin * width, y1 + margin * height);
    }

    /** Overlap area divided by union area, in [0, 1]; used to tell a re-detected face from the tracked one. */
    public double iou(Box other) {
        double overlapW = Math.min(x1, other.x1) - Math.max(x0, other.x0);
        double overlapH = Math.min(y1, other.y1) - Math.max(y0, other.y0);
        if (overlapW <= 0 || overlapH <= 0) {
            return 0.0;
        }
        double overlap = overlapW * overlapH;
        return overlap / (width() * height() + other.width() * other.height() - overlap);
    }

    public double[] toArray() {
        return new double[] {x0, y0, x1, y1};
    }

    @Override
    public String toString() {
        return "Box(" + x0 + ", " + y0 + ", " + x1 + ", " + y1 + ")";
    }
}
