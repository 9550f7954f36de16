package dev.asmnetedge.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.util.Arrays;
import org.junit.Test;

public class ModelMetadataTest {
    private static final String MINIMAL = "{\"schema_version\": 1, \"num_landmarks\": 68, \"input_size\": 224, "
            + "\"precision\": \"int8\"";

    private static ModelMetadata parse(String extra) {
        return ModelMetadata.fromJson(MINIMAL + extra + "}");
    }

    private static void assertRejected(String json, String message) {
        try {
            ModelMetadata.fromJson(json);
            fail("accepted " + json);
        } catch (MetadataException err) {
            assertTrue(err.getMessage(), err.getMessage().contains(message));
        }
    }

    @Test
    public void defaultsAreThePythonDataclassDefaults() {
        ModelMetadata meta = parse("");
        assertEquals(68, meta.numLandmarks);
        assertEquals(224, meta.inputSize);
        assertEquals("image", meta.inputName);
        assertEquals("landmarks", meta.landmarksOutput);
        assertEquals("pose", meta.poseOutput);
        assertEquals(1.0 / 255.0, meta.inputScale, 0.0);
        assertEquals(0.05, meta.cropMargin, 0.0);
        assertEquals(1.0, meta.landmarkSign, 0.0);
        assertEquals(65.0, meta.poseScaleDeg, 0.0);
        assertEquals(Arrays.asList("yaw", "pitch", "roll"), meta.poseOrder);
        assertEquals(TensorType.FLOAT32, meta.inputQuant.type);
        assertNull(meta.fileSha256);
        assertEquals(-1, meta.fileSize);
    }

    @Test
    public void readsSidecarFieldsAndQuantisation() {
        ModelMetadata meta = parse(", \"landmark_sign\": -1.0, \"pose_order\": [\"roll\", \"yaw\", \"pitch\"],"
                + " \"input_quant\": {\"dtype\": \"int8\", \"scale\": 0.003921568859368563, \"zero_point\": -128},"
                + " \"file_sha256\": \"ab\", \"file_size\": 1900000");
        assertEquals(-1.0, meta.landmarkSign, 0.0);
        assertEquals(TensorType.INT8, meta.inputQuant.type);
        assertEquals(-128, meta.inputQuant.zeroPoint);
        assertEquals(1, meta.poseIndex("yaw"));
        assertEquals(0, meta.poseIndex("roll"));
        assertEquals("ab", meta.fileSha256);
        assertEquals(1900000L, meta.fileSize);
        double[] pose = OutputDecoder.poseDegrees(new double[] {0.1, 0.2, 0.3}, meta);
        assertEquals(0.2 * 65.0, pose[0], 0.0); // reordered to yaw, pitch, roll
        assertEquals(0.1 * 65.0, pose[2], 0.0);
    }

    @Test
    public void rejectionsSayWhatToDo() {
        assertRejected(MINIMAL + ", \"typo_key\": 1}", "unknown metadata keys [typo_key]: re-export the model");
        assertRejected("{\"schema_version\": 2, \"num_landmarks\": 68, \"input_size\": 224, \"precision\": \"int8\"}",
                "metadata schema version 2 is not supported");
        assertRejected(MINIMAL.replace("\"int8\"", "\"int4\"") + "}", "unknown precision 'int4'");
        assertRejected(MINIMAL + ", \"landmark_sign\": 0.5}", "landmark_sign must be +1 or -1");
        assertRejected(MINIMAL + ", \"input_size\": 224.0}", "duplicate key");
        assertRejected(MINIMAL.replace("224", "\"224\"") + "}", "'input_size' must be an integer, got String");
        assertRejected(MINIMAL + ", \"color_order\": \"BGR\"}", "color_order 'BGR' is not supported");
        assertRejected(MINIMAL + ", \"alpha\": null}", "'alpha' must be a number, got null");
        assertRejected(MINIMAL + ", \"input_quant\": {\"dtype\": \"int16\"}}", "tensor type 'int16' is not supported");
        assertRejected(MINIMAL + ", \"input_quant\": {\"dtype\": \"int8\", \"scal\": 1}}", "unknown key 'scal'");
        assertRejected("{\"schema_version\": 1, \"input_size\": 224, \"precision\": \"int8\"}", "lacks 'num_landmarks'");
        assertRejected(MINIMAL, "metadata is not valid JSON");
    }

    private static final String STAGE1 = "\"stage1\": {\"weights_sha256\": \"ab\", \"num_landmarks\": 68, "
            + "\"input_size\": 128, \"crop_margin\": 0.05, \"landmark_sign\": 1.0";

    @Test
    public void refineFactsAreReadAndCheckedLikePython() {
        String mean = ", \"mean_shape\": " + Arrays.toString(new double[2 * 68]);
        ModelMetadata meta = parse(", \"architecture\": \"refine\", \"pose_output\": \"\"" + mean
                + ", \"refine\": {" + STAGE1 + "}, \"heatmap_patch_half\": 6.0}");
        assertEquals("refine", meta.architecture);
        assertEquals(6.0, meta.refine.heatmapPatchHalf, 0.0);
        assertEquals(128, meta.refine.inputSize);
        assertEquals("", meta.refine.source);
        assertEquals(136, meta.meanShape.length);
        assertNull(parse("").refine);
        assertEquals("asmnet", parse("").architecture);
        String refine = ", \"architecture\": \"refine\"" + mean + ", \"refine\": {" + STAGE1;
        assertRejected(MINIMAL + ", \"refine\": {" + STAGE1 + "}, \"heatmap_patch_half\": 6.0}}",
                "'refine' facts go with architecture 'refine', and only with it");
        assertRejected(MINIMAL + ", \"architecture\": \"refine\", \"refine\": {" + STAGE1
                + "}, \"heatmap_patch_half\": 6.0}}", "needs its mean_shape");
        assertRejected(MINIMAL + refine + ", \"sha\": 1}, \"heatmap_patch_half\": 6.0}}",
                "unknown key 'sha' in 'refine.stage1'");
        assertRejected(MINIMAL + refine + "}}}", "'refine' lacks 'heatmap_patch_half'");
        assertRejected(MINIMAL + ", \"architecture\": \"vgg\"}", "unknown architecture 'vgg'");
        assertRejected(MINIMAL + ", \"architecture\": \"dan\", \"mean_shape\": [1.0, 2.0]}",
                "mean_shape does not have 2 x num_landmarks values");
    }
}
