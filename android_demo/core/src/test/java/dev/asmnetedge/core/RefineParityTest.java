package dev.asmnetedge.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;
import static org.junit.Assume.assumeNotNull;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Map;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * The refine stage of the Java core against {@code asmnet_edge.runtime.refine} (vectors written by
 * {@code scripts/android_refine_vectors.py}). Bounds, and why they are not "bit for bit": Python sums
 * the similarity with numpy's pairwise sums and inverts with LAPACK, so matrices and points agree to
 * a few ulps; a bilinear value on a rounding tie can then land one grey level apart. Against OpenCV's
 * fixed-point {@code warpAffine} (the runtime's path when OpenCV is installed) the RGB differs by a
 * few grey levels on edges. The test prints the measured figures; {@code tests/android} checks them.
 */
public class RefineParityTest {
    static final double MATRIX_TOLERANCE = 1e-9;
    static final double POINT_TOLERANCE_PX = 1e-6;
    static final double LANDMARK_TOLERANCE_PX = 1e-3;
    /** Share of aligned bytes (RGB + heatmap) allowed to differ from numpy's, by one level at most. */
    static final double NUMPY_BYTE_SHARE = 1e-3;
    static final int OPENCV_MAX_LEVELS = 6;
    static final double OPENCV_MEAN_LEVELS = 0.15;

    private static Vectors vectors;
    private static Map<String, Object> refine;

    @BeforeClass
    public static void load() throws Exception {
        vectors = Vectors.fromSystemProperty();
        if (vectors != null) {
            refine = Vectors.object(vectors.manifest.get("refine"));
        }
    }

    private static List<Object> entries(String key) {
        assumeNotNull(vectors); // no -Dasmnet.vectors: a plain Gradle run skips the parity tests
        assertNotNull("the manifest lacks 'refine': regenerate the vectors", refine);
        Object value = refine.get(key);
        return Vectors.list(key.equals("run") ? Vectors.object(value).get("cases") : value);
    }

    private static ModelMetadata metadata(Object json) {
        return ModelMetadata.fromMap(Vectors.object(json));
    }

    private PixelImage crop(Map<String, Object> entry) throws Exception {
        int size = (int) Vectors.number(entry.get("crop_size"));
        return PixelImage.ofRgb(vectors.bytes((String) entry.get("crop")), size, size);
    }

    @Test
    public void refineMetadataParsesStrictlyWithItsStage1Facts() {
        for (Object value : entries("geometry")) {
            Map<String, Object> entry = Vectors.object(value);
            Map<String, Object> json = Vectors.object(entry.get("metadata"));
            ModelMetadata meta = metadata(json);
            assertEquals("refine", meta.architecture);
            assertArrayEquals(Vectors.doubles(json.get("mean_shape")), meta.meanShape, 0.0);
            Map<String, Object> info = Vectors.object(json.get("refine"));
            assertEquals(Vectors.number(info.get("heatmap_patch_half")), meta.refine.heatmapPatchHalf, 0.0);
            Map<String, Object> stage1 = Vectors.object(info.get("stage1"));
            assertEquals(Vectors.number(stage1.get("input_size")), meta.refine.inputSize, 0.0);
            assertEquals(stage1.get("weights_sha256"), meta.refine.weightsSha256);
        }
    }

    @Test
    public void alignedInputMatchesPython() throws Exception {
        double worstMatrix = 0;
        int differing = 0;
        int total = 0;
        int worstLevels = 0;
        int worstOpencv = 0;
        double opencvSum = 0;
        int opencvCount = 0;
        double worstPoint = 0;
        for (Object value : entries("geometry")) {
            Map<String, Object> entry = Vectors.object(value);
            String name = (String) entry.get("name");
            ModelMetadata meta = metadata(entry.get("metadata"));
            RefineStage stage = RefineStage.fromMetadata(meta);
            double[] points = Vectors.doubles(entry.get("points"));
            byte[] aligned = new byte[meta.inputSize * meta.inputSize * RefineStage.CHANNELS];
            double[] matrix = stage.align(crop(entry), points, aligned);
            double[] expectedMatrix = Vectors.doubles(entry.get("matrix"));
            for (int index = 0; index < 6; index++) {
                double difference = Math.abs(matrix[index] - expectedMatrix[index]) / (1 + Math.abs(expectedMatrix[index]));
                assertTrue(name + " matrix " + index + " off by " + difference, difference <= MATRIX_TOLERANCE);
                worstMatrix = Math.max(worstMatrix, difference);
            }
            byte[] expected = vectors.bytes((String) entry.get("aligned"));
            assertEquals(name + " aligned length", expected.length, aligned.length);
            for (int index = 0; index < expected.length; index++) {
                int levels = Math.abs((expected[index] & 0xFF) - (aligned[index] & 0xFF));
                assertTrue(name + " aligned byte " + index + " off by " + levels + " levels", levels <= 1);
                differing += levels > 0 ? 1 : 0;
                worstLevels = Math.max(worstLevels, levels);
            }
            total += expected.length;
            if (entry.get("aligned_opencv") != Json.NULL) {
                byte[] opencv = vectors.bytes((String) entry.get("aligned_opencv"));
                for (int pixel = 0; pixel < opencv.length / 3; pixel++) {
                    for (int channel = 0; channel < 3; channel++) {
                        int levels = Math.abs((opencv[3 * pixel + channel] & 0xFF)
                                - (aligned[RefineStage.CHANNELS * pixel + channel] & 0xFF));
                        worstOpencv = Math.max(worstOpencv, levels);
                        opencvSum += levels;
                        opencvCount++;
                    }
                }
            }
            double[] corrected = stage.correct(Vectors.doubles(entry.get("values")), points, matrix);
            double[] expectedPoints = Vectors.doubles(entry.get("corrected"));
            assertArrayEquals(name + " corrected points", expectedPoints, corrected, POINT_TOLERANCE_PX);
            worstPoint = Math.max(worstPoint, ParityTest.maxAbsDiff(expectedPoints, corrected));
        }
        double opencvMean = opencvCount > 0 ? opencvSum / opencvCount : 0;
        System.out.println("refine parity: max matrix difference " + worstMatrix + ", aligned bytes differing from numpy "
                + differing + " of " + total + " (max " + worstLevels + " levels), vs OpenCV max " + worstOpencv
                + " levels mean " + opencvMean + " (" + opencvCount + " values), max point difference " + worstPoint
                + " px");
        assertTrue("too many aligned bytes differ from numpy: " + differing, differing <= NUMPY_BYTE_SHARE * total);
        assertTrue("OpenCV aligned crops were not recorded", opencvCount > 0);
        assertTrue("OpenCV differs by " + worstOpencv + " levels", worstOpencv <= OPENCV_MAX_LEVELS);
        assertTrue("OpenCV differs by " + opencvMean + " levels on average", opencvMean <= OPENCV_MEAN_LEVELS);
    }

    @Test
    public void inputTensorsOfEveryTypeMatchPython() throws Exception {
        int checked = 0;
        for (Object value : entries("geometry")) {
            Map<String, Object> entry = Vectors.object(value);
            ModelMetadata meta = metadata(entry.get("metadata"));
            double[] points = Vectors.doubles(entry.get("points"));
            for (Object item : Vectors.list(entry.get("inputs"))) {
                Map<String, Object> input = Vectors.object(item);
                QuantParams quant = Vectors.quant(input);
                RefineStage stage = new RefineStage(meta, quant, QuantParams.FLOAT32);
                ByteBuffer out = ByteBuffer.allocate(stage.inputByteCount()).order(ByteOrder.LITTLE_ENDIAN);
                stage.prepare(crop(entry), points, out);
                assertTensor(entry.get("name") + " input " + input.get("label"),
                        vectors.bytes((String) input.get("file")), out.array(), quant.type);
                checked++;
            }
        }
        assertTrue("int8, uint8 and float32 inputs must all be checked", checked >= 3 * 4);
    }

    @Test
    public void cascadeOnRecordedInterpretersReproducesThePythonAligner() throws Exception {
        List<Object> cases = entries("run");
        Map<String, Object> run = Vectors.object(refine.get("run"));
        ModelMetadata stage1Meta = metadata(run.get("stage1"));
        ModelMetadata refineMeta = metadata(run.get("refine"));
        double worst = 0;
        for (Object value : cases) {
            Map<String, Object> entry = Vectors.object(value);
            String name = (String) entry.get("name");
            FacePipeline stage1 = new FacePipeline(stage1Meta, quant(entry, "stage1_input"),
                    quant(entry, "stage1_landmarks"), quant(entry, "stage1_pose"));
            RefineStage stage2 = new RefineStage(refineMeta, quant(entry, "refine_input"), quant(entry, "refine_landmarks"));
            stage2.check(stage1Meta);
            double[] corners = Vectors.doubles(entry.get("box"));
            Box box = new Box(corners[0], corners[1], corners[2], corners[3]);

            ByteBuffer input = ByteBuffer.allocate(stage1.inputByteCount()).order(ByteOrder.LITTLE_ENDIAN);
            stage1.prepare(image(entry), box, input);
            ParityTest.assertBytes(name + " stage-1 input", bytes(entry, "stage1_input"), input.array());
            FacePipeline.Result face = stage1.decode(buffer(entry, "stage1_landmarks"), buffer(entry, "stage1_pose"), box);
            assertArrayEquals(name + " stage-1 points", Vectors.doubles(entry.get("stage1_landmarks_crop")),
                    face.cropLandmarks, LANDMARK_TOLERANCE_PX);

            int size1 = stage1Meta.inputSize;
            ByteBuffer refineInput = ByteBuffer.allocate(stage2.inputByteCount()).order(ByteOrder.LITTLE_ENDIAN);
            double[] matrix = stage2.prepare(PixelImage.ofRgb(stage1.lastCrop(), size1, size1), face.cropLandmarks,
                    refineInput);
            assertTensor(name + " refine input", bytes(entry, "refine_input"), refineInput.array(),
                    quant(entry, "refine_input").type);
            double[] points = stage2.decode(buffer(entry, "refine_landmarks"), face.cropLandmarks, matrix);
            FacePipeline.Result refined = stage1.withCropLandmarks(face, points);

            double[] expected = Vectors.doubles(entry.get("landmarks"));
            assertArrayEquals(name + " refined landmarks", expected, refined.landmarks, LANDMARK_TOLERANCE_PX);
            assertArrayEquals(name + " pose", Vectors.doubles(entry.get("pose_deg")), refined.poseDeg, 1e-4);
            assertEquals(name + " score", Vectors.number(entry.get("score")), refined.score, 1e-9);
            assertArrayEquals(name + " next box", Vectors.doubles(entry.get("next_box")), refined.nextBox.toArray(),
                    LANDMARK_TOLERANCE_PX);
            worst = Math.max(worst, ParityTest.maxAbsDiff(expected, refined.landmarks));
            assertTrue(name + ": the refine fixture moves points, so refined must differ from stage 1",
                    ParityTest.maxAbsDiff(face.landmarks, refined.landmarks) > 0.1);
        }
        System.out.println("refine cascade parity: max landmark difference " + worst + " px");
    }

    @Test
    public void wrongStage1IsRefusedWithPythonsMessage() {
        List<Object> checks = entries("checks");
        RefineStage stage = RefineStage.fromMetadata(metadata(Vectors.object(refine.get("run")).get("refine")));
        int refused = 0;
        for (Object value : checks) {
            Map<String, Object> entry = Vectors.object(value);
            ModelMetadata stage1 = metadata(entry.get("stage1"));
            Object expected = entry.get("error");
            try {
                stage.check(stage1);
                assertEquals(entry.get("name") + " was accepted", Json.NULL, expected);
            } catch (StageMismatchException err) {
                assertEquals(entry.get("name") + " message", expected, err.getMessage());
                refused++;
            }
        }
        assertTrue("the vectors must hold refused stage-1 variants", refused >= 5);
    }

    @Test
    public void aStage1ModelIsNotARefineStage() {
        entries("run");
        try {
            RefineStage.fromMetadata(metadata(Vectors.object(refine.get("run")).get("stage1")));
            fail("a stage-1 ASMNet was taken as a refine stage");
        } catch (MetadataException err) {
            assertTrue(err.getMessage(), err.getMessage().contains("not a refine stage"));
        }
    }

    private PixelImage image(Map<String, Object> entry) throws Exception {
        for (Object value : Vectors.object(vectors.manifest.get("images")).values()) {
            Map<String, Object> image = Vectors.object(value);
            if (image.get("file").equals(entry.get("image"))) {
                return PixelImage.ofRgb(vectors.bytes((String) image.get("file")), (int) Vectors.number(image.get("width")),
                        (int) Vectors.number(image.get("height")));
            }
        }
        throw new AssertionError("image " + entry.get("image") + " is not listed in the manifest");
    }

    private static QuantParams quant(Map<String, Object> entry, String key) {
        return Vectors.quant(Vectors.object(entry.get(key)));
    }

    private byte[] bytes(Map<String, Object> entry, String key) throws Exception {
        return vectors.bytes((String) Vectors.object(entry.get(key)).get("file"));
    }

    private ByteBuffer buffer(Map<String, Object> entry, String key) throws Exception {
        return ByteBuffer.wrap(bytes(entry, key)).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Quantised tensors: bytes within one step on few values; float32: within one grey level / 255. */
    private static void assertTensor(String what, byte[] expected, byte[] actual, TensorType type) {
        assertEquals(what + ": length", expected.length, actual.length);
        int differing = 0;
        if (type == TensorType.FLOAT32) {
            ByteBuffer left = ByteBuffer.wrap(expected).order(ByteOrder.LITTLE_ENDIAN);
            ByteBuffer right = ByteBuffer.wrap(actual).order(ByteOrder.LITTLE_ENDIAN);
            for (int index = 0; index < expected.length / 4; index++) {
                float difference = Math.abs(left.getFloat() - right.getFloat());
                assertTrue(what + " value " + index + " off by " + difference, difference <= 1.0f / 255.0f + 1e-7f);
                differing += difference > 0 ? 1 : 0;
            }
            assertTrue(what + ": " + differing + " values differ", differing <= NUMPY_BYTE_SHARE * expected.length / 4);
            return;
        }
        for (int index = 0; index < expected.length; index++) {
            int steps = Math.abs(expected[index] - actual[index]);
            assertTrue(what + " byte " + index + " off by " + steps, steps <= 1);
            differing += steps > 0 ? 1 : 0;
        }
        assertTrue(what + ": " + differing + " bytes differ", differing <= NUMPY_BYTE_SHARE * expected.length);
    }
}
