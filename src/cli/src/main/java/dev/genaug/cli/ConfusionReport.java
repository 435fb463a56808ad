package dev.genaug.cli;

import dev.genaug.domain.labelling.SegmentationScore;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Which classes a labeller takes for which, as {@code labeller eval} and {@code labeller score} report it. */
final class ConfusionReport {
    /** How many confusions the printed line names. */
    static final int SHOWN = 5;

    private ConfusionReport() {}

    /** The JSON object: the class names and, per true class, its pixels by predicted class. */
    static Map<String, Object> figures(SegmentationScore score, List<String> names) {
        List<long[]> rows = new ArrayList<>();
        for (int t = 0; t < score.classes(); t++) {
            long[] row = new long[score.classes()];
            for (int q = 0; q < row.length; q++) {
                row[q] = score.pixels(t, q);
            }
            rows.add(row);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("classes", names);
        out.put("pixels_by_true_then_predicted", rows);
        return out;
    }

    /**
     * One line: the largest confusions, each as the share of the true class's pixels given the
     * other class, largest first. Classes with under 0.1% of the scored pixels are left out: a
     * share of a handful of pixels says little.
     */
    static String line(SegmentationScore score, List<String> names) {
        record Confusion(int truth, int predicted, double share) {}
        long total = 0;
        for (int t = 0; t < score.classes(); t++) {
            total += score.truePixels(t);
        }
        List<Confusion> all = new ArrayList<>();
        for (int t = 0; t < score.classes(); t++) {
            long n = score.truePixels(t);
            if (n == 0 || n * 1000 < total) {
                continue;
            }
            for (int q = 0; q < score.classes(); q++) {
                if (q != t && score.pixels(t, q) > 0) {
                    all.add(new Confusion(t, q, (double) score.pixels(t, q) / n));
                }
            }
        }
        if (all.isEmpty()) {
            return "no class taken for another";
        }
        all.sort(Comparator.comparingDouble(Confusion::share).reversed());
        StringBuilder sb = new StringBuilder("most confused (share of the true class's pixels):");
        for (int i = 0; i < Math.min(SHOWN, all.size()); i++) {
            Confusion c = all.get(i);
            sb.append(i == 0 ? " " : ", ")
                    .append(names.get(c.truth()))
                    .append(" as ")
                    .append(names.get(c.predicted()))
                    .append(String.format(" %.0f%%", 100 * c.share()));
        }
        return sb.toString();
    }
}
