package dev.asmnetedge.core;

/**
 * Smooths one track's landmarks (pixels) and pose (degrees), the same as Python's
 * {@code asmnet_edge.runtime.smoothing.FaceSmoother}: the landmarks are split into the face's rigid
 * motion (centre, size, in-plane angle, estimated from all the points and so far less noisy than any
 * one of them) and its shape in its own frame (the points with that motion taken out). The motion gets
 * a fast-opening One-Euro filter (centre speeds in face radii per second; log size and angle per
 * second), so a moving face is not trailed; the shape, where the per-point noise is, a slower one. The
 * angle is measured against the first frame's shape and unwrapped, so a face turning past 180 degrees
 * does not jump. Start a new smoother for every new track ({@link BoxTracker#trackId()}); the tracker
 * itself follows the unsmoothed landmarks, so smoothing adds no lag to tracking.
 *
 * <pre>{@code
 * FaceSmoother smoother = new FaceSmoother();
 * FaceSmoother.Smoothed shown = smoother.smooth(face.landmarks, face.poseDeg, FaceSmoother.DEFAULT_INTERVAL);
 * draw(shown.landmarks, shown.poseDeg);
 * }</pre>
 */
public final class FaceSmoother {
    /** Seconds between two frames when the caller does not know (Python's default 1 / fps, 30 fps). */
    public static final double DEFAULT_INTERVAL = 1.0 / 30.0;
    /** Python's {@code SmoothingConfig} defaults, tuned on the tracking clips (docs/runtime.md). */
    public static final double MOTION_MIN_CUTOFF = 1.0;
    public static final double MOTION_BETA = 60.0;
    public static final double LANDMARK_MIN_CUTOFF = 0.5;
    public static final double LANDMARK_BETA = 10.0;
    public static final double POSE_MIN_CUTOFF = 1.0;
    public static final double POSE_BETA = 0.05;

    /** One smoothed frame. */
    public static final class Smoothed {
        /** Flat {@code [x0, y0, x1, y1, ...]} in image pixels. */
        public final double[] landmarks;
        /** {@code [yaw, pitch, roll]} in degrees. */
        public final double[] poseDeg;

        Smoothed(double[] landmarks, double[] poseDeg) {
            this.landmarks = landmarks;
            this.poseDeg = poseDeg;
        }
    }

    private final OneEuro centre;
    private final OneEuro frame; // log size, angle
    private final OneEuro shape;
    private final OneEuro pose;
    private double[] reference; // the first frame's normalised shape (angle zero)
    private double angle; // the last angle, unwrapped

    /** The settings of Python's {@code SmoothingConfig()}. */
    public FaceSmoother() {
        this(MOTION_MIN_CUTOFF, MOTION_BETA, LANDMARK_MIN_CUTOFF, LANDMARK_BETA, POSE_MIN_CUTOFF, POSE_BETA);
    }

    /** Cut-offs in Hz and speed coefficients of the motion, shape ("landmark" in Python) and pose filters. */
    public FaceSmoother(double motionMinCutoff, double motionBeta, double landmarkMinCutoff, double landmarkBeta,
            double poseMinCutoff, double poseBeta) {
        centre = new OneEuro(motionMinCutoff, motionBeta);
        frame = new OneEuro(motionMinCutoff, motionBeta);
        shape = new OneEuro(landmarkMinCutoff, landmarkBeta);
        pose = new OneEuro(poseMinCutoff, poseBeta);
    }

    /**
     * Smooth one frame: flat {@code [x0, y0, ...]} landmarks in pixels (at least two points, not all
     * in one place), pose in degrees, {@code interval} the seconds since the last frame.
     */
    public Smoothed smooth(double[] landmarks, double[] poseDeg, double interval) {
        int count = landmarks.length / 2;
        if (count < 2 || landmarks.length % 2 != 0) {
            throw new IllegalArgumentException("need at least two (x, y) points, got " + landmarks.length + " values");
        }
        double centreX = 0;
        double centreY = 0;
        for (int point = 0; point < count; point++) {
            centreX += landmarks[2 * point];
            centreY += landmarks[2 * point + 1];
        }
        centreX /= count;
        centreY /= count;
        double squares = 0;
        for (int point = 0; point < count; point++) {
            double dx = landmarks[2 * point] - centreX;
            double dy = landmarks[2 * point + 1] - centreY;
            squares += dx * dx + dy * dy;
        }
        double radius = Math.max(Math.sqrt(squares / count), 1e-9);
        double[] normalised = new double[landmarks.length];
        for (int index = 0; index < landmarks.length; index++) {
            normalised[index] = (landmarks[index] - (index % 2 == 0 ? centreX : centreY)) / radius;
        }
        if (reference == null || reference.length != normalised.length) {
            reference = normalised.clone();
            angle = 0.0;
        }
        double cross = 0;
        double dot = 0;
        for (int point = 0; point < count; point++) {
            double refX = reference[2 * point];
            double refY = reference[2 * point + 1];
            double x = normalised[2 * point];
            double y = normalised[2 * point + 1];
            cross += refX * y - refY * x;
            dot += refX * x + refY * y;
        }
        // unwrapped: the step from the last angle is taken the short way round
        angle = angle + Math.IEEEremainder(Math.atan2(cross, dot) - angle, 2 * Math.PI);
        double[] centreF = centre.filter(new double[] {centreX, centreY}, interval, radius);
        double[] frameF = frame.filter(new double[] {Math.log(radius), angle}, interval, 1.0);
        double[] shapeF = shape.filter(turn(normalised, -angle), interval, 1.0);
        double[] smoothed = turn(shapeF, frameF[1]);
        double size = Math.exp(frameF[0]);
        for (int index = 0; index < smoothed.length; index++) {
            smoothed[index] = size * smoothed[index] + centreF[index % 2];
        }
        return new Smoothed(smoothed, pose.filter(poseDeg, interval, 1.0));
    }

    /** Flat points turned by {@code radians} (x right, y down: clockwise on screen). */
    private static double[] turn(double[] points, double radians) {
        double cos = Math.cos(radians);
        double sin = Math.sin(radians);
        double[] out = new double[points.length];
        for (int index = 0; index < points.length; index += 2) {
            double x = points[index];
            double y = points[index + 1];
            out[index] = x * cos - y * sin;
            out[index + 1] = x * sin + y * cos;
        }
        return out;
    }
}
