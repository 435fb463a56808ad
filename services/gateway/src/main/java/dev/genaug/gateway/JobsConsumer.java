package dev.genaug.gateway;

import dev.genaug.api.events.v1.DatasetJob;
import dev.genaug.domain.jobs.JobTracker;
import dev.genaug.service.KafkaPayloads;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.reactive.messaging.Incoming;

/**
 * Kafka adapter: every job on the jobs topic becomes known to this gateway, so that after a
 * restart (and for jobs other gateways accepted) WatchJob, ListJobs and CancelJob still know them;
 * their progress is folded from the progress topic, read from the start.
 */
@ApplicationScoped
public class JobsConsumer {
    @Inject
    JobTracker tracker;

    @Incoming("known-jobs")
    public void onJob(byte[] payload) {
        KafkaPayloads.parse(payload, DatasetJob.parser(), "DatasetJob")
                .filter(job -> !job.getJobId().isEmpty())
                .ifPresent(tracker::known);
    }
}
