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
    // The path's geometry, the same for every point: the ends' norms, the angle between them, and
    // whether the path is straight (lerp asked for, or ends too close to (anti)parallel for slerp).
    private final double normFrom;
    private final double normTo;
    private final double omega;
    private final double sinOmega;
    private final boolean straight;

    private Interpolation(float[] from, float[] to, int steps, boolean spherical) {
        this.from = from;
        this.to = to;
        this.steps = steps;
        this.spherical = spherical;
        normFrom = norm(from);
        normTo = norm(to);
        double cos = 0;
        if (normFrom > 0 && normTo > 0) {
            for (int j = 0; j < from.length; j++) {
                cos += from[j] * (double) to[j];
            }
            cos /= normFrom * normTo;
        }
        omega = Math.acos(Math.max(-1, Math.min(1, cos)));
        sinOmega = Math.sin(omega);
        straight = !spherical || normFrom == 0 || normTo == 0 || sinOmega < 1e-6;
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
        return from.length;
    }

    @Override
    public void pointInto(long seed, long index, float[] out, int offset) {
        double t = index / (double) (steps - 1);
        int d = from.length;
        if (straight) {
            for (int j = 0; j < d; j++) {
                out[offset + j] = (float) ((1 - t) * from[j] + t * to[j]);
            }
            return;
        }
        // Along the great circle of the unit directions, with the norm interpolated linearly.
        double wa = Math.sin((1 - t) * omega) / sinOmega;
        double wb = Math.sin(t * omega) / sinOmega;
        double length = (1 - t) * normFrom + t * normTo;
        for (int j = 0; j < d; j++) {
            out[offset + j] = (float) (length * (wa * from[j] / normFrom + wb * to[j] / normTo));
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
