package dev.genaug.labeller;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.genaug.api.events.v1.JobProgress;
import dev.genaug.api.events.v1.JobState;
import dev.genaug.api.events.v1.LatentBatch;
import dev.genaug.domain.error.GenaugException;
import dev.genaug.domain.labelling.Labelling;
import dev.genaug.service.KafkaRecords;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.annotations.Blocking;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/**
 * Kafka adapter: labels each LatentBatch of a labelled job (generating the feature maps in this
 * process, so they never cross Kafka). A batch that cannot be labelled fails its job with the
 * reason on the progress topic.
 */
@ApplicationScoped
public class LabelledBatchConsumer {
    private static final Logger LOG = Logger.getLogger(LabelledBatchConsumer.class);
    static final String STAGE = "labeller";

    @Inject
    Labelling labelling;

    @Inject
    @Channel("progress")
    MutinyEmitter<byte[]> progress;

    @Incoming("latents-labelled")
    @Blocking(ordered = false)
    public void onBatch(byte[] payload) {
        LatentBatch batch;
        try {
            batch = LatentBatch.parseFrom(payload);
        } catch (InvalidProtocolBufferException e) {
            LOG.errorf("dropping a record of the labelled latents topic that is not a LatentBatch: %s", e.getMessage());
            return;
        }
        try {
            labelling.label(batch);
        } catch (GenaugException e) {
            JobProgress failed = JobProgress.newBuilder()
                    .setJobId(batch.getJobId())
                    .setRange(batch.getRange())
                    .setStage(STAGE)
                    .setState(JobState.JOB_STATE_FAILED)
                    .setMessage(e.getMessage())
                    .setReportedAtMs(System.currentTimeMillis())
                    .build();
            progress.sendMessageAndAwait(KafkaRecords.keyed(batch.getJobId(), failed));
        }
    }
}
