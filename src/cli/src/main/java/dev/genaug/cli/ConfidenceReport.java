package dev.genaug.cli;

import dev.genaug.domain.labelling.ConfidenceScore;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Coverage and accuracy per confidence floor, as {@code labeller eval} prints and writes them. */
final class ConfidenceReport {
    /** The floors reported: candidates for a job's --ignore-below. */
    static final float[] FLOORS = {0.5f, 0.7f, 0.9f};

    private ConfidenceReport() {}

    /** The JSON array: one object per floor. */
    static List<Map<String, Object>> figures(ConfidenceScore score) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (int k = 0; k < score.floors(); k++) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("confidence_at_least", score.floor(k));
            row.put("pixel_share", score.coverage(k));
            double accuracy = score.accuracy(k);
            row.put("pixel_accuracy", Double.isNaN(accuracy) ? null : accuracy);
            out.add(row);
        }
        return out;
    }

    /** One line, e.g. "confidence >= 0.5: 92.9% of pixels, 97.81% right; ...". */
    static String line(ConfidenceScore score) {
        List<String> parts = new ArrayList<>();
        for (int k = 0; k < score.floors(); k++) {
            parts.add(String.format(
                    ">= %s: %.1f%% of pixels, %.2f%% right",
                    score.floor(k), 100 * score.coverage(k), 100 * score.accuracy(k)));
        }
        return "confidence " + String.join("; ", parts);
    }
}
