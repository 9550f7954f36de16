package dev.asmnetedge.core;

/**
 * Face tracking between frames, with the Python runtime's rules ({@code asmnet_edge.runtime.tracking},
 * one face): the next crop is the last landmarks' box grown by the model's crop margin and moved on by
 * {@link #MOTION_PREDICTION} of the last motion ({@link #predict}); each track is anchored to the last
 * detector box that confirmed it. The detector runs on the same frame when a guard fires
 * ({@link #guardReason}: left the frame, too small, odd aspect, size jump, low shape score, "moved" out
 * of its crop, drifted from the anchor), and every {@link #DEFAULT_REDETECT_INTERVAL} frames. Landmarks
 * asking for a crop between {@link #MOVED_IOU} and {@link #RECROP_IOU} IoU of theirs are re-aligned
 * once on it ({@link #recropBox}, {@link #acceptRecrop}).
 *
 * <p>{@link #detected} ignores implausible boxes ({@link #isPlausible}). A confirming detection
 * re-anchors the track and keeps its motion. After a guard, any detection is the face (one that does
 * not overlap the track forgets the motion); with none, "moved" and drift are forgiven (the face is
 * re-run on the same crop, kept if it scores at least {@link #MIN_SCORE}; for drift the anchor becomes
 * the crop).
 * {@link #MAX_MISSES} + 1 detector runs in a row that do not confirm the track end it. A new track gets
 * a new {@link #trackId()}: the cue for a fresh {@link FaceSmoother}.
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
 * if (reason != null) {
 *     tracker.detected(detectorCropOrNull);          // on this frame (the same box if it ran already)
 *     if (tracker.box() != null) {
 *         face = run(tracker.box());
 *         lost = tracker.update(face.nextBox, face.box, face.score) != null;   // the track ended
 *     }
 * }
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
    /** Share of the last motion (shift, size change) added to the next crop (0: crop where the face was). */
    public static final double MOTION_PREDICTION = 0.7;
    /** Landmarks whose crop overlaps theirs less than this are re-aligned on it (0: never). */
    public static final double RECROP_IOU = 0.85;
    /** A next crop that overlaps this frame's at least this much keeps this frame's (0: always move). */
    public static final double HOLD_IOU = 0.9;
    /** Below this overlap the face left its crop: the detector runs, not a re-crop ("moved"; 0: never). */
    public static final double MOVED_IOU = 0.5;
    /** Detector runs in a row that may leave a track unconfirmed; one more ends it. */
    public static final int MAX_MISSES = 1;
    /** Range of the area change between two frames that {@link #predict} carries on. */
    private static final double MIN_GROWTH = 0.8;
    private static final double MAX_GROWTH = 1.25;

    /** How the next {@link #update} judges the face: as usual, or as the re-run after a guard fired. */
    private enum Rerun { NONE, CONFIRMED, FORGIVEN }

    private final int imageWidth;
    private final int imageHeight;
    private final int redetectInterval;
    private Box box;
    private Box anchor;
    private Box last; // the landmark box of the previous frame, for the motion prediction
    private int framesSinceDetection;
    private int misses; // detector runs in a row that did not confirm the track
    private int trackId;
    private String pendingReason;
    private Rerun rerun = Rerun.NONE;

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

    /** Detector runs in a row that did not confirm the current track. */
    public int misses() {
        return misses;
    }

    /** Changes whenever a new track starts (then start a new {@link FaceSmoother}); 0 before the first. */
    public int trackId() {
        return trackId;
    }

    /** True when the caller should run the face detector on this frame. */
    public boolean needsDetection() {
        return box == null || pendingReason != null
                || (redetectInterval > 0 && framesSinceDetection >= redetectInterval);
    }

    /**
     * A detector result, already mapped to the crop convention (null: no face found); implausible
     * ones count as none. After a guard fired ({@link #update} returned a reason) it decides whether
     * the track goes on (then re-run the model on {@link #box()} and feed that to {@link #update});
     * otherwise it is a periodic or first run (see the class comment).
     */
    public void detected(Box detection) {
        framesSinceDetection = 0;
        String reason = pendingReason;
        pendingReason = null;
        if (detection != null && !isPlausible(detection, imageWidth, imageHeight)) {
            detection = null;
        }
        if (reason == null) {
            merge(detection);
        } else if (box != null) {
            recover(reason, detection);
        }
    }

    /** A periodic (or first) detector run, Python's {@code _merge_detections}. */
    private void merge(Box detection) {
        if (box == null) {
            if (detection != null) {
                start(detection);
            }
            return;
        }
        if (detection != null && matches(detection)) {
            anchor = detection;
            misses = 0;
            if (box.iou(detection) < REANCHOR_IOU) {
                box = detection; // the motion goes on: the detection is where the moving face is now
            }
            return;
        }
        misses++;
        if (misses > MAX_MISSES) {
            end();
            if (detection != null) {
                start(detection);
            }
        }
    }

    /** The detector run after a guard fired, Python's {@code _recover}. */
    private void recover(String reason, Box detection) {
        if (detection != null) {
            if (!matches(detection)) {
                last = null; // the motion up to here was not this face's (a cut, a track off the face)
            }
            box = detection;
            anchor = detection;
            misses = 0;
            rerun = Rerun.CONFIRMED;
            return;
        }
        misses++;
        boolean forgivable = reason.equals("drift") || reason.equals("moved");
        if (!forgivable || misses > MAX_MISSES) {
            end();
            return;
        }
        if (reason.equals("drift")) {
            anchor = box; // the detector cannot see it; trust landmarks that look right
        }
        rerun = Rerun.FORGIVEN;
    }

    private boolean matches(Box detection) {
        return Math.max(box.iou(detection), anchor.iou(detection)) >= MATCH_IOU;
    }

    private void start(Box detection) {
        box = detection;
        anchor = detection;
        last = null;
        misses = 0;
        trackId++;
    }

    private void end() {
        box = null;
        anchor = null;
        last = null;
        misses = 0;
        rerun = Rerun.NONE;
    }

    /**
     * The crop to re-align this frame on, or null: the landmarks' own crop {@code next} when it
     * overlaps the crop they were found in less than {@link #RECROP_IOU} ({@link #needsRecrop}) but not
     * less than {@link #MOVED_IOU} ({@link #moved}: that is the detector's business), and the face
     * passes the guards, drift aside (a crop without a face is the guards' business, not this one's).
     */
    public Box recropBox(Box next, Box crop, double score) {
        if (box == null || next == null || !needsRecrop(next, crop) || moved(next, crop)) {
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
     * {@link #detected} on this frame and re-run the model on {@link #box()}), or null. For that
     * re-run, a reason means the track ended: a confirmed face must pass the guards but "moved" and
     * drift, a forgiven one must score at least {@link #MIN_SCORE}.
     */
    public String update(Box next, Box crop, double score) {
        framesSinceDetection++;
        Rerun judged = rerun;
        rerun = Rerun.NONE;
        if (box == null) {
            return null;
        }
        String reason;
        if (next == null) {
            reason = "degenerate";
        } else if (judged == Rerun.FORGIVEN) {
            reason = score < MIN_SCORE ? "score" : null;
        } else {
            Box checked = judged == Rerun.CONFIRMED ? null : anchor;
            reason = guardReason(next, crop, checked, score, imageWidth, imageHeight);
        }
        if (reason == null) {
            Box predicted = predict(next, last, MOTION_PREDICTION);
            box = HOLD_IOU > 0 && predicted.iou(crop) >= HOLD_IOU ? crop : predicted;
            last = next;
        } else if (judged != Rerun.NONE) {
            end();
        } else {
            pendingReason = reason;
        }
        return reason;
    }

    /** Drop the track (camera switched, app paused). */
    public void reset() {
        end();
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

    /** True when the landmarks' crop overlaps theirs less than {@link #RECROP_IOU} (Python's {@code needs_recrop}). */
    public static boolean needsRecrop(Box next, Box crop) {
        return RECROP_IOU > 0 && next.iou(crop) < RECROP_IOU;
    }

    /** True when the landmarks' crop overlaps theirs less than {@link #MOVED_IOU} (Python's {@code moved}). */
    public static boolean moved(Box next, Box crop) {
        return MOVED_IOU > 0 && next.iou(crop) < MOVED_IOU;
    }

    /**
     * The tracking guards as one pure function, the same as Python's {@code guard_reason}: the first
     * that fires ("left-frame", "too-small", "aspect", "spread", "score", "moved", "drift"), or null;
     * {@code anchor} null: no "moved" or drift check.
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
        if (anchor != null && moved(next, crop)) {
            return "moved";
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

    /**
     * A detector crop worth tracking (Python's {@code plausible_detection}): centre inside the frame,
     * sides at least {@link #MIN_SIDE}, not wider than three frames.
     */
    public static boolean isPlausible(Box candidate, int width, int height) {
        boolean centreInside = candidate.centerX() >= 0 && candidate.centerX() < width
                && candidate.centerY() >= 0 && candidate.centerY() < height;
        boolean bigEnough = Math.min(candidate.width(), candidate.height()) >= MIN_SIDE;
        boolean notHuge = candidate.width() <= 3.0 * Math.max(width, height);
        return centreInside && bigEnough && notHuge;
    }
}
