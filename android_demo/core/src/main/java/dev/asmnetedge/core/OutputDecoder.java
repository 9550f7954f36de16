package dev.asmnetedge.core;

import java.nio.ByteBuffer;

/**
 * From raw output tensors to landmarks in image pixels and pose in degrees, mirroring
 * {@code LiteModel.run_raw}/{@code run} and {@code geometry.denormalise_landmarks} /
 * {@code crop_to_image} operation by operation (float64, same order), so the Java result equals
 * the Python one to the last bit, not just within tolerance.
 *
 * <pre>{@code
 * double[] values = OutputDecoder.dequantise(landmarkBuffer, landmarkQuant, 2 * meta.numLandmarks);
 * double[] cropPx = OutputDecoder.denormalise(values, meta.inputSize, meta.landmarkSign);
 * double[] imagePx = OutputDecoder.cropToImage(cropPx, box, meta.inputSize);
 * }</pre>
 */
public final class OutputDecoder {
    private OutputDecoder() {
    }

    /**
     * Read {@code count} values from {@code buffer} (at its position, in its byte order) and
     * dequantise them: {@code (q - zero_point) * scale} in float64, or the float32 values widened.
     */
    public static double[] dequantise(ByteBuffer buffer, QuantParams quant, int count) {
        double[] out = new double[count];
        for (int index = 0; index < count; index++) {
            double raw;
            switch (quant.type) {
                case FLOAT32:
                    raw = buffer.getFloat();
                    break;
                case INT8:
                    raw = buffer.get();
                    break;
                case UINT8:
                    raw = buffer.get() & 0xFF;
                    break;
                default:
                    throw new IllegalStateException("unhandled tensor type " + quant.type);
            }
            // Python: values.astype(float64) - zero_point, then * scale (two roundings, kept apart)
            out[index] = quant.isQuantised() ? (raw - quant.zeroPoint) * quant.scale : raw;
        }
        return out;
    }

    /** Network values to crop pixels: {@code size/2 + sign * value * size} (numpy's order). */
    public static double[] denormalise(double[] values, int size, double sign) {
        double half = size / 2.0;
        double[] out = new double[values.length];
        for (int index = 0; index < values.length; index++) {
            out[index] = half + sign * values[index] * size;
        }
        return out;
    }

    /** Crop pixels to network values: {@code sign * (u - size/2) / size}; inverse of {@link #denormalise}. */
    public static double[] normalise(double[] cropPoints, int size, double sign) {
        double half = size / 2.0;
        double[] out = new double[cropPoints.length];
        for (int index = 0; index < cropPoints.length; index++) {
            out[index] = sign * (cropPoints[index] - half) / size;
        }
        return out;
    }

    /** Crop pixels to image pixels for {@code box}: {@code p * [w/size, h/size] + [x0, y0]}. */
    public static double[] cropToImage(double[] cropPoints, Box box, int size) {
        double scaleX = box.width() / size;
        double scaleY = box.height() / size;
        double[] out = new double[cropPoints.length];
        for (int index = 0; index < cropPoints.length; index += 2) {
            out[index] = cropPoints[index] * scaleX + box.x0;
            out[index + 1] = cropPoints[index + 1] * scaleY + box.y0;
        }
        return out;
    }

    /** Image pixels to crop pixels ({@code geometry.image_to_crop}); for drawing and tests. */
    public static double[] imageToCrop(double[] imagePoints, Box box, int size) {
        double scaleX = size / box.width();
        double scaleY = size / box.height();
        double[] out = new double[imagePoints.length];
        for (int index = 0; index < imagePoints.length; index += 2) {
            out[index] = (imagePoints[index] - box.x0) * scaleX;
            out[index + 1] = (imagePoints[index + 1] - box.y0) * scaleY;
        }
        return out;
    }

    /**
     * Pose values to degrees, reordered to {@code [yaw, pitch, roll]} whatever the model's
     * {@code pose_order}: {@code value * pose_scale_deg}.
     */
    public static double[] poseDegrees(double[] values, ModelMetadata meta) {
        if (values.length != 3) {
            throw new IllegalArgumentException("pose output must have 3 values, got " + values.length);
        }
        return new double[] {
            values[meta.poseIndex("yaw")] * meta.poseScaleDeg,
            values[meta.poseIndex("pitch")] * meta.poseScaleDeg,
            values[meta.poseIndex("roll")] * meta.poseScaleDeg,
        };
    }
}
