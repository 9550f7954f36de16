package dev.asmnetedge.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assume.assumeTrue;

import java.util.List;
import java.util.Map;
import org.junit.BeforeClass;
import org.junit.Test;

/** BoxTracker's guards and ShapeScore against the decisions and scores of the Python runtime. */
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
