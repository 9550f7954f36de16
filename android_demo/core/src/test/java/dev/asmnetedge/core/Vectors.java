package dev.asmnetedge.core;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Map;

/**
 * The reference vectors written by {@code scripts/android_vectors.py}: a {@code manifest.json}
 * (parsed with the core's own JSON parser) and raw binary files beside it.
 */
final class Vectors {
    /** System property naming the vectors folder; {@code run_tests.sh} sets it. */
    static final String PROPERTY = "asmnet.vectors";

    final Path root;
    final Map<String, Object> manifest;

    private Vectors(Path root) throws IOException {
        this.root = root;
        this.manifest = Json.parseObject(text("manifest.json"));
    }

    /** The vectors named by the system property, or null when it is not set (plain Gradle run). */
    static Vectors fromSystemProperty() throws IOException {
        String folder = System.getProperty(PROPERTY);
        if (folder == null || folder.isEmpty()) {
            return null;
        }
        Path root = Paths.get(folder);
        if (!Files.isRegularFile(root.resolve("manifest.json"))) {
            throw new IOException("no manifest.json in " + root + ": run scripts/android_vectors.py " + root);
        }
        return new Vectors(root);
    }

    String text(String relative) throws IOException {
        return new String(Files.readAllBytes(root.resolve(relative)), StandardCharsets.UTF_8);
    }

    byte[] bytes(String relative) throws IOException {
        return Files.readAllBytes(root.resolve(relative));
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> object(Object value) {
        return (Map<String, Object>) value;
    }

    @SuppressWarnings("unchecked")
    static List<Object> list(Object value) {
        return (List<Object>) value;
    }

    static double number(Object value) {
        return ((Number) value).doubleValue();
    }

    static double[] doubles(Object value) {
        List<Object> items = list(value);
        double[] out = new double[items.size()];
        for (int index = 0; index < out.length; index++) {
            out[index] = number(items.get(index));
        }
        return out;
    }

    static QuantParams quant(Map<String, Object> entry) {
        return new QuantParams(TensorType.fromNumpyName((String) entry.get("dtype")),
                number(entry.get("scale")), (int) (long) (Long) entry.get("zero_point"));
    }
}
