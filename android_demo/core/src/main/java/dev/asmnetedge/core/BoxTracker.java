package dev.asmnetedge.core;

/**
 * Face tracking between frames, with the Python runtime's rules ({@code asmnet_edge.runtime.tracking}):
 * the next crop box is the last landmarks' box grown by the model's crop margin, and every track is
 * anchored to the last detector box that confirmed it. The detector runs again when a guard fires
 * ({@link #guardReason}): the box leaves the frame, gets too small, has an impossible aspect ratio,
 * changes size implausibly in one frame, the shape plausibility score is low, or the box drifted from
 * its anchor (size or centre); and every {@link #DEFAULT_REDETECT_INTERVAL} frames. The next crop is
 * moved on by {@link #MOTION_PREDICTION} of the last frame-to-frame motion ({@link #predict}), and a
 * face whose landmarks ask for a crop far from the one they were found in is re-aligned once on their
 * crop in the same frame ({@link #recropBox}, {@link #acceptRecrop}).
 *
 * <pre>{@code
 * BoxTracker tracker = new BoxTracker(width, height);
 * if (tracker.needsDetection()) tracker.detected(detectorCropOrNull);
 * FacePipeline.Result face = run(tracker.box());
 * Box recrop = tracker.recropBox(face.nextBox, face.box, face.score);
 * if (recrop != null) {
 *     FacePipeline.Result again = run(recrop);
 *     if (tracker.acceptRecrop(again.nextBox, again.box, again.score)) face = again;
 * }
 * String reason = tracker.update(face.nextBox, face.box, face.score);   // null: keep tracking
 * if (reason != null) { tracker.detected(detectorCropOrNull); ... re-run on tracker.box() }
 * }</pre>
 */
public final class BoxTracker {
    /** Smallest face box side (pixels) worth running the model on. */
    public static final double MIN_SIDE = 24.0;
    /** Largest change of box side between two frames (either way). */
    public static final double MAX_SCALE_STEP = 1.6;
    /** Frames between two detector runs while tracking (the same default as the CLI and library). */
    public static final int DEFAULT_REDETECT_INTERVAL = 30;
    /** Largest size ratio between the crop and its anchor before re-detection. */
    public static final double MAX_SCALE_DRIFT = 1.35;
    /** Largest centre offset from the anchor, in anchor sizes, before re-detection. */
    public static final double MAX_SHIFT_DRIFT = 0.5;
    /** Shape plausibility below which the face is re-detected. */
    public static final double MIN_SCORE = 0.25;
    /** A confirming detection that overlaps the crop less than this replaces it. */
    public static final double REANCHOR_IOU = 0.6;
    /** Least overlap for a detection to belong to the track. */
    public static final double MATCH_IOU = 0.2;
    /**
     * Share of the last frame-to-frame motion (centre shift and size change) added to the next crop, so
     * that a fast face stays inside the crop the network was trained on (0: crop where the face was).
     */
    public static final double MOTION_PREDICTION = 0.7;
    /**
     * Landmarks whose own crop overlaps the crop they were found in less than this are re-aligned on
     * their crop in the same frame (one more model call, only on such frames; 0: never).
     */
    public static final double RECROP_IOU = 0.7;
    /** Range of the area change between two frames that {@link #predict} carries on. */
    private static final double MIN_GROWTH = 0.8;
    private static final double MAX_GROWTH = 1.25;

    private final int imageWidth;
    private final int imageHeight;
    private final int redetectInterval;
    private Box box;
    private Box anchor;
    private Box last; // the landmark box of the previous frame, for the motion prediction
    private int framesSinceDetection;
    private String pendingReason;

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

    /** The detector box that last confirmed the track, or null. */
    public Box anchor() {
        return anchor;
    }

    /** True when the caller should run the face detector on this frame. */
    public boolean needsDetection() {
        return box == null || pendingReason != null
                || (redetectInterval > 0 && framesSinceDetection >= redetectInterval);
    }

    /**
     * A detector result, already mapped to the crop convention (null: no face found). A detection
     * that overlaps the track re-anchors it (and replaces the crop when they disagree); one elsewhere
     * starts a new track when none is followed. A miss ends a track whose guard fired, except a pure
     * drift: the detector misses turned heads that well-scored landmarks still follow.
     */
    public void detected(Box detection) {
        framesSinceDetection = 0;
        String reason = pendingReason;
        pendingReason = null;
        if (detection != null && !isPlausible(detection)) {
            detection = null;
        }
        if (detection == null) {
            if (reason != null && !reason.equals("drift")) {
                box = null;
                anchor = null;
                last = null;
            } else if (reason != null) {
                anchor = box; // trust the landmarks the detector cannot confirm
            }
            return;
        }
        boolean matches = box != null
                && Math.max(box.iou(detection), anchor == null ? 0.0 : anchor.iou(detection)) >= MATCH_IOU;
        if (box == null || !matches) {
            if (box == null || reason != null) {
                box = detection;
                anchor = detection;
                last = null;
            }
            return;
        }
        anchor = detection;
        if (reason != null || box.iou(detection) < REANCHOR_IOU) {
            box = detection;
            last = null; // the motion up to here belongs to the crop the detection replaced
        }
    }

    /**
     * The crop to re-align this frame on, or null: the landmarks' own crop {@code next} when it
     * overlaps the crop they were found in less than {@link #RECROP_IOU} ({@link #needsRecrop}) and the
     * face passes the guards, drift aside (a crop without a face is the guards' business, not this one's).
     */
    public Box recropBox(Box next, Box crop, double score) {
        if (box == null || next == null || !needsRecrop(next, crop)) {
            return null;
        }
        return guardReason(next, crop, null, score, imageWidth, imageHeight) == null ? next : null;
    }

    /**
     * Feed the face re-aligned on {@link #recropBox}'s crop: true (keep it, and it becomes the track's
     * crop for this frame) when it passes the guards too, drift aside; false: keep the first face.
     */
    public boolean acceptRecrop(Box next, Box crop, double score) {
        if (box == null || next == null || guardReason(next, crop, null, score, imageWidth, imageHeight) != null) {
            return false;
        }
        box = crop;
        return true;
    }

    /**
     * Feed the frame just processed: its landmark box ({@code null} = degenerate landmarks), the crop
     * it used, and the shape plausibility score. Returns the guard that fired (then call
     * {@link #detected} on this frame and re-run the model on {@link #box()}), or null.
     */
    public String update(Box next, Box crop, double score) {
        framesSinceDetection++;
        if (box == null) {
            return null;
        }
        String reason = next == null ? "degenerate" : guardReason(next, crop, anchor, score, imageWidth, imageHeight);
        if (reason == null) {
            box = predict(next, last, MOTION_PREDICTION);
            last = next;
        }
        pendingReason = reason;
        return reason;
    }

    /** Drop the track (camera switched, app paused). */
    public void reset() {
        box = null;
        anchor = null;
        last = null;
        pendingReason = null;
        framesSinceDetection = 0;
    }

    /**
     * The next crop, the same as Python's {@code _predict}: {@code observed} (this frame's landmark box)
     * moved on by {@code share} of the motion since {@code last} (the previous frame's; null: none), its
     * centre shift and its size change (the area ratio clipped to 0.8..1.25, raised to share / 2).
     */
    public static Box predict(Box observed, Box last, double share) {
        if (last == null || share <= 0) {
            return observed;
        }
        double shiftX = share * ((observed.x0 + observed.x1) - (last.x0 + last.x1)) / 2;
        double shiftY = share * ((observed.y0 + observed.y1) - (last.y0 + last.y1)) / 2;
        double growth = (observed.width() * observed.height()) / Math.max(last.width() * last.height(), 1e-9);
        double scale = Math.pow(Math.min(Math.max(growth, MIN_GROWTH), MAX_GROWTH), share / 2); // area -> side
        double centreX = (observed.x0 + observed.x1) / 2 + shiftX;
        double centreY = (observed.y0 + observed.y1) / 2 + shiftY;
        double halfW = observed.width() * scale / 2;
        double halfH = observed.height() * scale / 2;
        return new Box(centreX - halfW, centreY - halfH, centreX + halfW, centreY + halfH);
    }

    /**
     * True when the landmarks ask for a crop that overlaps the one they were found in less than
     * {@link #RECROP_IOU}, the same as Python's {@code needs_recrop}.
     */
    public static boolean needsRecrop(Box next, Box crop) {
        return RECROP_IOU > 0 && next.iou(crop) < RECROP_IOU;
    }

    /**
     * The tracking guards as one pure function, the same as Python's {@code guard_reason}: the first
     * that fires ("left-frame", "too-small", "aspect", "spread", "score", "drift"), or null.
     */
    public static String guardReason(Box next, Box crop, Box anchor, double score, int width, int height) {
        double centreX = next.centerX();
        double centreY = next.centerY();
        if (!(centreX >= 0 && centreX < width && centreY >= 0 && centreY < height)) {
            return "left-frame";
        }
        if (Math.min(next.width(), next.height()) < MIN_SIDE) {
            return "too-small";
        }
        double aspect = next.height() / next.width();
        if (!(aspect >= 0.5 && aspect <= 2.5)) {
            return "aspect";
        }
        double stepX = next.width() / crop.width();
        double stepY = next.height() / crop.height();
        double low = 1.0 / MAX_SCALE_STEP;
        if (!(stepX >= low && stepX <= MAX_SCALE_STEP && stepY >= low && stepY <= MAX_SCALE_STEP)) {
            return "spread";
        }
        if (score < MIN_SCORE) {
            return "score";
        }
        if (anchor != null && drifted(next, anchor)) {
            return "drift";
        }
        return null;
    }

    private static boolean drifted(Box next, Box anchor) {
        double size = Math.sqrt(next.width() * next.height());
        double anchorSize = Math.sqrt(anchor.width() * anchor.height());
        double ratio = size / Math.max(anchorSize, 1e-6);
        if (!(ratio >= 1.0 / MAX_SCALE_DRIFT && ratio <= MAX_SCALE_DRIFT)) {
            return true;
        }
        double shift = Math.hypot(next.centerX() - anchor.centerX(), next.centerY() - anchor.centerY());
        return shift > MAX_SHIFT_DRIFT * anchorSize;
    }

    private boolean isPlausible(Box candidate) {
        boolean bigEnough = Math.min(candidate.width(), candidate.height()) >= MIN_SIDE;
        boolean notHuge = candidate.width() <= 3.0 * Math.max(imageWidth, imageHeight);
        boolean centreInside = candidate.centerX() >= 0 && candidate.centerX() < imageWidth
                && candidate.centerY() >= 0 && candidate.centerY() < imageHeight;
        return bigEnough && notHuge && centreInside;
    }
}
