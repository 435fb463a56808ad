package dev.genaug.generator;

import dev.genaug.domain.generation.Generation;
import dev.genaug.domain.inference.DynamicBatcher;
import dev.genaug.domain.inference.InferenceBackend;
import dev.genaug.domain.inference.RoutingBackend;
import dev.genaug.domain.jobs.CancelledJobs;
import dev.genaug.domain.kserve.KserveServer;
import dev.genaug.domain.repository.ModelRepository;
import dev.genaug.inference.OnnxBackend;
import dev.genaug.inference.TritonBackend;
import dev.genaug.service.InferenceMetrics;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Wires the domain code of this service. */
public class GeneratorBeans {
    @Produces
    @Singleton
    InferenceBackend backend(GeneratorConfig config, MeterRegistry registry) {
        // On a CPU several single-threaded runs at once beat one run on every core (the reference
        // generator: 1.2 times the images/s at batch 64, docs/benchmarks.md); a GPU takes one.
        int cores = Runtime.getRuntime().availableProcessors();
        boolean cuda = config.onnxCuda() && OnnxBackend.cudaAvailable();
        int instances = config.batcherInstances() > 0 ? config.batcherInstances() : cuda ? 1 : cores;
        int threads = config.onnxThreads() > 0 ? config.onnxThreads() : Math.max(1, cores / instances);
        InferenceBackend onnx =
                new OnnxBackend(new OnnxBackend.Settings(threads, config.onnxCuda(), config.onnxSpinning()));
        Map<String, InferenceBackend> routes = new HashMap<>();
        List<String> tritonModels = config.tritonModels().orElse(List.of());
        if (!tritonModels.isEmpty()) {
            String target = config.tritonTarget()
                    .orElseThrow(() -> new IllegalStateException(
                            "genaug.generator.triton-models is set but genaug.generator.triton-target is not"));
            channel = ManagedChannelBuilder.forTarget(target)
                    .usePlaintext()
                    .maxInboundMessageSize(256 * 1024 * 1024)
                    .build();
            InferenceBackend triton = new TritonBackend(
                    channel,
                    new TritonBackend.Settings(
                            target,
                            config.tritonDeadline(),
                            config.tritonAttempts(),
                            config.tritonBackoff(),
                            config.tritonFp16()));
            tritonModels.forEach(m -> routes.put(m, triton));
        }
        return new DynamicBatcher(
                new RoutingBackend(routes, onnx),
                new DynamicBatcher.Settings(
                        config.batcherMaxRows(),
                        config.batcherMaxDelay(),
                        config.batcherMaxQueued(),
                        instances,
                        config.batcherSplit()),
                InferenceMetrics.batchSizes(registry));
    }

    private ManagedChannel channel;

    void close(@Disposes InferenceBackend backend) {
        backend.close();
        if (channel != null) {
            channel.shutdown();
        }
    }

    @Produces
    @Singleton
    KserveServer kserve(ModelRepository repository, InferenceBackend backend) {
        return new KserveServer(repository, backend);
    }

    @Produces
    @Singleton
    Generation generation(ModelRepository repository, InferenceBackend backend, GeneratorConfig config) {
        return new Generation(repository, backend, config.maxBatch(), config.defaultChunk());
    }

    @Produces
    @Singleton
    CancelledJobs cancelledJobs() {
        return new CancelledJobs(CancelledJobs.DEFAULT_CAPACITY);
    }
}
