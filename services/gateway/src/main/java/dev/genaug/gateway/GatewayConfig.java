package dev.genaug.gateway;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;

/** Settings of the gateway. */
@ConfigMapping(prefix = "genaug.gateway")
public interface GatewayConfig {
    /** Most samples one dataset job may ask for (RESOURCE_EXHAUSTED above). */
    @WithDefault("100000000")
    long maxJobCount();

    /** Most views per input in GetViews (INVALID_ARGUMENT above). */
    @WithDefault("64")
    int maxViewsPerInput();

    /** Most inputs (images or latents) in one GetViews request. */
    @WithDefault("1024")
    int maxInputs();

    /** Latents per Generate call of GetViews: a streamed batch holds as many inputs as fit. */
    @WithDefault("64")
    int viewsDecodeRows();

    /** Images per Encode call of GetViews (at most the encoder's max-images). */
    @WithDefault("256")
    int encodeChunk();

    /** Deadline of each call GetViews makes to the encoder and the generator. */
    @WithDefault("30s")
    Duration callDeadline();

    /** Folder of dataset jobs that do not name an output folder (one sub-folder per job id). */
    @WithDefault("data/jobs")
    String dataDir();

    /** Partitions of a job's output topic when the gateway has to create it. */
    @WithDefault("6")
    int outputTopicPartitions();

    /**
     * Least time between two progress reports of the dataset writer for one job (the report that
     * finishes a job is always sent). 0: a report after every batch.
     */
    @WithDefault("250ms")
    Duration progressInterval();

    /** How long SubmitJob waits for the broker to accept a job before answering UNAVAILABLE. */
    @WithDefault("10s")
    Duration enqueueTimeout();
}
