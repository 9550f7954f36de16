package dev.asmnetedge.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assume.assumeTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * BoxTracker's guards, motion prediction, re-crop rule and a scripted video, and ShapeScore, against the
 * decisions and scores of the Python runtime ({@code scripts/android_tracker_vectors.py}).
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
        assertEquals(400, cases.size());
        int fired = 0;
        for (Object value : cases) {
            Map<String, Object> entry = Vectors.object(value);
            Object expected = entry.get("reason");
            String reason = BoxTracker.guardReason(box(entry.get("next")), box(entry.get("crop")),
                    box(entry.get("anchor")), Vectors.number(entry.get("score")),
                    (int) Vectors.number(entry.get("width")), (int) Vectors.number(entry.get("height")));
            assertEquals(entry.toString(), expected == Json.NULL ? null : expected, reason);
            fired += reason == null ? 0 : 1;
        }
        assertEquals("both outcomes are covered", true, fired > 50 && fired < 350);
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

    /**
     * Python's FaceTracker on a scripted video, replayed through BoxTracker as FaceAnalyzer drives it:
     * the same crops per frame, in the same order (first run, re-crop, run after a re-detection).
     */
    @Test
    public void scriptedVideoRunsTheModelOnTheSameCropsAsPython() {
        assumeTrue("no vectors (run through run_tests.sh)", vectors != null);
        Map<String, Object> sequence = Vectors.object(vectors.manifest.get("tracker_sequence"));
        SequenceModel model = new SequenceModel(sequence);
        BoxTracker tracker = new BoxTracker((int) Vectors.number(sequence.get("width")),
                (int) Vectors.number(sequence.get("height")));
        List<Object> frames = Vectors.list(sequence.get("frames"));
        int recrops = 0;
        for (int index = 0; index < frames.size(); index++) {
            Map<String, Object> frame = Vectors.object(frames.get(index));
            model.observed = box(frame.get("observed"));
            model.runs.clear();
            if (tracker.needsDetection()) {
                tracker.detected(model.observed);
            }
            Box kept = null;
            Box crop = tracker.box();
            if (crop != null) {
                Box[] face = model.run(crop);
                Box recrop = tracker.recropBox(face[0], face[1], model.score(face));
                if (recrop != null) {
                    recrops++;
                    Box[] again = model.run(recrop);
                    face = tracker.acceptRecrop(again[0], again[1], model.score(again)) ? again : face;
                }
                kept = face[1];
                if (tracker.update(face[0], face[1], model.score(face)) != null) {
                    tracker.detected(model.observed);
                    kept = tracker.box();
                    if (kept != null) {
                        face = model.run(kept);
                        tracker.update(face[0], face[1], model.score(face));
                    }
                }
            }
            List<Object> expected = Vectors.list(frame.get("runs"));
            assertEquals("frame " + index + " model runs", expected.size(), model.runs.size());
            for (int run = 0; run < expected.size(); run++) {
                assertBox("frame " + index + " run " + run, box(expected.get(run)), model.runs.get(run), 1e-6);
            }
            assertBox("frame " + index + " kept crop", box(frame.get("kept")), kept, 1e-6);
        }
        assertEquals((int) Vectors.number(sequence.get("recrops")), recrops);
        assertTrue("the video re-crops", recrops > 3);
    }

    /** The stand-in model of the scripted video: it finds the face whatever the crop (see the script). */
    private static final class SequenceModel {
        final double margin;
        final double faceScore;
        final double noFaceScore;
        final List<Box> runs = new ArrayList<>();
        Box observed;

        SequenceModel(Map<String, Object> sequence) {
            margin = Vectors.number(sequence.get("margin"));
            faceScore = Vectors.number(sequence.get("face_score"));
            noFaceScore = Vectors.number(sequence.get("no_face_score"));
        }

        /** {next box, crop}: the face's crop, or with no face the crop grown by the margin. */
        Box[] run(Box crop) {
            runs.add(crop);
            return new Box[] {observed != null ? observed : crop.expand(margin), crop};
        }

        double score(Box[] face) {
            return observed != null ? faceScore : noFaceScore;
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
