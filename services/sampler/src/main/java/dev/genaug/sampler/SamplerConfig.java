package dev.genaug.sampler;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** Settings of the sampler service. */
@ConfigMapping(prefix = "genaug.sampler")
public interface SamplerConfig {
    /** Most latents one Sample request may ask for (RESOURCE_EXHAUSTED above). */
    @WithDefault("100000")
    int maxCount();

    /**
     * Samples per LatentBatch when a job does not set batch_size (128: per-message costs of Kafka,
     * protobuf and the writer amortised; docs/benchmarks.md).
     */
    @WithDefault("128")
    int defaultBatchSize();

    /** Largest MaGNET pool (RESOURCE_EXHAUSTED above). */
    @WithDefault("16384")
    int maxPool();

    /** ONNX Runtime threads per run of the generator (MaGNET); 0: one per core. */
    @WithDefault("0")
    int onnxThreads();

    /** LatentBatch records in flight before the splitter waits for the broker's acknowledgements. */
    @WithDefault("64")
    int sendWindow();
}
