package dev.genaug.sampler;

import dev.genaug.domain.jobs.CancelledJobs;
import dev.genaug.domain.repository.ModelRepository;
import dev.genaug.domain.sampling.Sampling;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

/** Wires the domain code of this service. */
public class SamplerBeans {
    @Produces
    @Singleton
    Sampling sampling(ModelRepository repository, SamplerConfig config) {
        return new Sampling(repository, config.maxCount(), config.defaultBatchSize());
    }

    @Produces
    @Singleton
    CancelledJobs cancelledJobs() {
        return new CancelledJobs(CancelledJobs.DEFAULT_CAPACITY);
    }
}
