package dev.genaug.domain.labelling;

import java.util.List;

/**
 * A trained labeller: members plus the input scaling they were trained with. {@link #label} is the
 * plain reference implementation (per pixel, unfolded); jobs and the Label RPC run the exported
 * ONNX model ({@link LabellerOnnx}), which tests hold to this.
 */
public final class Ensemble {
    /** Share of a picture's pixels whose Jensen-Shannon divergence makes its uncertainty. */
    public static final double TOP_SHARE = 0.1;

    private final List<PixelMlp> members;
    private final float[] mean;
    private final float[] std;

    Ensemble(List<PixelMlp> members, float[] mean, float[] std) {
        this.members = List.copyOf(members);
        this.mean = mean;
        this.std = std;
    }

    List<PixelMlp> members() {
        return members;
    }

    float[] mean() {
        return mean;
    }

    float[] std() {
        return std;
    }

    /**
     * This ensemble with every member's logit of class c moved by -tau ln(share of c among the
     * labelled pixels): logit adjustment (Menon et al., 2021), which undoes the class prior the
     * annotations taught, so that parts drawn on few pixels are not drowned by the background
     * and the large parts. A class absent from the labels is not moved: nothing supports
     * favouring it. tau 0 returns this ensemble.
     *
     * @param labels class ids of the annotated pixels; values >= classes() are not counted
     */
    public Ensemble withClassPriorCorrection(byte[] labels, double tau) {
        if (tau == 0) {
            return this;
        }
        int classes = classes();
        long[] count = new long[classes];
        long total = 0;
        for (byte label : labels) {
            int c = label & 0xff;
            if (c < classes) {
                count[c]++;
                total++;
            }
        }
        float[] shift = new float[classes];
        for (int c = 0; c < classes; c++) {
            shift[c] = count[c] == 0 ? 0f : (float) (-tau * Math.log((double) count[c] / total));
        }
        return new Ensemble(members.stream().map(m -> m.withLogitShift(shift)).toList(), mean, std);
    }

    public int size() {
        return members.size();
    }

    public int classes() {
        return members.get(0).classes();
    }

    public int dimension() {
        return members.get(0).sizes[0];
    }

    /** Weights and biases of all members. */
    public long parameters() {
        long n = 0;
        for (PixelMlp m : members) {
            for (int l = 0; l < m.layers(); l++) {
                n += m.w[l].length + m.b[l].length;
            }
        }
        return n;
    }

    /**
     * Per-pixel labels (as floats), confidences [images, H, W] and per-image uncertainty [images].
     */
    public record Labels(float[] labels, float[] confidence, float[] uncertainty) {}

    /** Pixels of one picture whose divergences are averaged into its uncertainty. */
    public static int topCount(int pixels) {
        return (int) Math.ceil(TOP_SHARE * pixels);
    }

    public Labels label(FeatureMaps maps) {
        int plane = maps.height() * maps.width();
        int d = dimension();
        int c = classes();
        float[] labels = new float[maps.images() * plane];
        float[] confidence = new float[labels.length];
        float[] uncertainty = new float[maps.images()];
        float[] x = new float[plane * d];
        for (int i = 0; i < maps.images(); i++) {
            for (int p = 0; p < plane; p++) {
                maps.pixel(i, p / maps.width(), p % maps.width(), x, p * d);
                for (int k = 0; k < d; k++) {
                    x[p * d + k] = (x[p * d + k] - mean[k]) / std[k];
                }
            }
            double[] meanP = new double[plane * c];
            double[] meanEntropy = new double[plane];
            for (PixelMlp m : members) {
                float[] logits = m.logits(x, plane);
                for (int p = 0; p < plane; p++) {
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < c; j++) {
                        max = Math.max(max, logits[p * c + j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < c; j++) {
                        sum += Math.exp(logits[p * c + j] - max);
                    }
                    double h = 0;
                    for (int j = 0; j < c; j++) {
                        double q = Math.exp(logits[p * c + j] - max) / sum;
                        meanP[p * c + j] += q / members.size();
                        h -= q * Math.log(Math.max(q, 1e-12));
                    }
                    meanEntropy[p] += h / members.size();
                }
            }
            double[] js = new double[plane];
            for (int p = 0; p < plane; p++) {
                int best = 0;
                double h = 0;
                for (int j = 0; j < c; j++) {
                    double q = meanP[p * c + j];
                    if (q > meanP[p * c + best]) {
                        best = j;
                    }
                    h -= q * Math.log(Math.max(q, 1e-12));
                }
                labels[i * plane + p] = best;
                confidence[i * plane + p] = (float) meanP[p * c + best];
                js[p] = Math.max(0, h - meanEntropy[p]);
            }
            uncertainty[i] = (float) topMean(js, topCount(plane));
        }
        return new Labels(labels, confidence, uncertainty);
    }

    private static double topMean(double[] values, int k) {
        double[] sorted = values.clone();
        java.util.Arrays.sort(sorted);
        double s = 0;
        for (int i = sorted.length - k; i < sorted.length; i++) {
            s += sorted[i];
        }
        return s / k;
    }
}
