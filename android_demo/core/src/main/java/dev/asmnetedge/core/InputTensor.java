package dev.asmnetedge.core;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Turns a uint8 RGB crop into the bytes of the model's input tensor, exactly as
 * {@code asmnet_edge.runtime.model.LiteModel.input_tensor} does.
 *
 * <p>Python computes {@code real = crop.astype(float32) * float32(input_scale)}, and for a quantised
 * input {@code clip(rint(real / scale) + zero_point)}, all in float32 (numpy 2 keeps a Python float
 * operand "weak", so the division happens in float32 too). Java {@code float} arithmetic is IEEE
 * single precision with round-to-nearest, so writing the same operations on {@code float} gives the
 * same bits; {@code Math.rint} of a float-valued double is the float rint.
 *
 * <pre>{@code
 * InputTensor input = new InputTensor(meta.inputScale, quantFromInterpreter);
 * input.write(crop, buffer);  // buffer: the interpreter's input, native byte order
 * }</pre>
 */
public final class InputTensor {
    private final float inputScale;
    private final QuantParams quant;
    private final float quantScale;
    private final float zeroPoint;

    /**
     * @param inputScale the metadata's {@code input_scale} (1/255: pixels to [0, 1])
     * @param quant the input tensor's type and quantisation, read from the interpreter
     */
    public InputTensor(double inputScale, QuantParams quant) {
        if (quant.type != TensorType.FLOAT32 && !quant.isQuantised()) {
            throw new MetadataException("input tensor is " + quant.type.numpyName
                    + " but has no quantisation scale: re-export the model");
        }
        this.inputScale = (float) inputScale; // np.float32(metadata.input_scale)
        this.quant = quant;
        this.quantScale = (float) quant.scale; // the weak Python float becomes float32
        this.zeroPoint = quant.zeroPoint;
    }

    public TensorType type() {
        return quant.type;
    }

    /** Bytes the input tensor takes for a {@code size x size x 3} crop. */
    public int byteCount(int size) {
        return size * size * 3 * quant.type.bytes;
    }

    /** The value written for one 0..255 channel value (as a float for float32, else the integer). */
    public float real(int pixel) {
        return (float) pixel * inputScale;
    }

    /** Quantised value of one 0..255 channel value; only for int8/uint8 inputs. */
    public int quantise(int pixel) {
        float scaled = real(pixel) / quantScale;
        float rounded = (float) Math.rint(scaled) + zeroPoint;
        return (int) Math.max(quant.type.min, Math.min(quant.type.max, rounded));
    }

    /**
     * Write the tensor for {@code crop} (packed RGB, {@code size * size * 3} bytes) at the buffer's
     * position. Float32 values follow the buffer's byte order: give it {@code ByteOrder.nativeOrder()}
     * for an interpreter, little-endian to compare with numpy's {@code tobytes()} on x86/ARM.
     */
    public void write(byte[] crop, ByteBuffer out) {
        if (quant.type == TensorType.FLOAT32) {
            for (byte value : crop) {
                out.putFloat(real(value & 0xFF));
            }
            return;
        }
        // 256 possible pixel values: a table makes the per-frame cost one lookup per channel
        byte[] table = new byte[256];
        for (int pixel = 0; pixel < 256; pixel++) {
            table[pixel] = (byte) quantise(pixel);
        }
        for (byte value : crop) {
            out.put(table[value & 0xFF]);
        }
    }

    /** The tensor as a little-endian byte array (what numpy's {@code tobytes()} gives on x86 and ARM). */
    public byte[] toBytes(byte[] crop) {
        ByteBuffer buffer = ByteBuffer.allocate(crop.length * quant.type.bytes).order(ByteOrder.LITTLE_ENDIAN);
        write(crop, buffer);
        return buffer.array();
    }
}
