package dev.asmnetedge.core;

/**
 * A model sidecar or embedded metadata that this core cannot use: malformed JSON, an unknown key,
 * a wrong type or an unsupported value. The message says what was wrong and what to do.
 */
public final class MetadataException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public MetadataException(String message) {
        super(message);
    }

    public MetadataException(String message, Throwable cause) {
        super(message, cause);
    }
}
