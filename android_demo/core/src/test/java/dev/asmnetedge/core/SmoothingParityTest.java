package dev.asmnetedge.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assume.assumeTrue;

import java.util.List;
import java.util.Map;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * FaceSmoother and OneEuro against Python's {@code FaceSmoother} (default {@code SmoothingConfig}) on
 * a noisy still face, a noisy moving one with uneven intervals and a face turning past 180 degrees
 * ({@code scripts/android_tracker_vectors.py}, entry {@code smoothing}).
 */
public class SmoothingParityTest {
    private static Vectors vectors;

    @BeforeClass
    public static void load() throws Exception {
        vectors = Vectors.fromSystemProperty();
    }

    @Test
    public void oneEuroMatchesThePythonDocstring() {
        OneEuro filter = new OneEuro(1.0, 0.0);
        assertEquals(0.0, filter.filter(new double[] {0.0}, 1 / 30.0, 1.0)[0], 0.0);
        assertEquals(0.173, filter.filter(new double[] {1.0}, 1 / 30.0, 1.0)[0], 5e-4);
        assertEquals(0.316, filter.filter(new double[] {1.0}, 1 / 30.0, 1.0)[0], 5e-4);
        assertEquals("a non-positive interval restarts", 5.0, filter.filter(new double[] {5.0}, 0.0, 1.0)[0], 0.0);
    }

    @Test
    public void aRigidlyMovedShapeKeepsItsShape() {
        FaceSmoother smoother = new FaceSmoother();
        double[] square = {0, 0, 10, 0, 10, 10, 0, 10};
        assertArrayEquals(square, smoother.smooth(square, new double[3], FaceSmoother.DEFAULT_INTERVAL).landmarks, 1e-9);
        double[] moved = new double[square.length];
        for (int index = 0; index < square.length; index++) {
            moved[index] = square[index] + 5.0;
        }
        double[] smoothed = smoother.smooth(moved, new double[3], FaceSmoother.DEFAULT_INTERVAL).landmarks;
        for (int index = 2; index < square.length; index++) {
            assertEquals(square[index] - square[index % 2], smoothed[index] - smoothed[index % 2], 1e-9);
        }
    }

    @Test
    public void smoothedLandmarksAndPoseMatchPython() {
        assumeTrue("no vectors (run through run_tests.sh)", vectors != null);
        List<Object> sequences = Vectors.list(vectors.manifest.get("smoothing"));
        assertEquals(3, sequences.size());
        double worstPoint = 0.0;
        double worstPose = 0.0;
        int count = 0;
        for (Object value : sequences) {
            Map<String, Object> sequence = Vectors.object(value);
            String name = (String) sequence.get("name");
            FaceSmoother smoother = new FaceSmoother();
            List<Object> frames = Vectors.list(sequence.get("frames"));
            double rawStep = 0.0;
            double smoothStep = 0.0;
            double[] lastRaw = null;
            double[] lastSmooth = null;
            for (int index = 0; index < frames.size(); index++) {
                Map<String, Object> frame = Vectors.object(frames.get(index));
                double[] raw = Vectors.doubles(frame.get("landmarks"));
                FaceSmoother.Smoothed got = smoother.smooth(raw, Vectors.doubles(frame.get("pose")),
                        Vectors.number(frame.get("interval")));
                double[] want = Vectors.doubles(frame.get("smoothed"));
                double[] wantPose = Vectors.doubles(frame.get("smoothed_pose"));
                for (int item = 0; item < want.length; item++) {
                    double error = Math.abs(want[item] - got.landmarks[item]);
                    assertTrue(name + " frame " + index + " value " + item + " off by " + error, error <= 1e-9);
                    worstPoint = Math.max(worstPoint, error);
                }
                for (int item = 0; item < wantPose.length; item++) {
                    double error = Math.abs(wantPose[item] - got.poseDeg[item]);
                    assertTrue(name + " frame " + index + " pose " + item + " off by " + error, error <= 1e-9);
                    worstPose = Math.max(worstPose, error);
                }
                if (index >= 10) {
                    rawStep += squaredStep(raw, lastRaw);
                    smoothStep += squaredStep(got.landmarks, lastSmooth);
                }
                lastRaw = raw;
                lastSmooth = got.landmarks;
                count++;
            }
            if (name.equals("still_noisy")) {
                assertTrue("a still face's jitter is damped: " + smoothStep / rawStep, smoothStep < 0.25 * rawStep);
            }
        }
        System.out.println("smoothing parity: max landmark difference " + worstPoint + " px, max pose difference "
                + worstPose + " deg (" + count + " frames)");
    }

    private static double squaredStep(double[] now, double[] before) {
        double sum = 0.0;
        for (int index = 0; index < now.length; index++) {
            double step = now[index] - before[index];
            sum += step * step;
        }
        return sum;
    }
}
