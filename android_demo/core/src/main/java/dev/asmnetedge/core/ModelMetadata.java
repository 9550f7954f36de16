package dev.asmnetedge.core;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What pre- and post-processing read from an exported model, mirroring
 * {@code asmnet_edge.runtime.metadata.ModelMetadata} field for field.
 *
 * <p>The exporter writes it into the .tflite and into a JSON sidecar beside it; the sidecar adds
 * {@code file_sha256} and {@code file_size}. Loading is strict like the Python side: an unknown key
 * or another schema version is an error, so a model exported by a newer tool fails loudly instead
 * of being post-processed with stale defaults. Defaults are the Python dataclass defaults.
 *
 * <pre>{@code
 * ModelMetadata meta = ModelMetadata.fromJson(sidecarText);
 * int size = meta.inputSize;  // e.g. 224
 * }</pre>
 */
public final class ModelMetadata {
    public static final int SCHEMA_VERSION = 1;
    static final List<String> PRECISIONS = Arrays.asList("fp32", "fp16", "int8", "dynamic", "int16x8");
    private static final Set<String> KNOWN_KEYS = new HashSet<>(Arrays.asList(
            "num_landmarks", "input_size", "precision", "schema_version", "model_name", "alpha",
            "input_name", "landmarks_output", "pose_output", "color_order", "input_scale",
            "crop_convention", "crop_margin", "landmark_sign", "pose_order", "pose_scale_deg",
            "pose_convention", "input_quant", "landmarks_quant", "pose_quant", "calibration_source",
            "calibration_count", "weights_sha256", "tool_version", "shape_model",
            // the model family (written only for DAN and refine models) and a refine stage's facts
            "architecture", "stages", "mean_shape", "refine",
            // sidecar only: the hash and size of the .tflite the sidecar describes
            "file_sha256", "file_size"));
    static final List<String> ARCHITECTURES = Arrays.asList("asmnet", "dan", "refine");
    private static final Set<String> QUANT_KEYS = new HashSet<>(Arrays.asList("dtype", "scale", "zero_point"));

    public final int numLandmarks;
    public final int inputSize;
    public final String precision;
    public final String modelName;
    public final double alpha;
    public final String inputName;
    public final String landmarksOutput;
    public final String poseOutput;
    public final double inputScale;
    public final double cropMargin;
    public final double landmarkSign;
    public final List<String> poseOrder;
    public final double poseScaleDeg;
    public final String poseConvention;
    public final QuantParams inputQuant;
    public final QuantParams landmarksQuant;
    public final QuantParams poseQuant;
    public final String calibrationSource;
    public final long calibrationCount;
    public final String weightsSha256;
    public final String toolVersion;
    /** Lower-case hex sha256 of the .tflite, or null when this came from the embedded copy. */
    public final String fileSha256;
    /** Size of the .tflite in bytes, or -1 when absent. */
    public final long fileSize;
    /** The PCA shape model for {@link ShapeScore}, or null for models exported without one. */
    public final ShapeScore shapeModel;
    /** "asmnet" (landmarks + pose), "dan" or "refine" (a refine stage, {@link RefineStage}). */
    public final String architecture;
    public final int stages;
    /** Flat mean shape (a refine stage's: aligned pixels), or null for an ASMNet. */
    public final double[] meanShape;
    /** A refine stage's facts ({@code architecture: refine} only), else null. */
    public final RefineInfo refine;

    private ModelMetadata(Fields in) {
        numLandmarks = in.requiredInt("num_landmarks");
        inputSize = in.requiredInt("input_size");
        precision = in.string("precision", null);
        modelName = in.string("model_name", "asmnet");
        alpha = in.number("alpha", 1.0);
        inputName = in.string("input_name", "image");
        landmarksOutput = in.string("landmarks_output", "landmarks");
        poseOutput = in.string("pose_output", "pose");
        inputScale = in.number("input_scale", 1.0 / 255.0);
        cropMargin = in.number("crop_margin", 0.05);
        landmarkSign = in.number("landmark_sign", 1.0);
        poseOrder = in.stringList("pose_order", Arrays.asList("yaw", "pitch", "roll"));
        poseScaleDeg = in.number("pose_scale_deg", 65.0);
        poseConvention = in.string("pose_convention", "");
        inputQuant = in.quant("input_quant");
        landmarksQuant = in.quant("landmarks_quant");
        poseQuant = in.quant("pose_quant");
        calibrationSource = in.string("calibration_source", "");
        calibrationCount = in.integer("calibration_count", 0);
        weightsSha256 = in.string("weights_sha256", "");
        toolVersion = in.string("tool_version", "");
        fileSha256 = in.string("file_sha256", null);
        fileSize = in.integer("file_size", -1);
        shapeModel = in.shapeModel("shape_model");
        architecture = in.string("architecture", "asmnet");
        stages = in.requiredIntOr("stages", 1);
        meanShape = in.numbers("mean_shape");
        refine = in.data.get("refine") == null ? null : RefineInfo.fromMap(Fields.object(in.data.get("refine"), "refine"));
        // read for strictness (wrong types are errors) though the core does not act on them
        in.string("crop_convention", "");
        String colorOrder = in.string("color_order", "RGB");
        validate(colorOrder);
    }

    private void validate(String colorOrder) {
        if (precision == null) {
            throw new MetadataException("metadata lacks 'precision': re-export the model with asmnet-edge export");
        }
        if (!PRECISIONS.contains(precision)) {
            throw new MetadataException("unknown precision '" + precision + "': expected one of " + PRECISIONS);
        }
        if (landmarkSign != 1.0 && landmarkSign != -1.0) {
            throw new MetadataException("landmark_sign must be +1 or -1, got " + landmarkSign);
        }
        if (numLandmarks <= 0 || inputSize <= 0) {
            throw new MetadataException("num_landmarks and input_size must be positive");
        }
        if (!ARCHITECTURES.contains(architecture)) {
            throw new MetadataException("unknown architecture '" + architecture + "': expected one of " + ARCHITECTURES);
        }
        if ("refine".equals(architecture) != (refine != null)) {
            throw new MetadataException("'refine' facts go with architecture 'refine', and only with it");
        }
        if (refine != null && meanShape == null) {
            throw new MetadataException("a refine model's metadata needs its mean_shape (aligned pixels)");
        }
        if (stages < 1) {
            throw new MetadataException("stages must be at least 1, got " + stages);
        }
        if (meanShape != null && meanShape.length != 2 * numLandmarks) {
            throw new MetadataException("mean_shape does not have 2 x num_landmarks values");
        }
        if (shapeModel != null && shapeModel.size() != 2 * numLandmarks) {
            throw new MetadataException("shape_model does not have 2 x num_landmarks values");
        }
        if (!"RGB".equals(colorOrder)) {
            // the crop is always RGB; a BGR model would silently see swapped colours
            throw new MetadataException("color_order '" + colorOrder + "' is not supported: the core feeds RGB");
        }
        if (poseOrder.size() != 3 || !new HashSet<>(poseOrder).equals(new HashSet<>(Arrays.asList("yaw", "pitch", "roll")))) {
            throw new MetadataException("pose_order must name yaw, pitch and roll once each, got " + poseOrder);
        }
        if (!(poseScaleDeg > 0.0) || !(inputScale > 0.0) || !(cropMargin > -0.5)) {
            throw new MetadataException("pose_scale_deg and input_scale must be positive and crop_margin above -0.5");
        }
    }

    /** Parse sidecar (or embedded) JSON text strictly. */
    public static ModelMetadata fromJson(String text) {
        Map<String, Object> data;
        try {
            data = Json.parseObject(text);
        } catch (Json.JsonException err) {
            throw new MetadataException("metadata is not valid JSON: " + err.getMessage(), err);
        }
        return fromMap(data);
    }

    /** Build from a parsed JSON object; same rules as Python's {@code ModelMetadata.from_dict}. */
    public static ModelMetadata fromMap(Map<String, Object> data) {
        Object version = data.get("schema_version");
        if (!(version instanceof Long) || (Long) version != SCHEMA_VERSION) {
            throw new MetadataException("metadata schema version " + version + " is not supported (this core reads "
                    + SCHEMA_VERSION + "): update the app or re-export the model");
        }
        List<String> unknown = new ArrayList<>();
        for (String key : data.keySet()) {
            if (!KNOWN_KEYS.contains(key)) {
                unknown.add(key);
            }
        }
        if (!unknown.isEmpty()) {
            Collections.sort(unknown);
            throw new MetadataException("unknown metadata keys " + unknown + ": re-export the model with this version");
        }
        return new ModelMetadata(new Fields(data));
    }

    /** Index of a pose angle ("yaw", "pitch" or "roll") in the model's pose output. */
    public int poseIndex(String angle) {
        int index = poseOrder.indexOf(angle);
        if (index < 0) {
            throw new IllegalArgumentException("no pose angle named " + angle);
        }
        return index;
    }

    /** Typed access to the raw JSON map with the error messages the strict load promises. */
    static final class Fields {
        final Map<String, Object> data;

        Fields(Map<String, Object> data) {
            this.data = data;
        }

        int requiredInt(String key) {
            if (!data.containsKey(key)) {
                throw new MetadataException("metadata lacks '" + key + "': re-export the model with asmnet-edge export");
            }
            long value = integer(key, 0);
            if (value != (int) value) {
                throw new MetadataException("'" + key + "' is out of range: " + value);
            }
            return (int) value;
        }

        int requiredIntOr(String key, int fallback) {
            return data.containsKey(key) ? requiredInt(key) : fallback;
        }

        /** A list of numbers, or null when the key is absent or JSON null. */
        double[] numbers(String key) {
            Object value = data.get(key);
            if (value == null || value == Json.NULL) {
                return null;
            }
            if (!(value instanceof List)) {
                throw wrongType(key, "a list of numbers", value);
            }
            List<?> items = (List<?>) value;
            double[] out = new double[items.size()];
            for (int index = 0; index < out.length; index++) {
                Object item = items.get(index);
                if (!(item instanceof Double) && !(item instanceof Long)) {
                    throw wrongType(key, "a list of numbers", value);
                }
                out[index] = ((Number) item).doubleValue();
            }
            return out;
        }

        @SuppressWarnings("unchecked")
        static Map<String, Object> object(Object value, String key) {
            if (!(value instanceof Map)) {
                throw wrongType(key, "an object", value);
            }
            return (Map<String, Object>) value;
        }

        long integer(String key, long fallback) {
            Object value = data.get(key);
            if (value == null) {
                return fallback;
            }
            if (!(value instanceof Long)) {
                throw wrongType(key, "an integer", value);
            }
            return (Long) value;
        }

        double number(String key, double fallback) {
            Object value = data.get(key);
            if (value == null) {
                return fallback;
            }
            if (value instanceof Long) {
                return ((Long) value).doubleValue();
            }
            if (!(value instanceof Double)) {
                throw wrongType(key, "a number", value);
            }
            return (Double) value;
        }

        String string(String key, String fallback) {
            Object value = data.get(key);
            if (value == null) {
                return fallback;
            }
            if (!(value instanceof String)) {
                throw wrongType(key, "a string", value);
            }
            return (String) value;
        }

        List<String> stringList(String key, List<String> fallback) {
            Object value = data.get(key);
            if (value == null) {
                return fallback;
            }
            if (!(value instanceof List)) {
                throw wrongType(key, "a list of strings", value);
            }
            List<String> out = new ArrayList<>();
            for (Object item : (List<?>) value) {
                if (!(item instanceof String)) {
                    throw wrongType(key, "a list of strings", value);
                }
                out.add((String) item);
            }
            return Collections.unmodifiableList(out);
        }

        ShapeScore shapeModel(String key) {
            Object value = data.get(key);
            if (value == null || value == Json.NULL) {
                return null;
            }
            if (!(value instanceof Map)) {
                throw wrongType(key, "an object", value);
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> inner = (Map<String, Object>) value;
            return ShapeScore.fromMap(inner);
        }

        QuantParams quant(String key) {
            Object value = data.get(key);
            if (value == null) {
                return QuantParams.FLOAT32;
            }
            if (!(value instanceof Map)) {
                throw wrongType(key, "an object", value);
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> inner = (Map<String, Object>) value;
            for (String innerKey : inner.keySet()) {
                if (!QUANT_KEYS.contains(innerKey)) {
                    throw new MetadataException("unknown key '" + innerKey + "' in '" + key + "': re-export the model");
                }
            }
            Fields fields = new Fields(inner);
            long zeroPoint = fields.integer("zero_point", 0);
            return new QuantParams(TensorType.fromNumpyName(fields.string("dtype", "float32")),
                    fields.number("scale", 0.0), (int) zeroPoint);
        }

        private static MetadataException wrongType(String key, String expected, Object value) {
            String kind = value == Json.NULL ? "null" : value.getClass().getSimpleName();
            return new MetadataException("'" + key + "' must be " + expected + ", got " + kind);
        }
    }
}
