package dev.genaug.domain.sampling;

import dev.genaug.api.sampler.v1.InterpolationMethod;
import dev.genaug.domain.error.InvalidArgumentException;
import java.util.LinkedHashMap;
import java.util.Map;

/** Points on the path between two latents: straight (lerp) or along the great circle (slerp). */
public final class Interpolation implements LatentOperator {
    public static final String OPERATOR = "interpolation";

    private final float[] from;
    private final float[] to;
    private final int steps;
    private final boolean spherical;

    private Interpolation(float[] from, float[] to, int steps, boolean spherical) {
        this.from = from;
        this.to = to;
        this.steps = steps;
        this.spherical = spherical;
    }

    public static Interpolation create(
            float[] from, float[] to, int steps, InterpolationMethod method, String fieldPrefix) {
        if (steps < 2) {
            throw new InvalidArgumentException(fieldPrefix + "steps", "must be >= 2, got " + steps);
        }
        if (method == InterpolationMethod.UNRECOGNIZED) {
            throw new InvalidArgumentException(fieldPrefix + "method", "unknown value");
        }
        return new Interpolation(
                from.clone(), to.clone(), steps, method != InterpolationMethod.INTERPOLATION_METHOD_LERP);
    }

    public int steps() {
        return steps;
    }

    @Override
    public String name() {
        return OPERATOR;
    }

    @Override
    public int dimension() {
        return from.length;
    }

    @Override
    public void pointInto(long seed, long index, float[] out, int offset) {
        double t = index / (double) (steps - 1);
        int d = from.length;
        double na = norm(from);
        double nb = norm(to);
        double cos = 0;
        if (na > 0 && nb > 0) {
            for (int j = 0; j < d; j++) {
                cos += from[j] * (double) to[j];
            }
            cos /= na * nb;
        }
        double omega = Math.acos(Math.max(-1, Math.min(1, cos)));
        double sin = Math.sin(omega);
        if (!spherical || na == 0 || nb == 0 || sin < 1e-6) {
            for (int j = 0; j < d; j++) {
                out[offset + j] = (float) ((1 - t) * from[j] + t * to[j]);
            }
            return;
        }
        // Along the great circle of the unit directions, with the norm interpolated linearly.
        double wa = Math.sin((1 - t) * omega) / sin;
        double wb = Math.sin(t * omega) / sin;
        double length = (1 - t) * na + t * nb;
        for (int j = 0; j < d; j++) {
            out[offset + j] = (float) (length * (wa * from[j] / na + wb * to[j] / nb));
        }
    }

    private static double norm(float[] v) {
        double s = 0;
        for (float x : v) {
            s += x * (double) x;
        }
        return Math.sqrt(s);
    }

    @Override
    public Map<String, String> parameters() {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("method", spherical ? "slerp" : "lerp");
        p.put("steps", Integer.toString(steps));
        return p;
    }
}
