package dev.genaug.service;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.function.ObjIntConsumer;

/** The metrics every service that runs models reports the same way. */
public final class InferenceMetrics {
    private InferenceMetrics() {}

    /** Records the rows of each model run after dynamic batching, tagged with the model. */
    public static ObjIntConsumer<String> batchSizes(MeterRegistry registry) {
        return (model, rows) -> DistributionSummary.builder("genaug.inference.batch.size")
                .description("Rows per model run after dynamic batching")
                .tag("model", model)
                .register(registry)
                .record(rows);
    }
}
