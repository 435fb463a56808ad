package dev.genaug.gateway;

import dev.genaug.api.events.v1.DatasetJob;
import dev.genaug.api.events.v1.JobProgress;
import dev.genaug.service.KafkaRecords;
import io.smallrye.reactive.messaging.MutinyEmitter;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Duration;
import org.eclipse.microprofile.reactive.messaging.Channel;

/** What the gateway publishes: submitted jobs, and its own reports (cancellations). */
@ApplicationScoped
public class JobEvents {
    @Inject
    @Channel("jobs")
    MutinyEmitter<byte[]> jobs;

    @Inject
    @Channel("control")
    MutinyEmitter<byte[]> control;

    /** Sends a job keyed by its id and waits for the broker's acknowledgement. */
    public void enqueue(DatasetJob job, Duration timeout) {
        jobs.sendMessage(KafkaRecords.keyed(job.getJobId(), job)).await().atMost(timeout);
    }

    /** Sends a report of the gateway's own on the progress topic. */
    public void report(JobProgress progress, Duration timeout) {
        control.sendMessage(KafkaRecords.keyed(progress.getJobId(), progress))
                .await()
                .atMost(timeout);
    }
}
