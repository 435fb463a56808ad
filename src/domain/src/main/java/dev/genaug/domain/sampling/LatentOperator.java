package dev.genaug.domain.sampling;

import java.util.Map;

/**
 * A rule that gives latent {@code index} of a (seed, parameters) stream. Random operators draw from
 * {@code RandomStream.of(seed, index)} only, so a latent never depends on how requests are split.
 */
public interface LatentOperator {
    /** Name in provenance records, e.g. "prior". */
    String name();

    int dimension();

    /** Writes latent {@code index} into {@code out[offset .. offset + dimension)}. */
    void pointInto(long seed, long index, float[] out, int offset);

    /** How many indices the operator has: a path's steps; unbounded for random draws. */
    default long length() {
        return Long.MAX_VALUE;
    }

    /** The parameters as provenance text, in a fixed order. */
    Map<String, String> parameters();

    /** Latents {@code start .. start + count - 1}, row-major [count, dimension]. */
    default float[] points(long seed, long start, int count) {
        float[] out = new float[Math.multiplyExact(count, dimension())];
        for (int i = 0; i < count; i++) {
            pointInto(seed, start + i, out, i * dimension());
        }
        return out;
    }

    /** Checks that the values are a latent of this space: d finite numbers. */
    static float[] latent(java.util.List<Float> values, int dimension, String field) {
        if (values.isEmpty()) {
            throw new dev.genaug.domain.error.InvalidArgumentException(field, "is required (" + dimension + " values)");
        }
        if (values.size() != dimension) {
            throw new dev.genaug.domain.error.InvalidArgumentException(
                    field, "has " + values.size() + " values; the latent dimension is " + dimension);
        }
        float[] out = new float[dimension];
        for (int j = 0; j < dimension; j++) {
            float v = values.get(j);
            if (!Float.isFinite(v)) {
                throw new dev.genaug.domain.error.InvalidArgumentException(
                        field + ".values[" + j + "]", "must be finite, got " + v);
            }
            out[j] = v;
        }
        return out;
    }
}
