package dev.genaug.gateway;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.genaug.api.events.v1.JobProgress;
import dev.genaug.domain.jobs.JobTracker;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/** Kafka adapter: folds every stage's progress report into the job tracker. */
@ApplicationScoped
public class ProgressConsumer {
    private static final Logger LOG = Logger.getLogger(ProgressConsumer.class);

    @Inject
    JobTracker tracker;

    @Incoming("progress")
    public void onProgress(byte[] payload) {
        try {
            tracker.apply(JobProgress.parseFrom(payload));
        } catch (InvalidProtocolBufferException e) {
            LOG.errorf("dropping a record of the progress topic that is not a JobProgress: %s", e.getMessage());
        }
    }
}
