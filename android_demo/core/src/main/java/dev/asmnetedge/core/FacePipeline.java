package dev.asmnetedge.core;

import java.nio.ByteBuffer;

/**
 * Pre- and post-processing of one exported ASMNet, without the interpreter: the Android app calls
 * {@link #prepare} before {@code Interpreter.runSignature} and {@link #decode} after it, and the
 * JUnit parity test calls the same two methods on vectors recorded from the Python runtime.
 *
 * <pre>{@code
 * FacePipeline pipeline = new FacePipeline(meta, inputQuant, landmarksQuant, poseQuant);
 * pipeline.prepare(frame, box, inputBuffer);
 * interpreter.runSignature(inputs, outputs);
 * FacePipeline.Result face = pipeline.decode(landmarksBuffer, poseBuffer, box);
 * }</pre>
 */
public final class FacePipeline {
    public final ModelMetadata meta;
    public final QuantParams landmarksQuant;
    public final QuantParams poseQuant;
    private final InputTensor input;
    private final byte[] crop;

    /**
     * @param meta the model's sidecar metadata
     * @param inputQuant the interpreter's input tensor type and quantisation (authoritative, as in Python)
     * @param landmarksQuant the landmarks output's type and quantisation
     * @param poseQuant the pose output's type and quantisation
     */
    public FacePipeline(ModelMetadata meta, QuantParams inputQuant, QuantParams landmarksQuant, QuantParams poseQuant) {
        this.meta = meta;
        this.input = new InputTensor(meta.inputScale, inputQuant);
        this.landmarksQuant = landmarksQuant;
        this.poseQuant = poseQuant;
        this.crop = new byte[meta.inputSize * meta.inputSize * 3];
    }

    /** A pipeline that trusts the quantisation recorded in the metadata (when no interpreter is at hand). */
    public static FacePipeline fromMetadata(ModelMetadata meta) {
        return new FacePipeline(meta, meta.inputQuant, meta.landmarksQuant, meta.poseQuant);
    }

    public InputTensor inputTensor() {
        return input;
    }

    /** Bytes of the input tensor, to size the interpreter's input buffer. */
    public int inputByteCount() {
        return input.byteCount(meta.inputSize);
    }

    /** Crop {@code box} from {@code image} and write the input tensor at {@code out}'s position. */
    public void prepare(PixelImage image, Box box, ByteBuffer out) {
        Cropper.crop(image, box, meta.inputSize, crop);
        input.write(crop, out);
    }

    /** The crop made by the last {@link #prepare} call (for debugging views); reused between calls. */
    public byte[] lastCrop() {
        return crop;
    }

    /** Post-process the two output buffers (read from their positions) for a face cropped along {@code box}. */
    public Result decode(ByteBuffer landmarks, ByteBuffer pose, Box box) {
        double[] values = OutputDecoder.dequantise(landmarks, landmarksQuant, 2 * meta.numLandmarks);
        double[] poseValues = OutputDecoder.dequantise(pose, poseQuant, 3);
        return decodeValues(values, poseValues, box);
    }

    /** Post-process already dequantised outputs (Python's {@code run_raw} values). */
    public Result decodeValues(double[] landmarkValues, double[] poseValues, Box box) {
        double[] cropPoints = OutputDecoder.denormalise(landmarkValues, meta.inputSize, meta.landmarkSign);
        double[] imagePoints = OutputDecoder.cropToImage(cropPoints, box, meta.inputSize);
        double score = meta.shapeModel != null ? meta.shapeModel.score(landmarkValues) : 1.0;
        return new Result(box, cropPoints, imagePoints, OutputDecoder.poseDegrees(poseValues, meta), meta.cropMargin,
                score);
    }

    /**
     * {@code face} with its crop landmarks replaced by {@code cropPoints} (a refine stage's): the image
     * points, the shape score and the next box follow them, the pose stays stage 1's (as in Python's
     * {@code FaceAligner.align} with a refiner).
     */
    public Result withCropLandmarks(Result face, double[] cropPoints) {
        double[] values = OutputDecoder.normalise(cropPoints, meta.inputSize, meta.landmarkSign);
        double score = meta.shapeModel != null ? meta.shapeModel.score(values) : 1.0;
        return new Result(face.box, cropPoints, OutputDecoder.cropToImage(cropPoints, face.box, meta.inputSize),
                face.poseDeg, meta.cropMargin, score);
    }

    /** One face: landmarks in crop and image pixels, pose in degrees, and the box to track next. */
    public static final class Result {
        /** The box the face was cropped along. */
        public final Box box;
        /** Flat {@code [x0, y0, ...]} in crop pixels of a {@code size x size} crop. */
        public final double[] cropLandmarks;
        /** Flat {@code [x0, y0, ...]} in image pixels. */
        public final double[] landmarks;
        /** {@code [yaw, pitch, roll]} in degrees, project convention (see POSE_CONVENTION). */
        public final double[] poseDeg;
        /** Landmark box grown by the metadata's crop margin, or null if the points span no area. */
        public final Box nextBox;
        /** Shape plausibility in (0, 1] ({@link ShapeScore}); 1 for models without a shape model. */
        public final double score;

        Result(Box box, double[] cropLandmarks, double[] landmarks, double[] poseDeg, double margin, double score) {
            this.box = box;
            this.score = score;
            this.cropLandmarks = cropLandmarks;
            this.landmarks = landmarks;
            this.poseDeg = poseDeg;
            this.nextBox = trackingBox(landmarks, margin);
        }

        private static Box trackingBox(double[] landmarks, double margin) {
            try {
                return Box.ofLandmarks(landmarks).expand(margin);
            } catch (IllegalArgumentException degenerate) {
                return null; // the tracker treats this as a lost face
            }
        }
    }
}
