package dev.genaug.generator;

import dev.genaug.api.events.v1.LatentBatch;
import dev.genaug.domain.error.GenaugException;
import dev.genaug.domain.generation.Generation;
import dev.genaug.domain.jobs.ProgressReports;
import dev.genaug.service.KafkaPayloads;
import dev.genaug.service.KafkaRecords;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.annotations.Blocking;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Incoming;

/**
 * Kafka adapter: generates each LatentBatch of an unlabelled job. A batch that cannot be generated
 * fails its job with the reason on the progress topic; nothing is silently dropped.
 */
@ApplicationScoped
public class LatentBatchConsumer {
    static final String STAGE = "generator";

    @Inject
    Generation generation;

    @Inject
    @Channel("progress")
    MutinyEmitter<byte[]> progress;

    @Incoming("latents")
    @Blocking(ordered = false)
    public void onBatch(byte[] payload) {
        KafkaPayloads.parse(payload, LatentBatch.parser(), "LatentBatch").ifPresent(batch -> {
            try {
                generation.generate(batch);
            } catch (GenaugException e) {
                progress.sendMessageAndAwait(KafkaRecords.keyed(
                        batch.getJobId(),
                        ProgressReports.failed(batch.getJobId(), batch.getRange(), STAGE, e.getMessage())));
            }
        });
    }
}
