package dev.genaug.domain.labelling;

/**
 * Pixel counts of each true class against each predicted one, accumulated over a whole evaluation
 * set; from them, intersection over union per class (over the set, not averaged per image) and its
 * mean over the classes that occur in the truth or the prediction.
 */
public final class SegmentationScore {
    private final int classes;
    /** [true class][predicted class], row-major. */
    private final long[] confusion;

    public SegmentationScore(int classes) {
        this.classes = classes;
        confusion = new long[classes * classes];
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
            if (t >= classes || q < 0 || q >= classes) {
                throw new IllegalArgumentException(
                        "class id out of range at pixel " + p + ": true " + t + ", predicted " + q);
            }
            confusion[t * classes + q]++;
        }
    }

    public int classes() {
        return classes;
    }

    /** Pixels of true class {@code t} labelled {@code q}. */
    public long pixels(int t, int q) {
        return confusion[t * classes + q];
    }

    /** Pixels whose true class is {@code t}, whatever they were labelled. */
    public long truePixels(int t) {
        long n = 0;
        for (int q = 0; q < classes; q++) {
            n += confusion[t * classes + q];
        }
        return n;
    }

    /** IoU of a class; NaN when it occurs nowhere. */
    public double iou(int c) {
        long predicted = 0;
        for (int t = 0; t < classes; t++) {
            predicted += confusion[t * classes + c];
        }
        long hit = confusion[c * classes + c];
        long union = truePixels(c) + predicted - hit;
        return union == 0 ? Double.NaN : (double) hit / union;
    }

    public double meanIou() {
        double s = 0;
        int n = 0;
        for (int c = 0; c < classes; c++) {
            double iou = iou(c);
            if (!Double.isNaN(iou)) {
                s += iou;
                n++;
            }
        }
        return n == 0 ? Double.NaN : s / n;
    }
}
