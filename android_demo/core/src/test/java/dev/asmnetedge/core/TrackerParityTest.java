package dev.asmnetedge.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assume.assumeTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * BoxTracker's guards, motion prediction, re-crop rule, plausible detections and two scripted videos, and
 * ShapeScore, against the decisions and scores of the Python runtime ({@code scripts/android_tracker_vectors.py}).
 */
public class TrackerParityTest {
    private static Vectors vectors;

    @BeforeClass
    public static void load() throws Exception {
        vectors = Vectors.fromSystemProperty();
    }

    private static Box box(Object value) {
        if (value == null || value == Json.NULL) {
            return null;
        }
        double[] corners = Vectors.doubles(value);
        return new Box(corners[0], corners[1], corners[2], corners[3]);
    }

    @Test
    public void guardsFireExactlyAsInPython() {
        assumeTrue("no vectors (run through run_tests.sh)", vectors != null);
        List<Object> cases = Vectors.list(vectors.manifest.get("tracker_guards"));
        assertEquals(600, cases.size());
        Map<String, Integer> fired = new HashMap<>();
        for (Object value : cases) {
            Map<String, Object> entry = Vectors.object(value);
            Object expected = entry.get("reason");
            String reason = BoxTracker.guardReason(box(entry.get("next")), box(entry.get("crop")),
                    box(entry.get("anchor")), Vectors.number(entry.get("score")),
                    (int) Vectors.number(entry.get("width")), (int) Vectors.number(entry.get("height")));
            assertEquals(entry.toString(), expected == Json.NULL ? null : expected, reason);
            fired.merge(String.valueOf(reason), 1, Integer::sum);
        }
        for (String reason : new String[] {"left-frame", "too-small", "aspect", "spread", "score", "moved", "drift"}) {
            assertTrue("'" + reason + "' is covered: " + fired, fired.getOrDefault(reason, 0) >= 10);
        }
        assertTrue("passing cases are covered: " + fired, fired.getOrDefault("null", 0) >= 50);
    }

    private static void assertBox(String message, Box expected, Box actual, double tolerance) {
        if (expected == null || actual == null) {
            assertEquals(message, expected, actual);
            return;
        }
        double[] want = expected.toArray();
        double[] got = actual.toArray();
        for (int index = 0; index < want.length; index++) {
            assertEquals(message + " corner " + index, want[index], got[index], tolerance);
        }
    }

    @Test
    public void motionPredictionMatchesPython() {
        assumeTrue("no vectors (run through run_tests.sh)", vectors != null);
        List<Object> cases = Vectors.list(vectors.manifest.get("tracker_predictions"));
        assertEquals(200, cases.size());
        int moved = 0;
        for (Object value : cases) {
            Map<String, Object> entry = Vectors.object(value);
            Box observed = box(entry.get("observed"));
            Box predicted = BoxTracker.predict(observed, box(entry.get("last")), Vectors.number(entry.get("share")));
            assertBox(entry.toString(), box(entry.get("predicted")), predicted, 1e-9);
            moved += predicted.iou(observed) < 0.999 ? 1 : 0;
        }
        assertTrue("most cases move the box", moved > 100);
    }

    @Test
    public void recropDecisionsMatchPython() {
        assumeTrue("no vectors (run through run_tests.sh)", vectors != null);
        List<Object> cases = Vectors.list(vectors.manifest.get("tracker_recrops"));
        assertEquals(200, cases.size());
        int recrops = 0;
        for (Object value : cases) {
            Map<String, Object> entry = Vectors.object(value);
            boolean recrop = BoxTracker.needsRecrop(box(entry.get("next")), box(entry.get("crop")));
            assertEquals(entry.toString(), entry.get("recrop"), recrop);
            recrops += recrop ? 1 : 0;
        }
        assertTrue("both outcomes are covered: " + recrops, recrops > 50 && recrops < 150);
    }

    @Test
    public void plausibleDetectionsMatchPython() {
        assumeTrue("no vectors (run through run_tests.sh)", vectors != null);
        List<Object> cases = Vectors.list(vectors.manifest.get("tracker_plausible"));
        assertEquals(300, cases.size());
        int plausible = 0;
        for (Object value : cases) {
            Map<String, Object> entry = Vectors.object(value);
            boolean answer = BoxTracker.isPlausible(box(entry.get("crop")), (int) Vectors.number(entry.get("width")),
                    (int) Vectors.number(entry.get("height")));
            assertEquals(entry.toString(), entry.get("plausible"), answer);
            plausible += answer ? 1 : 0;
        }
        assertTrue("both outcomes are covered: " + plausible, plausible > 50 && plausible < 250);
    }

    /**
     * Python's FaceTracker on a scripted video (moved and drift guards, forgiven and fatal detector
     * misses, re-crops, cuts), replayed through BoxTracker as FaceAnalyzer drives it: the same crops per
     * frame, in the same order (first run, re-crop, run after a re-detection), the same kept crop, lost
     * tracks and new tracks (a new smoother).
     */
    @Test
    public void scriptedVideoRunsTheModelOnTheSameCropsAsPython() {
        assumeTrue("no vectors (run through run_tests.sh)", vectors != null);
        int recrops = replay(Vectors.object(vectors.manifest.get("tracker_sequence")));
        assertTrue("the video re-crops", recrops > 3);
    }

    /** A face the detector stops seeing ends after MAX_MISSES + 1 periodic runs; one elsewhere takes over. */
    @Test
    public void aTrackTheDetectorNeverConfirmsEndsAsInPython() {
        assumeTrue("no vectors (run through run_tests.sh)", vectors != null);
        replay(Vectors.object(vectors.manifest.get("tracker_sequence_blind")));
    }

    /** Replays one recorded sequence; returns the number of re-crops. */
    private static int replay(Map<String, Object> sequence) {
        SequenceModel model = new SequenceModel(sequence);
        BoxTracker tracker = new BoxTracker((int) Vectors.number(sequence.get("width")),
                (int) Vectors.number(sequence.get("height")), (int) Vectors.number(sequence.get("redetect_interval")));
        List<Object> frames = Vectors.list(sequence.get("frames"));
        int recrops = 0;
        int lost = 0;
        int shownTrack = 0;
        for (int index = 0; index < frames.size(); index++) {
            Map<String, Object> frame = Vectors.object(frames.get(index));
            model.faces.clear();
            for (Object face : Vectors.list(frame.get("faces"))) {
                model.faces.add(box(face));
            }
            Box detection = box(frame.get("detection"));
            model.runs.clear();
            int before = tracker.box() == null ? 0 : tracker.trackId();
            if (tracker.needsDetection()) {
                tracker.detected(detection);
                lost += ended(before, tracker);
                before = tracker.box() == null ? 0 : tracker.trackId();
            }
            Box kept = null;
            Box crop = tracker.box();
            if (crop != null) {
                Run face = model.run(crop);
                Box recrop = tracker.recropBox(face.next, face.crop, face.score);
                if (recrop != null) {
                    recrops++;
                    Run again = model.run(recrop);
                    face = tracker.acceptRecrop(again.next, again.crop, again.score) ? again : face;
                }
                kept = face.crop;
                if (tracker.update(face.next, face.crop, face.score) != null) {
                    tracker.detected(detection);
                    kept = tracker.box();
                    if (kept != null) {
                        face = model.run(kept);
                        kept = tracker.update(face.next, face.crop, face.score) == null ? kept : null;
                    }
                    lost += ended(before, tracker);
                }
            }
            List<Object> expected = Vectors.list(frame.get("runs"));
            assertEquals("frame " + index + " model runs", expected.size(), model.runs.size());
            for (int run = 0; run < expected.size(); run++) {
                assertBox("frame " + index + " run " + run, box(expected.get(run)), model.runs.get(run), 1e-6);
            }
            assertBox("frame " + index + " kept crop", box(frame.get("kept")), kept, 1e-6);
            boolean newTrack = kept != null && tracker.trackId() != shownTrack;
            assertEquals("frame " + index + " a new track (a new smoother)", frame.get("new_track"), newTrack);
            shownTrack = kept != null ? tracker.trackId() : shownTrack;
        }
        assertEquals("recrops", (int) Vectors.number(sequence.get("recrops")), recrops);
        assertEquals("lost tracks", (int) Vectors.number(sequence.get("lost")), lost);
        return recrops;
    }

    /** 1 when the track followed before ({@code trackId}, 0: none) ended, else 0. */
    private static int ended(int trackId, BoxTracker tracker) {
        return trackId != 0 && (tracker.box() == null || tracker.trackId() != trackId) ? 1 : 0;
    }

    /** One stand-in model run: the crop the landmarks ask for next, the crop used, the score. */
    private static final class Run {
        final Box next;
        final Box crop;
        final double score;

        Run(Box next, Box crop, double score) {
            this.next = next;
            this.crop = crop;
            this.score = score;
        }
    }

    /** The stand-in model of the scripted video: it finds the face its crop overlaps most (see the script). */
    private static final class SequenceModel {
        final double margin;
        final double faceScore;
        final double noFaceScore;
        final List<Box> runs = new ArrayList<>();
        final List<Box> faces = new ArrayList<>(); // the crops the scripted faces' landmarks ask for

        SequenceModel(Map<String, Object> sequence) {
            margin = Vectors.number(sequence.get("margin"));
            faceScore = Vectors.number(sequence.get("face_score"));
            noFaceScore = Vectors.number(sequence.get("no_face_score"));
        }

        /** The face overlapping the crop most (the first on a tie), or with none the crop grown by the margin. */
        Run run(Box crop) {
            runs.add(crop);
            Box best = null;
            double bestIou = 0.0;
            for (Box face : faces) {
                double iou = face.iou(crop);
                if (iou > bestIou) {
                    best = face;
                    bestIou = iou;
                }
            }
            return best != null ? new Run(best, crop, faceScore) : new Run(crop.expand(margin), crop, noFaceScore);
        }
    }

    @Test
    public void shapeScoresMatchPython() {
        assumeTrue("no vectors (run through run_tests.sh)", vectors != null);
        Map<String, Object> data = Vectors.object(vectors.manifest.get("shape_scores"));
        ShapeScore model = ShapeScore.fromMap(Vectors.object(data.get("model")));
        List<Object> shapes = Vectors.list(data.get("shapes"));
        double[] scores = Vectors.doubles(data.get("scores"));
        for (int i = 0; i < scores.length; i++) {
            assertEquals(scores[i], model.score(Vectors.doubles(shapes.get(i))), 1e-9);
        }
    }
}
