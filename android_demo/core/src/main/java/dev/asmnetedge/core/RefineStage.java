package dev.asmnetedge.core;

import java.nio.ByteBuffer;

/**
 * Pre- and post-processing of an exported refine stage (the second interpreter of ASMNet + refine),
 * as {@code asmnet_edge.runtime.refine.RefineModel} does it: the stage-1 crop re-aligned by stage 1's
 * points ({@link Similarity} onto the metadata's mean shape, {@link AffineWarp}), their heatmap as a
 * fourth channel ({@link LandmarkHeatmap}), the {@code A x A x 4} input tensor, and the predicted
 * correction mapped back to stage-1 crop pixels.
 *
 * <pre>{@code
 * RefineStage refine = new RefineStage(refineMeta, inputQuant, landmarksQuant);
 * refine.check(stage1Meta);                                  // StageMismatchException if not its stage 1
 * FacePipeline.Result face = stage1.decode(landmarks, pose, box);
 * PixelImage crop = PixelImage.ofRgb(stage1.lastCrop(), stage1Meta.inputSize, stage1Meta.inputSize);
 * double[] matrix = refine.prepare(crop, face.cropLandmarks, refineInput);
 * refineInterpreter.runSignature(inputs, outputs);
 * face = stage1.withCropLandmarks(face, refine.decode(refineOutput, face.cropLandmarks, matrix));
 * }</pre>
 */
public final class RefineStage {
    /** Input channels: the aligned RGB crop and the heatmap. */
    public static final int CHANNELS = 4;

    public final ModelMetadata meta;
    public final QuantParams landmarksQuant;
    private final InputTensor input;
    private final byte[] aligned;

    /**
     * @param meta the refine stage's sidecar metadata ({@code architecture: refine})
     * @param inputQuant its input tensor's type and quantisation, read from the interpreter
     * @param landmarksQuant its landmarks (correction) output's type and quantisation
     */
    public RefineStage(ModelMetadata meta, QuantParams inputQuant, QuantParams landmarksQuant) {
        if (meta.refine == null) {
            throw new MetadataException(meta.modelName + " is a model of architecture '" + meta.architecture
                    + "', not a refine stage: load it as the stage-1 model, and a refine .tflite "
                    + "(asmnet-edge export of a refine run) as the refine stage");
        }
        this.meta = meta;
        this.landmarksQuant = landmarksQuant;
        this.input = new InputTensor(meta.inputScale, inputQuant);
        this.aligned = new byte[meta.inputSize * meta.inputSize * CHANNELS];
    }

    /** A refine stage that trusts the quantisation recorded in the metadata. */
    public static RefineStage fromMetadata(ModelMetadata meta) {
        return new RefineStage(meta, meta.inputQuant, meta.landmarksQuant);
    }

    /** {@link StageMismatchException} unless {@code stage1} is the model this stage was trained behind. */
    public void check(ModelMetadata stage1) {
        meta.refine.check(stage1);
    }

    /** Bytes of the input tensor, to size the interpreter's input buffer. */
    public int inputByteCount() {
        return aligned.length * input.type().bytes;
    }

    /**
     * Build the aligned input of one stage-1 crop and its points (flat, stage-1 crop pixels) into
     * {@code aligned} ({@code A * A * 4} bytes, RGB + heatmap); returns the crop -> aligned matrix.
     */
    public double[] align(PixelImage stage1Crop, double[] cropPoints, byte[] out) {
        double[] matrix = Similarity.fit(cropPoints, meta.meanShape);
        AffineWarp.warp(stage1Crop, matrix, meta.inputSize, out, CHANNELS);
        LandmarkHeatmap.draw(Similarity.apply(cropPoints, matrix), meta.inputSize, meta.refine.heatmapPatchHalf,
                out, CHANNELS, CHANNELS - 1);
        return matrix;
    }

    /** {@link #align} into a reused buffer, then the input tensor at {@code out}'s position. */
    public double[] prepare(PixelImage stage1Crop, double[] cropPoints, ByteBuffer out) {
        double[] matrix = align(stage1Crop, cropPoints, aligned);
        input.write(aligned, out);
        return matrix;
    }

    /** The aligned input of the last {@link #prepare} call (for debugging views); reused between calls. */
    public byte[] lastAligned() {
        return aligned;
    }

    /** The refined points (flat, stage-1 crop pixels) from the correction output buffer. */
    public double[] decode(ByteBuffer corrections, double[] cropPoints, double[] matrix) {
        return correct(OutputDecoder.dequantise(corrections, landmarksQuant, cropPoints.length), cropPoints, matrix);
    }

    /** {@code T^-1(T(p) + A * values)}: the dequantised correction (aligned pixels / A) applied. */
    public double[] correct(double[] values, double[] cropPoints, double[] matrix) {
        double[] moved = Similarity.apply(cropPoints, matrix);
        for (int index = 0; index < moved.length; index++) {
            moved[index] += values[index] * meta.inputSize;
        }
        return Similarity.apply(moved, Similarity.invert(matrix));
    }
}
