package dev.asmnetedge.core;

import java.util.List;
import java.util.Map;

/**
 * How face-like a predicted shape is, from the PCA shape model in the metadata: the same formula as
 * Python's {@code asmnet_edge.runtime.shape_score.ShapeModel}. The squared Mahalanobis distance (kept
 * components plus the residual outside them) per degree of freedom is about 1 for training-like faces;
 * {@code score = exp(-d / 2)} is about 0.6 for typical faces and falls toward 0 for crops the network
 * does not recognise as a face.
 */
public final class ShapeScore {
    private final double[] mean;
    private final double[][] components;
    private final double[] eigenvalues;
    private final double residualVariance;

    ShapeScore(double[] mean, double[][] components, double[] eigenvalues, double residualVariance) {
        this.mean = mean;
        this.components = components;
        this.eigenvalues = eigenvalues;
        this.residualVariance = residualVariance;
    }

    /** Number of values a shape has (2 x landmarks). */
    public int size() {
        return mean.length;
    }

    /** Squared Mahalanobis distance per degree of freedom of flat network outputs. */
    public double distance(double[] values) {
        if (values.length != mean.length) {
            throw new IllegalArgumentException("expected " + mean.length + " values, got " + values.length);
        }
        double[] centred = new double[mean.length];
        for (int i = 0; i < mean.length; i++) {
            centred[i] = values[i] - mean[i];
        }
        double inside = 0.0;
        double[] residual = centred.clone();
        for (int k = 0; k < components.length; k++) {
            double coefficient = 0.0;
            for (int i = 0; i < mean.length; i++) {
                coefficient += components[k][i] * centred[i];
            }
            inside += coefficient * coefficient / eigenvalues[k];
            for (int i = 0; i < mean.length; i++) {
                residual[i] -= coefficient * components[k][i];
            }
        }
        double outside = 0.0;
        for (double value : residual) {
            outside += value * value;
        }
        return (inside + outside / residualVariance) / mean.length;
    }

    /** Plausibility in (0, 1]. */
    public double score(double[] values) {
        return Math.exp(-distance(values) / 2.0);
    }

    /** Strict parse of the metadata's {@code shape_model} object. */
    static ShapeScore fromMap(Map<String, Object> data) {
        if (data.size() != 4 || !data.containsKey("mean") || !data.containsKey("components")
                || !data.containsKey("eigenvalues") || !data.containsKey("residual_variance")) {
            throw new MetadataException("shape_model must have exactly mean, components, eigenvalues, residual_variance");
        }
        double[] mean = numbers(data.get("mean"));
        Object rows = data.get("components");
        if (!(rows instanceof List)) {
            throw new MetadataException("shape_model.components must be a list of lists");
        }
        List<?> list = (List<?>) rows;
        double[][] components = new double[list.size()][];
        for (int k = 0; k < list.size(); k++) {
            components[k] = numbers(list.get(k));
            if (components[k].length != mean.length) {
                throw new MetadataException("shape_model: a component does not have the mean's length");
            }
        }
        double[] eigenvalues = numbers(data.get("eigenvalues"));
        double residual = number(data.get("residual_variance"));
        if (eigenvalues.length != components.length || !(residual > 0)) {
            throw new MetadataException("shape_model: components, eigenvalues and residual variance do not agree");
        }
        for (double value : eigenvalues) {
            if (!(value > 0)) {
                throw new MetadataException("shape_model: eigenvalues must be positive");
            }
        }
        return new ShapeScore(mean, components, eigenvalues, residual);
    }

    private static double[] numbers(Object value) {
        if (!(value instanceof List)) {
            throw new MetadataException("shape_model: expected a list of numbers");
        }
        List<?> list = (List<?>) value;
        double[] out = new double[list.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = number(list.get(i));
        }
        return out;
    }

    private static double number(Object value) {
        if (value instanceof Long) {
            return ((Long) value).doubleValue();
        }
        if (value instanceof Double) {
            return (Double) value;
        }
        throw new MetadataException("shape_model: expected a number, got " + value);
    }
}
