package dev.genaug.domain.sampling;

import dev.genaug.api.sampler.v1.Direction;
import dev.genaug.domain.error.InvalidArgumentException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Points along a (composed, unit-length) direction from an origin, alpha evenly spaced. */
public final class Walk implements LatentOperator {
    public static final String OPERATOR = "walk";

    private final float[] origin;
    private final double[] direction;
    private final float alphaMin;
    private final float alphaMax;
    private final int steps;

    private Walk(float[] origin, double[] direction, float alphaMin, float alphaMax, int steps) {
        this.origin = origin;
        this.direction = direction;
        this.alphaMin = alphaMin;
        this.alphaMax = alphaMax;
        this.steps = steps;
    }

    public static Walk create(
            float[] origin, List<Direction> directions, float alphaMin, float alphaMax, int steps, String fieldPrefix) {
        int d = origin.length;
        if (directions.isEmpty()) {
            throw new InvalidArgumentException(fieldPrefix + "directions", "must hold at least one direction");
        }
        double[] sum = new double[d];
        for (int k = 0; k < directions.size(); k++) {
            String field = fieldPrefix + "directions[" + k + "]";
            float[] v = LatentOperator.latent(directions.get(k).getValuesList(), d, field);
            float w =
                    directions.get(k).getWeight() == 0f ? 1f : directions.get(k).getWeight();
            if (!Float.isFinite(w)) {
                throw new InvalidArgumentException(field + ".weight", "must be finite, got " + w);
            }
            for (int j = 0; j < d; j++) {
                sum[j] += w * (double) v[j];
            }
        }
        double norm = 0;
        for (double x : sum) {
            norm += x * x;
        }
        norm = Math.sqrt(norm);
        if (norm == 0) {
            throw new InvalidArgumentException(fieldPrefix + "directions", "sum to the zero vector");
        }
        for (int j = 0; j < d; j++) {
            sum[j] /= norm;
        }
        if (!Float.isFinite(alphaMin) || !Float.isFinite(alphaMax) || !(alphaMin < alphaMax)) {
            throw new InvalidArgumentException(
                    fieldPrefix + "alpha_max",
                    "must be finite and above alpha_min, got [" + alphaMin + ", " + alphaMax + "]");
        }
        if (steps < 2) {
            throw new InvalidArgumentException(fieldPrefix + "steps", "must be >= 2, got " + steps);
        }
        return new Walk(origin.clone(), sum, alphaMin, alphaMax, steps);
    }

    @Override
    public long length() {
        return steps;
    }

    @Override
    public String name() {
        return OPERATOR;
    }

    @Override
    public int dimension() {
        return origin.length;
    }

    @Override
    public void pointInto(long seed, long index, float[] out, int offset) {
        double alpha = alphaMin + index * (alphaMax - (double) alphaMin) / (steps - 1);
        for (int j = 0; j < origin.length; j++) {
            out[offset + j] = (float) (origin[j] + alpha * direction[j]);
        }
    }

    @Override
    public Map<String, String> parameters() {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("alpha_min", Float.toString(alphaMin));
        p.put("alpha_max", Float.toString(alphaMax));
        p.put("steps", Integer.toString(steps));
        return p;
    }
}
