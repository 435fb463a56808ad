package dev.genaug.gateway;

import dev.genaug.api.events.v1.JobProgress;
import dev.genaug.domain.jobs.CancelledJobs;
import dev.genaug.domain.jobs.JobTracker;
import dev.genaug.service.KafkaPayloads;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.reactive.messaging.Incoming;

/** Kafka adapter: folds every stage's progress report into the job tracker. */
@ApplicationScoped
public class ProgressConsumer {
    @Inject
    JobTracker tracker;

    @Inject
    CancelledJobs stops;

    @Incoming("progress")
    public void onProgress(byte[] payload) {
        KafkaPayloads.parse(payload, JobProgress.parser(), "JobProgress").ifPresent(p -> {
            stops.apply(p);
            tracker.apply(p);
        });
    }
}
