package dev.asmnetedge.core;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The {@code refine} entry of a refine stage's metadata ({@code asmnet_edge.runtime.metadata.RefineInfo}
 * and {@code Stage1Facts}): the stage-1 ASMNet it was trained behind and the heatmap's patch half-width,
 * loaded as strictly as the rest of the metadata, and the check that a stage 1 is that one.
 *
 * <pre>{@code
 * refineMeta.refine.check(stage1Meta);  // StageMismatchException naming each difference
 * }</pre>
 */
public final class RefineInfo {
    private static final Set<String> KEYS = new HashSet<>(Arrays.asList("stage1", "heatmap_patch_half"));
    private static final Set<String> STAGE1_KEYS = new HashSet<>(Arrays.asList(
            "weights_sha256", "num_landmarks", "input_size", "crop_margin", "landmark_sign", "source"));

    /** Hex sha256 of the stage-1 Keras weights, as every precision of its export records it. */
    public final String weightsSha256;
    public final int numLandmarks;
    public final int inputSize;
    public final double cropMargin;
    public final double landmarkSign;
    /** The stage-1 weights file the refine stage was trained with (for messages), or "". */
    public final String source;
    /** Half-width in aligned pixels of each point's square heatmap patch. */
    public final double heatmapPatchHalf;

    private RefineInfo(ModelMetadata.Fields stage1, double heatmapPatchHalf) {
        weightsSha256 = stage1.string("weights_sha256", "");
        numLandmarks = stage1.requiredInt("num_landmarks");
        inputSize = stage1.requiredInt("input_size");
        cropMargin = stage1.number("crop_margin", 0.0);
        landmarkSign = stage1.number("landmark_sign", 0.0);
        source = stage1.string("source", "");
        this.heatmapPatchHalf = heatmapPatchHalf;
    }

    static RefineInfo fromMap(Map<String, Object> data) {
        requireKeys(data, KEYS, KEYS, "refine");
        Map<String, Object> stage1 = ModelMetadata.Fields.object(data.get("stage1"), "refine.stage1");
        Set<String> required = new HashSet<>(STAGE1_KEYS);
        required.remove("source");
        requireKeys(stage1, STAGE1_KEYS, required, "refine.stage1");
        double patchHalf = new ModelMetadata.Fields(data).number("heatmap_patch_half", 0.0);
        if (!(patchHalf > 0.0)) {
            throw new MetadataException("refine.heatmap_patch_half must be positive, got " + patchHalf);
        }
        return new RefineInfo(new ModelMetadata.Fields(stage1), patchHalf);
    }

    private static void requireKeys(Map<String, Object> data, Set<String> known, Set<String> required, String where) {
        for (String key : data.keySet()) {
            if (!known.contains(key)) {
                throw new MetadataException("unknown key '" + key + "' in '" + where + "': re-export the model");
            }
        }
        for (String key : required) {
            if (!data.containsKey(key)) {
                throw new MetadataException("'" + where + "' lacks '" + key + "': re-export the refine model");
            }
        }
    }

    /**
     * Refuse {@code stage1} unless it is the stage 1 this refine stage was trained behind
     * ({@code asmnet_edge.runtime.refine.check_stage1}, same checks, same message); a stage 1
     * exported without a weights sha256 does not pass.
     */
    public void check(ModelMetadata stage1) {
        if (!"asmnet".equals(stage1.architecture)) {
            throw new StageMismatchException("a refine model refines an ASMNet, not a model of architecture '"
                    + stage1.architecture + "'");
        }
        List<String> differ = new ArrayList<>();
        compare(differ, "landmarks", Integer.toString(numLandmarks), Integer.toString(stage1.numLandmarks));
        compare(differ, "input size", Integer.toString(inputSize), Integer.toString(stage1.inputSize));
        compare(differ, "crop margin", Double.toString(cropMargin), Double.toString(stage1.cropMargin));
        compare(differ, "landmark sign", Double.toString(landmarkSign), Double.toString(stage1.landmarkSign));
        compare(differ, "weights sha256", prefix(weightsSha256), prefix(stage1.weightsSha256));
        if (!differ.isEmpty() || !weightsSha256.equals(stage1.weightsSha256)) {
            String trained = source.isEmpty() ? "" : " (" + source + ")";
            throw new StageMismatchException("this refine model was trained behind the stage-1 ASMNet" + trained
                    + " with " + String.join(", ", differ) + ": its corrections would be garbage behind another "
                    + "stage 1; use the refine model trained for this stage 1 "
                    + "(asmnet-edge train --arch refine --stage1 WEIGHTS)");
        }
    }

    private static void compare(List<String> differ, String name, String mine, String theirs) {
        if (!mine.equals(theirs)) {
            differ.add(name + " " + mine + " (given " + theirs + ")");
        }
    }

    private static String prefix(String sha) {
        return sha.substring(0, Math.min(12, sha.length()));
    }
}
