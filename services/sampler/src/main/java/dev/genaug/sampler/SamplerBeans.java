package dev.genaug.sampler;

import dev.genaug.domain.inference.InferenceBackend;
import dev.genaug.domain.jobs.CancelledJobs;
import dev.genaug.domain.repository.ModelRepository;
import dev.genaug.domain.sampling.Sampling;
import dev.genaug.inference.OnnxBackend;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

/** Wires the domain code of this service. */
public class SamplerBeans {
    @Produces
    @Singleton
    Sampling sampling(ModelRepository repository, SamplerConfig config, InferenceBackend backend) {
        return new Sampling(repository, config.maxCount(), config.defaultBatchSize(), backend, config.maxPool());
    }

    /** Runs generators in this process for the operators that need them (MaGNET); sessions open on first use. */
    @Produces
    @Singleton
    InferenceBackend backend(SamplerConfig config) {
        return new OnnxBackend(new OnnxBackend.Settings(config.onnxThreads(), false, false));
    }

    void close(@Disposes InferenceBackend backend) {
        backend.close();
    }

    @Produces
    @Singleton
    CancelledJobs cancelledJobs() {
        return new CancelledJobs(CancelledJobs.DEFAULT_CAPACITY);
    }
}
