package dev.genaug.domain.sampling;

import dev.genaug.api.model.v1.ClassRadius;
import dev.genaug.api.model.v1.RadiusCalibration;
import dev.genaug.api.sampler.v1.NeighbourhoodShape;
import java.util.Arrays;

/**
 * Radius calibration of latent views: for the anchors of each class, the largest sigma at which
 * at least a target share of Gaussian neighbours keep the class, found by bisection (agreement
 * falls as sigma grows). Neighbour k of anchor a is drawn from stream (seed, a * K + k).
 */
public final class RadiusCalibrator {
    private final Judge judge;
    private final int dimension;
    private final int viewsPerAnchor;
    private final double target;
    private final long seed;

    public RadiusCalibrator(Judge judge, int dimension, int viewsPerAnchor, double target, long seed) {
        this.judge = judge;
        this.dimension = dimension;
        this.viewsPerAnchor = viewsPerAnchor;
        this.target = target;
        this.seed = seed;
    }

    /** Share of the neighbours at {@code sigma} of the anchors that the judge puts in {@code cls}. */
    double agreement(float[] anchors, int count, int cls, double sigma) {
        int d = dimension;
        float[] views = new float[count * viewsPerAnchor * d];
        for (int a = 0; a < count; a++) {
            Neighbours around = Neighbours.create(
                    Arrays.copyOfRange(anchors, a * d, (a + 1) * d),
                    NeighbourhoodShape.NEIGHBOURHOOD_SHAPE_GAUSSIAN,
                    (float) sigma,
                    0f,
                    "");
            for (int k = 0; k < viewsPerAnchor; k++) {
                around.pointInto(seed, (long) a * viewsPerAnchor + k, views, (a * viewsPerAnchor + k) * d);
            }
        }
        int kept = 0;
        for (int c : judge.classes(views, count * viewsPerAnchor)) {
            kept += c == cls ? 1 : 0;
        }
        return kept / (double) (count * viewsPerAnchor);
    }

    /**
     * @param anchors latents of one class's anchors, row-major
     * @param maxSigma upper end of the search
     * @param steps bisection steps
     */
    public ClassRadius calibrate(String name, int cls, float[] anchors, int count, double maxSigma, int steps) {
        ClassRadius.Builder out =
                ClassRadius.newBuilder().setName(name).setId(cls).setAnchors(count);
        double lo = 0;
        double hi = maxSigma;
        double top = agreement(anchors, count, cls, hi);
        out.addSigmasTried(hi).addAgreementMeasured(top);
        if (top >= target) {
            return out.setSigma(hi).build();
        }
        for (int i = 0; i < steps; i++) {
            double mid = (lo + hi) / 2;
            double a = agreement(anchors, count, cls, mid);
            out.addSigmasTried(mid).addAgreementMeasured(a);
            if (a >= target) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        return out.setSigma(lo).build();
    }

    /** Looks up the calibrated sigma of a class; empty when the calibration does not cover it. */
    public static java.util.OptionalDouble sigmaOf(RadiusCalibration calibration, int cls) {
        return calibration.getClassesList().stream()
                .filter(c -> c.getId() == cls)
                .mapToDouble(ClassRadius::getSigma)
                .findFirst();
    }
}
