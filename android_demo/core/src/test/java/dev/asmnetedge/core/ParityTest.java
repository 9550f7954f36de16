package dev.asmnetedge.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;
import static org.junit.Assume.assumeNotNull;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.MessageDigest;
import java.util.List;
import java.util.Map;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * The Java core against the Python runtime: same crop bytes, same input tensor bytes, landmarks
 * within 1e-3 px and pose within 1e-4 degrees (in practice identical to the last bit).
 */
public class ParityTest {
    static final double LANDMARK_TOLERANCE_PX = 1e-3;
    static final double POSE_TOLERANCE_DEG = 1e-4;

    private static Vectors vectors;
    private static ModelMetadata meta;

    @BeforeClass
    public static void load() throws Exception {
        vectors = Vectors.fromSystemProperty();
        if (vectors != null) {
            meta = ModelMetadata.fromJson(vectors.text((String) model().get("sidecar")));
        }
    }

    private static Map<String, Object> model() {
        return Vectors.object(vectors.manifest.get("model"));
    }

    private static List<Object> cases() {
        assumeNotNull(vectors); // no -Dasmnet.vectors: a plain Gradle run skips the parity tests
        List<Object> cases = Vectors.list(vectors.manifest.get("cases"));
        assertTrue("the vectors must hold at least 3 cases", cases.size() >= 3);
        return cases;
    }

    private PixelImage image(Map<String, Object> entry) throws Exception {
        Map<String, Object> images = Vectors.object(vectors.manifest.get("images"));
        for (Object value : images.values()) {
            Map<String, Object> image = Vectors.object(value);
            if (image.get("file").equals(entry.get("image"))) {
                int width = (int) Vectors.number(image.get("width"));
                int height = (int) Vectors.number(image.get("height"));
                return PixelImage.ofRgb(vectors.bytes((String) entry.get("image")), width, height);
            }
        }
        throw new AssertionError("case image " + entry.get("image") + " is not listed in the manifest");
    }

    private static Box box(Object value) {
        double[] corners = Vectors.doubles(value);
        return new Box(corners[0], corners[1], corners[2], corners[3]);
    }

    @Test
    public void sidecarParsesToThePythonMetadata() throws Exception {
        cases();
        Map<String, Object> expected = Vectors.object(vectors.manifest.get("metadata"));
        assertEquals(Vectors.number(expected.get("input_size")), meta.inputSize, 0.0);
        assertEquals(Vectors.number(expected.get("num_landmarks")), meta.numLandmarks, 0.0);
        assertEquals(Vectors.number(expected.get("landmark_sign")), meta.landmarkSign, 0.0);
        assertEquals(Vectors.number(expected.get("crop_margin")), meta.cropMargin, 0.0);
        assertEquals(Vectors.number(expected.get("pose_scale_deg")), meta.poseScaleDeg, 0.0);
        assertEquals(Vectors.number(expected.get("input_scale")), meta.inputScale, 0.0);
        assertEquals(expected.get("precision"), meta.precision);
        assertNotNull("the sidecar must carry file_sha256", meta.fileSha256);
        Path modelFile = Paths.get((String) model().get("file"));
        if (Files.isRegularFile(modelFile)) {
            byte[] content = Files.readAllBytes(modelFile);
            assertEquals(content.length, meta.fileSize);
            assertEquals(meta.fileSha256, hex(MessageDigest.getInstance("SHA-256").digest(content)));
        }
    }

    @Test
    public void cropMatchesPythonByteForByte() throws Exception {
        for (Object value : cases()) {
            Map<String, Object> entry = Vectors.object(value);
            byte[] expected = vectors.bytes((String) entry.get("crop"));
            byte[] actual = Cropper.crop(image(entry), box(entry.get("box")), meta.inputSize);
            assertBytes(entry.get("name") + " crop", expected, actual);
        }
    }

    @Test
    public void randomBoxCropsMatchPythonByteForByte() throws Exception {
        cases();
        List<Object> crops = Vectors.list(vectors.manifest.get("random_crops"));
        assertNotNull("the manifest lacks random_crops: regenerate the vectors", crops);
        for (Object value : crops) {
            Map<String, Object> entry = Vectors.object(value);
            byte[] expected = vectors.bytes((String) entry.get("crop"));
            Box box = box(entry.get("box"));
            assertBytes(entry.get("crop") + " along " + box, expected, Cropper.crop(image(entry), box, meta.inputSize));
        }
    }

    @Test
    public void cropIsTheSameFromCameraAndBitmapLayouts() throws Exception {
        for (Object value : cases()) {
            Map<String, Object> entry = Vectors.object(value);
            PixelImage rgb = image(entry);
            byte[] expected = vectors.bytes((String) entry.get("crop"));
            Box box = box(entry.get("box"));
            assertBytes(entry.get("name") + " RGBA", expected, Cropper.crop(asRgba(rgb), box, meta.inputSize));
            assertBytes(entry.get("name") + " ARGB", expected, Cropper.crop(asArgb(rgb), box, meta.inputSize));
        }
    }

    @Test
    public void inputTensorsMatchPythonByteForByte() throws Exception {
        int checked = 0;
        for (Object value : cases()) {
            Map<String, Object> entry = Vectors.object(value);
            byte[] crop = vectors.bytes((String) entry.get("crop"));
            for (Object item : Vectors.list(entry.get("inputs"))) {
                Map<String, Object> input = Vectors.object(item);
                InputTensor tensor = new InputTensor(meta.inputScale, Vectors.quant(input));
                byte[] expected = vectors.bytes((String) input.get("file"));
                assertBytes(entry.get("name") + " input " + input.get("label"), expected, tensor.toBytes(crop));
                checked++;
            }
        }
        assertTrue("int8, uint8 and float32 inputs must all be checked", checked >= 3 * 4);
    }

    @Test
    public void pipelineReproducesPythonLandmarksAndPose() throws Exception {
        double worstLandmark = 0;
        double worstPose = 0;
        for (Object value : cases()) {
            Map<String, Object> entry = Vectors.object(value);
            QuantParams modelInput = modelInputQuant(entry);
            for (Object item : Vectors.list(entry.get("runs"))) {
                Map<String, Object> run = Vectors.object(item);
                String label = entry.get("name") + "/" + run.get("label");
                Map<String, Object> outputs = Vectors.object(run.get("outputs"));
                Map<String, Object> landmarksOut = Vectors.object(outputs.get("landmarks"));
                Map<String, Object> poseOut = Vectors.object(outputs.get("pose"));
                FacePipeline pipeline = new FacePipeline(meta, modelInput, Vectors.quant(landmarksOut), Vectors.quant(poseOut));

                // the full app path: image -> input tensor -> (recorded model run) -> decode
                Box box = box(entry.get("box"));
                ByteBuffer input = ByteBuffer.allocate(pipeline.inputByteCount()).order(ByteOrder.LITTLE_ENDIAN);
                pipeline.prepare(image(entry), box, input);
                assertBytes(label + " model input", vectors.bytes(modelInputFile(entry)), input.array());

                FacePipeline.Result face = pipeline.decode(buffer((String) landmarksOut.get("file")),
                        buffer((String) poseOut.get("file")), box);
                assertArrayEquals(label + " dequantised landmarks", Vectors.doubles(run.get("landmark_values")),
                        dequantised(landmarksOut, 2 * meta.numLandmarks), 0.0);
                assertArrayEquals(label + " crop landmarks", Vectors.doubles(run.get("landmarks_crop")),
                        face.cropLandmarks, LANDMARK_TOLERANCE_PX);
                double[] expected = Vectors.doubles(run.get("landmarks"));
                assertArrayEquals(label + " landmarks", expected, face.landmarks, LANDMARK_TOLERANCE_PX);
                double[] pose = Vectors.doubles(run.get("pose_deg"));
                assertArrayEquals(label + " pose", pose, face.poseDeg, POSE_TOLERANCE_DEG);
                worstLandmark = Math.max(worstLandmark, maxAbsDiff(expected, face.landmarks));
                worstPose = Math.max(worstPose, maxAbsDiff(pose, face.poseDeg));
                if (run.get("next_box") == Json.NULL) {
                    assertNull(label + " next box", face.nextBox);
                } else {
                    assertArrayEquals(label + " next box", Vectors.doubles(run.get("next_box")),
                            face.nextBox.toArray(), LANDMARK_TOLERANCE_PX);
                }
            }
        }
        System.out.println("parity: max landmark difference " + worstLandmark + " px, max pose difference "
                + worstPose + " deg");
    }

    private double[] dequantised(Map<String, Object> output, int count) throws Exception {
        return OutputDecoder.dequantise(buffer((String) output.get("file")), Vectors.quant(output), count);
    }

    private static QuantParams modelInputQuant(Map<String, Object> entry) {
        return Vectors.quant(modelInput(entry));
    }

    private static String modelInputFile(Map<String, Object> entry) {
        return (String) modelInput(entry).get("file");
    }

    private static Map<String, Object> modelInput(Map<String, Object> entry) {
        for (Object item : Vectors.list(entry.get("inputs"))) {
            Map<String, Object> input = Vectors.object(item);
            if (Boolean.TRUE.equals(input.get("fed_to_model"))) {
                return input;
            }
        }
        throw new AssertionError(entry.get("name") + " has no input marked fed_to_model");
    }

    /** numpy's tobytes() on x86/ARM is little-endian. */
    private ByteBuffer buffer(String file) throws Exception {
        return ByteBuffer.wrap(vectors.bytes(file)).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static PixelImage asRgba(PixelImage rgb) {
        int rowStride = rgb.width * 4 + 12; // camera rows are often padded
        byte[] rgba = new byte[rowStride * rgb.height];
        for (int row = 0; row < rgb.height; row++) {
            for (int col = 0; col < rgb.width; col++) {
                for (int channel = 0; channel < 3; channel++) {
                    rgba[row * rowStride + col * 4 + channel] = (byte) rgb.channel(col, row, channel);
                }
                rgba[row * rowStride + col * 4 + 3] = (byte) 0xFF;
            }
        }
        return PixelImage.ofRgba(rgba, rgb.width, rgb.height, rowStride);
    }

    private static PixelImage asArgb(PixelImage rgb) {
        int[] argb = new int[rgb.width * rgb.height];
        for (int row = 0; row < rgb.height; row++) {
            for (int col = 0; col < rgb.width; col++) {
                argb[row * rgb.width + col] = 0xFF000000 | rgb.channel(col, row, 0) << 16
                        | rgb.channel(col, row, 1) << 8 | rgb.channel(col, row, 2);
            }
        }
        return PixelImage.ofArgb(argb, rgb.width, rgb.height, rgb.width);
    }

    static void assertBytes(String what, byte[] expected, byte[] actual) {
        assertEquals(what + ": length", expected.length, actual.length);
        for (int index = 0; index < expected.length; index++) {
            if (expected[index] != actual[index]) {
                fail(what + ": first difference at byte " + index + ": expected " + expected[index]
                        + ", got " + actual[index]);
            }
        }
    }

    static double maxAbsDiff(double[] expected, double[] actual) {
        double worst = 0;
        for (int index = 0; index < expected.length; index++) {
            worst = Math.max(worst, Math.abs(expected[index] - actual[index]));
        }
        return worst;
    }

    private static String hex(byte[] digest) {
        StringBuilder out = new StringBuilder();
        for (byte value : digest) {
            out.append(String.format("%02x", value & 0xFF));
        }
        return out.toString();
    }
}
