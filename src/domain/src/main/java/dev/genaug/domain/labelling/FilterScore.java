package dev.genaug.domain.labelling;

import java.util.Arrays;

/**
 * What the uncertainty filter of a labelled job does to label quality: the pictures it would drop
 * (uncertainty above a threshold, the job's own rule) are scored apart from the ones it keeps. A
 * filter that works drops pictures labelled worse than the ones it keeps.
 */
public final class FilterScore {
    private final float threshold;
    private final SegmentationScore kept;
    private final SegmentationScore dropped;
    private int keptPictures;
    private int droppedPictures;
    private double keptAccuracy;
    private double droppedAccuracy;

    /** @param threshold a picture whose uncertainty is above it is dropped, as in a labelled job */
    public FilterScore(int classes, float threshold) {
        this.threshold = threshold;
        kept = new SegmentationScore(classes);
        dropped = new SegmentationScore(classes);
    }

    /**
     * The threshold that drops the {@code dropFraction} most uncertain of these pictures (rounded to
     * a whole number of pictures; ties at the threshold are kept, so ties can drop fewer).
     */
    public static float thresholdDropping(float[] uncertainties, float dropFraction) {
        if (!(dropFraction >= 0 && dropFraction <= 1)) {
            throw new IllegalArgumentException("dropFraction must be in [0, 1], got " + dropFraction);
        }
        int drop = Math.round(dropFraction * uncertainties.length);
        if (drop == 0) {
            return Float.POSITIVE_INFINITY;
        }
        if (drop == uncertainties.length) {
            return Float.NEGATIVE_INFINITY;
        }
        float[] sorted = uncertainties.clone();
        Arrays.sort(sorted);
        return sorted[uncertainties.length - drop - 1];
    }

    /**
     * Adds one picture: predicted and true class ids, pixel by pixel, and its uncertainty. Pixels
     * whose true id is {@link Labelling#IGNORED} (not annotated) are skipped; at least one must be
     * annotated.
     */
    public void add(float[] predicted, int offset, byte[] truth, float uncertainty) {
        int right = 0;
        int annotated = 0;
        for (int p = 0; p < truth.length; p++) {
            int t = truth[p] & 0xff;
            if (t != Labelling.IGNORED) {
                annotated++;
                right += (int) predicted[offset + p] == t ? 1 : 0;
            }
        }
        if (annotated == 0) {
            throw new IllegalArgumentException("a picture with no annotated pixel has no accuracy");
        }
        double accuracy = (double) right / annotated;
        if (uncertainty > threshold) {
            dropped.add(predicted, offset, truth);
            droppedPictures++;
            droppedAccuracy += accuracy;
        } else {
            kept.add(predicted, offset, truth);
            keptPictures++;
            keptAccuracy += accuracy;
        }
    }

    public float threshold() {
        return threshold;
    }

    public int keptPictures() {
        return keptPictures;
    }

    public int droppedPictures() {
        return droppedPictures;
    }

    /** Segmentation score of the kept pictures. */
    public SegmentationScore kept() {
        return kept;
    }

    /** Segmentation score of the dropped pictures. */
    public SegmentationScore dropped() {
        return dropped;
    }

    /** Mean share of correctly labelled pixels per kept picture; NaN when none is kept. */
    public double keptPixelAccuracy() {
        return keptPictures == 0 ? Double.NaN : keptAccuracy / keptPictures;
    }

    /** Mean share of correctly labelled pixels per dropped picture; NaN when none is dropped. */
    public double droppedPixelAccuracy() {
        return droppedPictures == 0 ? Double.NaN : droppedAccuracy / droppedPictures;
    }
}
