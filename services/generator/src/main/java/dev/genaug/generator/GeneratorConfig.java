package dev.genaug.generator;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** Settings of the generator service. */
@ConfigMapping(prefix = "genaug.generator")
public interface GeneratorConfig {
    /** Most latents one Generate call may carry (RESOURCE_EXHAUSTED above; GenerateStream has no cap). */
    @WithDefault("1024")
    int maxBatch();

    /** Samples per GenerateStream response when the request does not set chunk_size. */
    @WithDefault("64")
    int defaultChunk();

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

    /**
     * Runs of one model that may proceed at once (Triton's instance_group count). 0: one per core,
     * or one where ONNX Runtime's CUDA execution provider is in use.
     */
    @WithDefault("0")
    int batcherInstances();

    /** Let a batch that finds instances idle run as that many parts at once (one per instance). */
    @WithDefault("true")
    boolean batcherSplit();

    /** ONNX Runtime threads per run (0: the cores shared out among the instances, at least 1). */
    @WithDefault("0")
    int onnxThreads();

    /** Try ONNX Runtime's CUDA execution provider first (falls back to the CPU where it is missing). */
    @WithDefault("true")
    boolean onnxCuda();

    /** Let ONNX Runtime's idle threads busy-wait for the next run: lower latency, cores never shared. */
    @WithDefault("false")
    boolean onnxSpinning();

    /** host:port of a Triton server (KServe v2 over gRPC); unset: no Triton. */
    Optional<String> tritonTarget();

    /** Models served by that Triton instead of ONNX Runtime in this process; unset: none. */
    Optional<List<String>> tritonModels();

    /** Deadline of each call to Triton. */
    @WithDefault("30s")
    Duration tritonDeadline();

    /** Tries per call while Triton answers UNAVAILABLE (with doubling backoff). */
    @WithDefault("4")
    int tritonAttempts();

    /** Wait before the first retry of an UNAVAILABLE call. */
    @WithDefault("100ms")
    Duration tritonBackoff();

    /** Send inputs to Triton as FP16 instead of FP32 (half the bytes). */
    @WithDefault("false")
    boolean tritonFp16();
}
