package dev.genaug.encoder;

import dev.genaug.domain.encoding.Encoding;
import dev.genaug.domain.inference.DynamicBatcher;
import dev.genaug.domain.inference.InferenceBackend;
import dev.genaug.domain.repository.ModelRepository;
import dev.genaug.inference.OnnxBackend;
import dev.genaug.service.InferenceMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

/** Wires the domain code of this service. */
public class EncoderBeans {
    @Produces
    @Singleton
    InferenceBackend backend(EncoderConfig config, MeterRegistry registry) {
        return new DynamicBatcher(
                new OnnxBackend(
                        new OnnxBackend.Settings(config.onnxThreads(), config.onnxCuda(), config.onnxSpinning())),
                new DynamicBatcher.Settings(
                        config.batcherMaxRows(),
                        config.batcherMaxDelay(),
                        config.batcherMaxQueued(),
                        config.batcherInstances()),
                InferenceMetrics.batchSizes(registry));
    }

    void close(@Disposes InferenceBackend backend) {
        backend.close();
    }

    @Produces
    @Singleton
    Encoding encoding(ModelRepository repository, InferenceBackend backend, EncoderConfig config) {
        return new Encoding(repository, backend, config.maxImages(), config.maxRefineEvaluations());
    }
}
