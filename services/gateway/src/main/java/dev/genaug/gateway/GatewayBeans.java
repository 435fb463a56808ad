package dev.genaug.gateway;

import dev.genaug.domain.augment.ViewRequests;
import dev.genaug.domain.dataset.DatasetWriter;
import dev.genaug.domain.jobs.CancelledJobs;
import dev.genaug.domain.jobs.DatasetJobValidator;
import dev.genaug.domain.jobs.JobTracker;
import dev.genaug.domain.repository.ModelRepository;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.nio.file.Path;

/** Wires the domain code of this service. */
public class GatewayBeans {
    @Produces
    @Singleton
    JobTracker jobTracker() {
        return new JobTracker(System::currentTimeMillis);
    }

    @Produces
    @Singleton
    DatasetJobValidator jobValidator(GatewayConfig config, ModelRepository repository) {
        return new DatasetJobValidator(config.maxJobCount(), repository);
    }

    @Produces
    @Singleton
    ViewRequests viewRequests(GatewayConfig config, ModelRepository repository) {
        return new ViewRequests(repository, config.maxViewsPerInput(), config.maxInputs(), config.viewsDecodeRows());
    }

    @Produces
    @Singleton
    DatasetWriter datasetWriter(GatewayConfig config) {
        return new DatasetWriter(Path.of(config.dataDir()).toAbsolutePath());
    }

    @Produces
    @Singleton
    CancelledJobs cancelledJobs() {
        return new CancelledJobs(CancelledJobs.DEFAULT_CAPACITY);
    }
}
