package dev.genaug.cli;

import dev.genaug.domain.error.InvalidArgumentException;
import dev.genaug.domain.labelling.FilterScore;
import java.util.LinkedHashMap;
import java.util.Map;

/** The uncertainty filter's figures as {@code labeller eval} and {@code labeller score} print and write them. */
final class FilterReport {
    private FilterReport() {}

    /** Refuses a --drop-fraction a labelled job would refuse. */
    static void checkDropFraction(float dropFraction) {
        if (!(dropFraction >= 0 && dropFraction < 1)) {
            throw new InvalidArgumentException("--drop-fraction", "must be in [0, 1), got " + dropFraction);
        }
    }

    /** The JSON object: threshold, pictures kept and dropped, and the scores of each part. */
    static Map<String, Object> figures(FilterScore filter, float dropFraction) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("drop_fraction", dropFraction);
        // JSON has no infinities: no threshold (nothing dropped, or everything) is null.
        out.put("threshold", Float.isInfinite(filter.threshold()) ? null : filter.threshold());
        out.put("kept", filter.keptPictures());
        out.put("dropped", filter.droppedPictures());
        out.put("miou_kept", finite(filter.kept().meanIou()));
        out.put("miou_dropped", finite(filter.dropped().meanIou()));
        out.put("pixel_accuracy_kept", finite(filter.keptPixelAccuracy()));
        out.put("pixel_accuracy_dropped", finite(filter.droppedPixelAccuracy()));
        return out;
    }

    /** One line: what the dropped pictures scored against the kept ones. */
    static String line(FilterScore filter) {
        if (filter.droppedPictures() == 0 || filter.keptPictures() == 0) {
            boolean keptAll = filter.droppedPictures() == 0;
            return String.format(
                    "%s %d: mIoU %.4f, pixel accuracy %.4f",
                    keptAll ? "dropped none, kept" : "kept none, dropped",
                    keptAll ? filter.keptPictures() : filter.droppedPictures(),
                    (keptAll ? filter.kept() : filter.dropped()).meanIou(),
                    keptAll ? filter.keptPixelAccuracy() : filter.droppedPixelAccuracy());
        }
        return String.format(
                "dropped %d, kept %d: mIoU %.4f dropped, %.4f kept; pixel accuracy %.4f dropped, %.4f kept",
                filter.droppedPictures(),
                filter.keptPictures(),
                filter.dropped().meanIou(),
                filter.kept().meanIou(),
                filter.droppedPixelAccuracy(),
                filter.keptPixelAccuracy());
    }

    /** JSON has no NaN: a part with no pictures is null. */
    private static Double finite(double v) {
        return Double.isNaN(v) ? null : v;
    }
}
