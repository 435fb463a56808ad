package dev.genaug.domain.sampling;

import dev.genaug.domain.error.InvalidArgumentException;
import dev.genaug.domain.random.RandomStream;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Latents from the standard normal prior, optionally truncated: first threshold resampling
 * (|z_i| > t is redrawn), then scaling by psi toward the prior mean (0). Latent i is drawn from
 * {@link RandomStream#of(long, long) the stream of (seed, i)} and nothing else.
 */
public final class PriorSampler implements LatentOperator {
    /** Smallest accepted threshold: below it most draws would be rejected. */
    public static final float MIN_THRESHOLD = 0.5f;

    /** Name of the operator in provenance records. */
    public static final String OPERATOR = "prior";

    private final int dimension;
    private final float psi;
    private final float threshold;

    private PriorSampler(int dimension, float psi, float threshold) {
        this.dimension = dimension;
        this.psi = psi;
        this.threshold = threshold;
    }

    /**
     * A sampler after validating its parameters.
     *
     * @param truncationPsi in (0, 1]; 0 means 1
     * @param truncationThreshold 0 (none) or >= {@link #MIN_THRESHOLD}
     * @param fieldPrefix prefix of the parameter fields in error messages, e.g. "prior."
     */
    public static PriorSampler create(
            int dimension, float truncationPsi, float truncationThreshold, String fieldPrefix) {
        if (dimension < 1) {
            throw new IllegalArgumentException("latent dimension must be >= 1: " + dimension);
        }
        float psi = truncationPsi == 0f ? 1f : truncationPsi;
        if (!(psi > 0f && psi <= 1f)) {
            throw new InvalidArgumentException(
                    fieldPrefix + "truncation_psi", "must be in (0, 1] (0 means 1), got " + truncationPsi);
        }
        if (truncationThreshold != 0f && !(truncationThreshold >= MIN_THRESHOLD)) {
            throw new InvalidArgumentException(
                    fieldPrefix + "truncation_threshold",
                    "must be 0 (none) or >= " + MIN_THRESHOLD + " and finite, got " + truncationThreshold);
        }
        if (Float.isInfinite(truncationThreshold)) {
            throw new InvalidArgumentException(
                    fieldPrefix + "truncation_threshold", "must be finite, got " + truncationThreshold);
        }
        return new PriorSampler(dimension, psi, truncationThreshold);
    }

    @Override
    public String name() {
        return OPERATOR;
    }

    @Override
    public void pointInto(long seed, long index, float[] out, int offset) {
        sampleInto(seed, index, out, offset);
    }

    @Override
    public int dimension() {
        return dimension;
    }

    /** Writes latent {@code index} into {@code out[offset .. offset + dimension)}. */
    public void sampleInto(long seed, long index, float[] out, int offset) {
        RandomStream stream = RandomStream.of(seed, index);
        for (int j = 0; j < dimension; j++) {
            double z = threshold > 0f ? stream.nextTruncatedGaussian(threshold) : stream.nextGaussian();
            out[offset + j] = (float) (z * psi);
        }
    }

    /** Latents {@code start .. start + count - 1}, row-major [count, dimension]. */
    public float[] sample(long seed, long start, int count) {
        float[] out = new float[Math.multiplyExact(count, dimension)];
        for (int i = 0; i < count; i++) {
            sampleInto(seed, start + i, out, i * dimension);
        }
        return out;
    }

    @Override
    public Map<String, String> parameters() {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("truncation_psi", Float.toString(psi));
        p.put("truncation_threshold", Float.toString(threshold));
        return p;
    }
}
