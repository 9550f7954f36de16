package dev.asmnetedge.core;

/**
 * A refine stage given a stage-1 model other than the one it was trained behind (Python's
 * {@code StageMismatchError}): its corrections would be garbage, so the pair is refused. The message
 * names each difference, word for word as the Python runtime says it.
 */
public final class StageMismatchException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public StageMismatchException(String message) {
        super(message);
    }
}
