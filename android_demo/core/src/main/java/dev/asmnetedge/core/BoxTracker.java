package dev.asmnetedge.core;

/**
 * ML-free face tracking between frames: the next crop box is the last landmarks' box grown by the
 * model's crop margin, i.e. exactly the crop convention the network was trained on, so the crop
 * re-centres itself on the face every frame. A face detector is only needed to start (or restart).
 *
 * <p>There is no confidence output to tell a lost face, so loss is judged from geometry: the box
 * collapsing or exploding between two frames, getting too small, or leaving the frame. A periodic
 * re-detection bounds how long the tracker can follow something that is not a face.
 *
 * <pre>{@code
 * BoxTracker tracker = new BoxTracker(width, height);
 * if (tracker.needsDetection()) tracker.start(detectedBox);
 * FacePipeline.Result face = run(tracker.box());
 * tracker.update(face.nextBox);
 * }</pre>
 */
public final class BoxTracker {
    /** Smallest face box side (pixels) worth running the model on. */
    public static final double MIN_SIDE = 24.0;
    /** Largest change of box side between two frames before the track is called lost. */
    public static final double MAX_SCALE_STEP = 1.6;
    /** Frames between two detector runs while tracking. */
    public static final int DEFAULT_REDETECT_INTERVAL = 60;

    private final int imageWidth;
    private final int imageHeight;
    private final int redetectInterval;
    private Box box;
    private int framesSinceDetection;

    public BoxTracker(int imageWidth, int imageHeight) {
        this(imageWidth, imageHeight, DEFAULT_REDETECT_INTERVAL);
    }

    public BoxTracker(int imageWidth, int imageHeight, int redetectInterval) {
        this.imageWidth = imageWidth;
        this.imageHeight = imageHeight;
        this.redetectInterval = redetectInterval;
    }

    /** Width of the (upright) frames this tracker follows a face in. */
    public int getImageWidth() {
        return imageWidth;
    }

    /** Height of the (upright) frames this tracker follows a face in. */
    public int getImageHeight() {
        return imageHeight;
    }

    /** The box to crop the next frame along, or null when no face is tracked. */
    public Box box() {
        return box;
    }

    /** True when the caller should run the face detector on this frame. */
    public boolean needsDetection() {
        return box == null || framesSinceDetection >= redetectInterval;
    }

    /**
     * A detector result (null: no face found). While tracking, a detection that overlaps the tracked
     * box keeps the landmark-fitted box, which follows the training crop convention better than
     * the detector's guess; a detection elsewhere replaces it. A miss does not end a track: the
     * built-in detector misses turned heads that the landmarks still follow.
     */
    public void start(Box detected) {
        framesSinceDetection = 0;
        if (detected == null || !isPlausible(detected)) {
            return;
        }
        if (box == null || box.iou(detected) < 0.3) {
            box = detected;
        }
    }

    /** Feed the landmark box of the frame just processed (null = degenerate landmarks). */
    public void update(Box next) {
        framesSinceDetection++;
        if (next == null || box == null || !isPlausible(next)) {
            box = null;
            return;
        }
        double step = Math.max(next.width() / box.width(), box.width() / next.width());
        box = step > MAX_SCALE_STEP ? null : next;
    }

    /** Drop the track (camera switched, app paused). */
    public void reset() {
        box = null;
        framesSinceDetection = 0;
    }

    private boolean isPlausible(Box candidate) {
        boolean bigEnough = Math.min(candidate.width(), candidate.height()) >= MIN_SIDE;
        boolean notHuge = candidate.width() <= 3.0 * Math.max(imageWidth, imageHeight);
        boolean centreInside = candidate.centerX() >= 0 && candidate.centerX() < imageWidth
                && candidate.centerY() >= 0 && candidate.centerY() < imageHeight;
        return bigEnough && notHuge && centreInside;
    }
}
