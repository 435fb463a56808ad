package dev.genaug.gateway;

import dev.genaug.domain.augment.ViewRequests;
import dev.genaug.domain.jobs.DatasetJobValidator;
import dev.genaug.domain.jobs.JobTracker;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

/** Wires the domain code of this service. */
public class GatewayBeans {
    @Produces
    @Singleton
    JobTracker jobTracker() {
        return new JobTracker(System::currentTimeMillis);
    }

    @Produces
    @Singleton
    DatasetJobValidator jobValidator(GatewayConfig config) {
        return new DatasetJobValidator(config.maxJobCount());
    }

    @Produces
    @Singleton
    ViewRequests viewRequests(GatewayConfig config) {
        return new ViewRequests(config.maxViewsPerInput(), config.maxInputs());
    }
}
