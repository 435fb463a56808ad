package dev.genaug.domain.sampling;

import dev.genaug.api.common.v1.Provenance;
import java.util.Map;

/** Provenance records: enough to regenerate a sample bit for bit. */
public final class Provenances {
    private Provenances() {}

    public static Provenance of(
            String model, long version, long seed, long index, String operator, Map<String, String> parameters) {
        return Provenance.newBuilder()
                .setModel(model)
                .setModelVersion(Long.toString(version))
                .setSeed(seed)
                .setSampleIndex(index)
                .setOperator(operator)
                .putAllParameters(parameters)
                .build();
    }
}
