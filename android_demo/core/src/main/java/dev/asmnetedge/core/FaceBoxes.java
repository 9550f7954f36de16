package dev.asmnetedge.core;

/**
 * A first crop box from a face detector that reports the eyes, such as Android's built-in
 * {@code android.media.FaceDetector} (mid-point between the eyes and the eye distance).
 *
 * <p>ASMNet expects the crop of the 68 landmarks' box plus a margin, not a detector's own box. The
 * proportions below, in eye-centre distances, come from the frontal iBUG-68 mean shape in
 * {@code tests/fixtures/make_fixtures.py} with a square landmark box: jaw 1.15 to each side of the
 * eye mid-point, brows 0.40 above the eye line, chin 1.90 below. Approximate on purpose: the
 * tracker re-fits the box to the predicted landmarks on the next frame.
 */
public final class FaceBoxes {
    static final double HALF_WIDTH = 1.15;
    static final double ABOVE_EYES = 0.40;
    static final double BELOW_EYES = 1.90;

    private FaceBoxes() {
    }

    /**
     * The crop box for a face whose eye mid-point is ({@code midX}, {@code midY}) and whose eye
     * centres are {@code eyeDistance} apart, grown by {@code margin} like a landmark box.
     */
    public static Box fromEyes(double midX, double midY, double eyeDistance, double margin) {
        if (!(eyeDistance > 0)) {
            throw new IllegalArgumentException("eye distance must be positive, got " + eyeDistance);
        }
        Box landmarkBox = new Box(midX - HALF_WIDTH * eyeDistance, midY - ABOVE_EYES * eyeDistance,
                midX + HALF_WIDTH * eyeDistance, midY + BELOW_EYES * eyeDistance);
        return landmarkBox.expand(margin);
    }
}
