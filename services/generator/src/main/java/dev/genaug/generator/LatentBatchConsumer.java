package dev.genaug.generator;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.genaug.api.events.v1.JobProgress;
import dev.genaug.api.events.v1.JobState;
import dev.genaug.api.events.v1.LatentBatch;
import dev.genaug.domain.error.GenaugException;
import dev.genaug.domain.generation.Generation;
import dev.genaug.service.KafkaRecords;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.annotations.Blocking;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/**
 * Kafka adapter: generates each LatentBatch of an unlabelled job. A batch that cannot be generated
 * fails its job with the reason on the progress topic; nothing is silently dropped.
 */
@ApplicationScoped
public class LatentBatchConsumer {
    private static final Logger LOG = Logger.getLogger(LatentBatchConsumer.class);
    static final String STAGE = "generator";

    @Inject
    Generation generation;

    @Inject
    @Channel("progress")
    MutinyEmitter<byte[]> progress;

    @Incoming("latents")
    @Blocking(ordered = false)
    public void onBatch(byte[] payload) {
        LatentBatch batch;
        try {
            batch = LatentBatch.parseFrom(payload);
        } catch (InvalidProtocolBufferException e) {
            LOG.errorf("dropping a record of the latents topic that is not a LatentBatch: %s", e.getMessage());
            return;
        }
        try {
            generation.generate(batch);
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
