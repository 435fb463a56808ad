package dev.genaug.labeller;

import dev.genaug.domain.inference.InferenceBackend;
import dev.genaug.domain.jobs.CancelledJobs;
import dev.genaug.domain.labelling.Labelling;
import dev.genaug.domain.repository.ModelRepository;
import dev.genaug.inference.OnnxBackend;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

/** Wires the domain code of this service. */
public class LabellerBeans {
    @Produces
    @Singleton
    Labelling labelling(ModelRepository repository, InferenceBackend backend, LabellerConfig config) {
        int threads = config.trainThreads() > 0
                ? config.trainThreads()
                : Runtime.getRuntime().availableProcessors();
        return new Labelling(repository, backend, new Labelling.Settings(config.maxLabel(), threads));
    }

    /** The generator and the labeller run here, side by side: feature maps never leave the process. */
    @Produces
    @Singleton
    InferenceBackend backend(LabellerConfig config) {
        return new OnnxBackend(new OnnxBackend.Settings(config.onnxThreads(), config.onnxCuda(), false));
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
