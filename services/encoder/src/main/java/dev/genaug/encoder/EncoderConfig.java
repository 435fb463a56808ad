package dev.genaug.encoder;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;

/** Settings of the encoder service. */
@ConfigMapping(prefix = "genaug.encoder")
public interface EncoderConfig {
    /** Most images one Encode request may carry (RESOURCE_EXHAUSTED above). */
    @WithDefault("256")
    int maxImages();

    /** Most rows the dynamic batcher puts into one model run. */
    @WithDefault("64")
    int batcherMaxRows();

    /**
     * How long the first request of a batch waits for others to join it. 0: run at once, batching
     * whatever queued while the previous run was busy (no latency added at low load).
     */
    @WithDefault("0ms")
    Duration batcherMaxDelay();

    /** Requests that may wait per model (besides one per instance about to run) before RESOURCE_EXHAUSTED. */
    @WithDefault("256")
    int batcherMaxQueued();

    /** Runs of one model that may proceed at once (Triton's instance_group count). */
    @WithDefault("1")
    int batcherInstances();

    /** ONNX Runtime threads per run (0: ONNX Runtime's default, one per core). */
    @WithDefault("0")
    int onnxThreads();

    /** Most generator evaluations per image of Encode's refinement (RESOURCE_EXHAUSTED above). */
    @WithDefault("2000")
    int maxRefineEvaluations();

    /** Try ONNX Runtime's CUDA execution provider first (falls back to the CPU where it is missing). */
    @WithDefault("true")
    boolean onnxCuda();

    /** Let ONNX Runtime's idle threads busy-wait for the next run: lower latency, cores never shared. */
    @WithDefault("false")
    boolean onnxSpinning();
}
