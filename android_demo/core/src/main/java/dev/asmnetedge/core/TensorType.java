package dev.asmnetedge.core;

/**
 * The element types an exported ASMNet uses at its inputs and outputs, named as numpy names them
 * (the spelling the Python exporter writes into {@code input_quant.dtype} and friends).
 */
public enum TensorType {
    FLOAT32("float32", 4, 0, 0),
    INT8("int8", 1, -128, 127),
    UINT8("uint8", 1, 0, 255);

    /** numpy dtype name. */
    public final String numpyName;
    /** Bytes per element in a tensor buffer. */
    public final int bytes;
    /** Smallest representable quantised value (unused for float32). */
    public final int min;
    /** Largest representable quantised value (unused for float32). */
    public final int max;

    TensorType(String numpyName, int bytes, int min, int max) {
        this.numpyName = numpyName;
        this.bytes = bytes;
        this.min = min;
        this.max = max;
    }

    /** The type for a numpy dtype name, or a {@link MetadataException} naming the supported ones. */
    public static TensorType fromNumpyName(String name) {
        for (TensorType type : values()) {
            if (type.numpyName.equals(name)) {
                return type;
            }
        }
        throw new MetadataException(
                "tensor type '" + name + "' is not supported by the Java core (float32, int8, uint8): "
                        + "re-export the model with --io int8, uint8 or float32");
    }
}
