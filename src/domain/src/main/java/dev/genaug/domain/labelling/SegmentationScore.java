package dev.genaug.domain.labelling;

/**
 * Intersection over union per class, accumulated over a whole evaluation set (not averaged per
 * image), and their mean over the classes that occur in the truth or the prediction.
 */
public final class SegmentationScore {
    private final long[] intersection;
    private final long[] union;

    public SegmentationScore(int classes) {
        intersection = new long[classes];
        union = new long[classes];
    }

    /**
     * Adds one picture: predicted and true class ids, pixel by pixel; a true id of {@link
     * Labelling#IGNORED} (not annotated) is skipped.
     */
    public void add(float[] predicted, int offset, byte[] truth) {
        for (int p = 0; p < truth.length; p++) {
            int t = truth[p] & 0xff;
            if (t == Labelling.IGNORED) {
                continue;
            }
            int q = (int) predicted[offset + p];
            if (t == q) {
                intersection[t]++;
                union[t]++;
            } else {
                union[t]++;
                union[q]++;
            }
        }
    }

    /** IoU of a class; NaN when it occurs nowhere. */
    public double iou(int c) {
        return union[c] == 0 ? Double.NaN : (double) intersection[c] / union[c];
    }

    public double meanIou() {
        double s = 0;
        int n = 0;
        for (int c = 0; c < union.length; c++) {
            if (union[c] > 0) {
                s += iou(c);
                n++;
            }
        }
        return n == 0 ? Double.NaN : s / n;
    }
}
