package dev.genaug.domain.labelling;

/**
 * How right a labeller is where it is confident: for each confidence floor, the share of pixels at
 * or above it and the share of those labelled correctly. It tells which floor to give a labelled
 * job's ignore_below_confidence (pixels below it are written as the ignore index).
 */
public final class ConfidenceScore {
    private final float[] floors;
    private final long[] covered;
    private final long[] correct;
    private long pixels;

    /** @param floors confidence floors, each in [0, 1] */
    public ConfidenceScore(float... floors) {
        this.floors = floors.clone();
        covered = new long[floors.length];
        correct = new long[floors.length];
    }

    /**
     * Adds pixels: predicted class ids and confidences from {@code offset}, true class ids; a true
     * id of {@link Labelling#IGNORED} (not annotated) is skipped.
     */
    public void add(float[] predicted, float[] confidence, int offset, byte[] truth) {
        for (int p = 0; p < truth.length; p++) {
            int t = truth[p] & 0xff;
            if (t == Labelling.IGNORED) {
                continue;
            }
            pixels++;
            boolean right = (int) predicted[offset + p] == t;
            for (int k = 0; k < floors.length; k++) {
                if (confidence[offset + p] >= floors[k]) {
                    covered[k]++;
                    correct[k] += right ? 1 : 0;
                }
            }
        }
    }

    public int floors() {
        return floors.length;
    }

    public float floor(int k) {
        return floors[k];
    }

    /** Share of the annotated pixels whose confidence is at least floor k; NaN before any pixel. */
    public double coverage(int k) {
        return pixels == 0 ? Double.NaN : (double) covered[k] / pixels;
    }

    /** Share of those pixels labelled correctly; NaN when there are none. */
    public double accuracy(int k) {
        return covered[k] == 0 ? Double.NaN : (double) correct[k] / covered[k];
    }
}
