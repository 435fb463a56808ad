package dev.genaug.domain.sampling;

import dev.genaug.api.sampler.v1.NeighbourhoodShape;
import dev.genaug.domain.error.InvalidArgumentException;
import dev.genaug.domain.random.RandomStream;
import java.util.LinkedHashMap;
import java.util.Map;

/** Latent views: random points around an anchor, Gaussian or uniform in a ball. */
public final class Neighbours implements LatentOperator {
    public static final String OPERATOR = "neighbours";

    private final float[] anchor;
    private final boolean ball;
    private final float sigma;
    private final float psi;

    private Neighbours(float[] anchor, boolean ball, float sigma, float psi) {
        this.anchor = anchor;
        this.ball = ball;
        this.sigma = sigma;
        this.psi = psi;
    }

    /** @param fieldPrefix prefix of the fields in errors, e.g. "neighbours." */
    public static Neighbours create(
            float[] anchor, NeighbourhoodShape shape, float sigma, float truncationPsi, String fieldPrefix) {
        if (!(sigma >= 0f) || Float.isInfinite(sigma)) {
            throw new InvalidArgumentException(fieldPrefix + "sigma", "must be finite and >= 0, got " + sigma);
        }
        float psi = truncationPsi == 0f ? 1f : truncationPsi;
        if (!(psi > 0f && psi <= 1f)) {
            throw new InvalidArgumentException(
                    fieldPrefix + "truncation_psi", "must be in (0, 1] (0 means 1), got " + truncationPsi);
        }
        if (shape == NeighbourhoodShape.UNRECOGNIZED) {
            throw new InvalidArgumentException(fieldPrefix + "shape", "unknown value");
        }
        return new Neighbours(anchor.clone(), shape == NeighbourhoodShape.NEIGHBOURHOOD_SHAPE_BALL, sigma, psi);
    }

    @Override
    public String name() {
        return OPERATOR;
    }

    @Override
    public int dimension() {
        return anchor.length;
    }

    @Override
    public void pointInto(long seed, long index, float[] out, int offset) {
        RandomStream stream = RandomStream.of(seed, index);
        int d = anchor.length;
        double[] g = new double[d];
        double norm = 0;
        for (int j = 0; j < d; j++) {
            g[j] = stream.nextGaussian();
            norm += g[j] * g[j];
        }
        double scale = sigma;
        if (ball) {
            // A uniform direction (a normalised Gaussian) at radius sigma * U^(1/d).
            norm = Math.sqrt(norm);
            scale = norm == 0 ? 0 : sigma * Math.pow(stream.nextDouble(), 1.0 / d) / norm;
        }
        for (int j = 0; j < d; j++) {
            out[offset + j] = (float) ((anchor[j] + scale * g[j]) * psi);
        }
    }

    @Override
    public Map<String, String> parameters() {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("shape", ball ? "ball" : "gaussian");
        p.put("sigma", Float.toString(sigma));
        p.put("truncation_psi", Float.toString(psi));
        return p;
    }
}
