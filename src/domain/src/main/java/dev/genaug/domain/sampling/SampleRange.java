package dev.genaug.domain.sampling;

import java.util.ArrayList;
import java.util.List;

/** Global sample indices [start, start + count). */
public record SampleRange(long start, int count) {
    public SampleRange {
        if (start < 0 || count < 1) {
            throw new IllegalArgumentException("bad range start=" + start + " count=" + count);
        }
    }

    /** One past the last index. */
    public long end() {
        return start + count;
    }

    /**
     * Splits [0, total) into consecutive ranges of {@code batchSize} (the last may be shorter).
     * Batching only groups samples; it never changes them.
     */
    public static List<SampleRange> split(long total, int batchSize) {
        if (total < 1 || batchSize < 1) {
            throw new IllegalArgumentException("total and batch size must be >= 1");
        }
        List<SampleRange> ranges =
                new ArrayList<>((int) Math.min(Integer.MAX_VALUE, (total + batchSize - 1) / batchSize));
        for (long s = 0; s < total; s += batchSize) {
            ranges.add(new SampleRange(s, (int) Math.min(batchSize, total - s)));
        }
        return ranges;
    }

    /**
     * Kafka record key "{jobId}/{start}" with start zero-padded to 20 digits, so keys of one job
     * sort by sample index.
     */
    public static String recordKey(String jobId, long start) {
        return jobId + "/" + String.format("%020d", start);
    }
}
