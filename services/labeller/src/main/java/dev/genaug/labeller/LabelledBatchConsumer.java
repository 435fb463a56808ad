package dev.genaug.labeller;

import dev.genaug.api.events.v1.LatentBatch;
import dev.genaug.domain.error.GenaugException;
import dev.genaug.domain.jobs.ProgressReports;
import dev.genaug.domain.labelling.Labelling;
import dev.genaug.service.KafkaPayloads;
import dev.genaug.service.KafkaRecords;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.annotations.Blocking;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Incoming;

/**
 * Kafka adapter: labels each LatentBatch of a labelled job (generating the feature maps in this
 * process, so they never cross Kafka). A batch that cannot be labelled fails its job with the
 * reason on the progress topic.
 */
@ApplicationScoped
public class LabelledBatchConsumer {
    static final String STAGE = "labeller";

    @Inject
    Labelling labelling;

    @Inject
    @Channel("progress")
    MutinyEmitter<byte[]> progress;

    @Incoming("latents-labelled")
    @Blocking(ordered = false)
    public void onBatch(byte[] payload) {
        KafkaPayloads.parse(payload, LatentBatch.parser(), "LatentBatch").ifPresent(batch -> {
            try {
                labelling.label(batch);
            } catch (GenaugException e) {
                progress.sendMessageAndAwait(KafkaRecords.keyed(
                        batch.getJobId(),
                        ProgressReports.failed(batch.getJobId(), batch.getRange(), STAGE, e.getMessage())));
            }
        });
    }
}
